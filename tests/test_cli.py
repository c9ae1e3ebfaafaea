"""The ``scribe`` console script, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIBE = str(Path(sys.executable).with_name("scribe"))

TRACEBACK = """Traceback (most recent call last):
  File "/opt/airflow/dags/orders.py", line {line}, in load_orders
    df = pd.read_csv(path)
  File "/usr/lib/python3.11/site-packages/pandas/io/parsers/readers.py", line 912, in read_csv
    return _read(filepath_or_buffer, kwds)
pandas.errors.ParserError: Error tokenizing data. C error: Expected 4 fields in line {row}, saw 5
"""


def scribe(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIBE, *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_every_command_has_help() -> None:
    for command in ("report", "classify", "group", "inspect", "profile", "incidents", "show",
                    "flush", "doctor", "sync", "close"):
        done = scribe(command, "--help")
        assert done.returncode == 0, (command, done.stderr)
        assert "usage:" in done.stdout


def test_report_from_text_twice_then_list_and_show(tmp_path: Path) -> None:
    for n, (line, row) in enumerate([(40, 57), (44, 91)], 1):
        done = scribe("report", "--text-file", "-", "--pipeline", "orders", "--task", "load",
                      "--run-id", f"r{n}", stdin=TRACEBACK.format(line=line, row=row))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("opened:" if n == 1 else "commented:"), done.stdout
    listing = scribe("incidents")
    assert listing.returncode == 0
    lines = listing.stdout.strip().splitlines()
    assert len(lines) == 2 and "data_format" in lines[1] and " 2 " in lines[1]
    key = lines[1].split()[0]
    shown = scribe("show", key)
    assert shown.returncode == 0
    assert "seen        2 times" in shown.stdout and "ParserError" in shown.stdout
    as_json = json.loads(scribe("show", key, "--json").stdout)
    assert as_json["incident"]["occurrences"] == 2


def test_classify_and_group_jsonl(tmp_path: Path) -> None:
    items = [
        {"id": "a", "text": TRACEBACK.format(line=40, row=57)},
        {"id": "b", "text": TRACEBACK.format(line=52, row=1200)},
        {"id": "c", "text": "psycopg2.OperationalError: could not connect to server: Connection refused\n"
                            "\tIs the server running on host \"10.0.0.5\" and accepting TCP/IP connections on port 5432?"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    classified = [json.loads(line) for line in scribe("classify", "--jsonl", str(src)).stdout.splitlines()]
    assert [c["id"] for c in classified] == ["a", "b", "c"]
    assert {"id", "category", "confidence", "fingerprint"} <= set(classified[0])
    assert classified[0]["category"] == "data_format" and classified[2]["category"] == "connectivity"
    assert classified[0]["fingerprint"] == classified[1]["fingerprint"] != classified[2]["fingerprint"]
    grouped = [json.loads(line) for line in scribe("group", "--jsonl", str(src)).stdout.splitlines()]
    assert grouped[0]["incident"] == grouped[1]["incident"] != grouped[2]["incident"]


def test_classify_single_text() -> None:
    done = scribe("classify", "-", stdin=TRACEBACK.format(line=1, row=2))
    assert done.returncode == 0
    assert "category:    data_format" in done.stdout and "fingerprint:" in done.stdout


def test_bad_usage_is_a_clear_error_with_status_2(tmp_path: Path) -> None:
    done = scribe("report", "--text-file", str(tmp_path / "missing.txt"), "--pipeline", "p")
    assert done.returncode == 2 and "cannot read" in done.stderr and "Traceback" not in done.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "x"}\nnot json\n')
    done = scribe("classify", "--jsonl", str(bad))
    assert done.returncode == 2 and "line 2 is not JSON" in done.stderr
    done = scribe("show", "nonexistent")
    assert done.returncode == 2 and "no incident" in done.stderr
    done = scribe("report", "--pipeline", "p")
    assert done.returncode == 2 and "--text-file" in done.stderr
    assert scribe().returncode == 2


def test_malformed_config_is_reported_on_stderr(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[github\n")
    done = scribe("report", "--text-file", "-", "--pipeline", "p", stdin="ValueError: x",
                  env={"SCRIBE_CONFIG": str(cfg)})
    assert done.returncode == 0
    assert "is not valid TOML" in done.stderr


def test_doctor_on_defaults(tmp_path: Path) -> None:
    done = scribe("doctor", env={"SCRIBE_LEAD": "oncall"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[ok  ] store" in done.stdout and "[ok  ] templates" in done.stdout
    assert "local Markdown drafts" in done.stdout


def test_flush_and_close(tmp_path: Path) -> None:
    scribe("report", "--text-file", "-", "--pipeline", "p", "--run-id", "1", stdin="ValueError: x")
    key = scribe("incidents").stdout.splitlines()[1].split()[0]
    assert scribe("flush").returncode == 0
    assert "closed" in scribe("close", key).stdout
    again = scribe("report", "--text-file", "-", "--pipeline", "p", "--run-id", "2", stdin="ValueError: x")
    assert again.stdout.startswith("regression:"), again.stdout


@pytest.mark.parametrize("args", [["inspect", "--help"], ["profile", "--help"]])
def test_input_commands_are_wired(args: list[str]) -> None:
    assert scribe(*args).returncode == 0
