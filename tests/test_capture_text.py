"""Exceptions from whatever text a watcher has: JSON logs, tracebacks, state messages, error lines."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from postmortem_scribe.capture import environment_versions, exceptions_from_text
from postmortem_scribe.capture.environment import PACKAGES
from postmortem_scribe.capture.text import ERROR_LINE_TYPE


def test_a_traceback_in_a_log_wins_over_the_error_lines_around_it() -> None:
    log = (
        "[2026-03-01, 02:00:06 UTC] {taskinstance.py:2905} ERROR - Task failed with exception\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/orders/load.py", line 37, in load_orders\n'
        "    frame = pd.read_csv(path)\n"
        "pandas.errors.ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8\n"
        "[2026-03-01, 02:00:06 UTC] {taskinstance.py:1206} INFO - Marking task as FAILED.\n"
        "[2026-03-01, 02:00:07 UTC] {local_task_job_runner.py:243} INFO - Task exited with return code 1\n"
    )
    (info,) = exceptions_from_text(log)
    assert info.type == "pandas.errors.ParserError"
    assert info.frames[0].in_app is True


def test_a_prefect_state_message_names_the_exception() -> None:
    (info,) = exceptions_from_text(
        "Finished in state Failed('Task run encountered an exception ValueError: row 3 has no customer')")
    assert (info.type, info.message, info.frames) == ("ValueError", "row 3 has no customer", [])


def test_a_qualified_exception_named_inside_a_log_line() -> None:
    (info,) = exceptions_from_text(
        "12:00:01.234 | ERROR   | Task run 'load-0' - psycopg.OperationalError: connection failed: "
        "Connection refused\n12:00:01.300 | INFO    | Task run 'load-0' - Finished in state Failed()\n")
    assert (info.type, info.message) == ("psycopg.OperationalError", "connection failed: Connection refused")


def test_a_killed_task_is_described_by_its_most_telling_error_line() -> None:
    log = (
        "[2026-03-01 00:00:00] INFO - starting\n"
        "[2026-03-01 00:00:09] ERROR - Process exited with signal 9 (SIGKILL)\n"
        "[2026-03-01 00:00:09] INFO - Task exited with return code -9\n"
        "[2026-03-01 00:00:10] INFO - Marking task as FAILED.\n"
    )
    (info,) = exceptions_from_text(log)
    assert (info.type, info.message, info.frames) == (
        ERROR_LINE_TYPE, "Process exited with signal 9 (SIGKILL)", [])


def test_a_line_that_only_says_it_failed_is_used_when_nothing_else_is() -> None:
    (info,) = exceptions_from_text("INFO - start\nINFO - Task exited with return code 137\n")
    assert (info.type, info.message) == (ERROR_LINE_TYPE, "Task exited with return code 137")


def test_json_lines_without_structured_detail_are_read_as_text() -> None:
    lines = [
        json.dumps({"timestamp": "t1", "level": "info", "event": "start"}),
        json.dumps({"timestamp": "t2", "level": "error", "event": "Disk quota exceeded for /data",
                    "logger": "task"}),
    ]
    (info,) = exceptions_from_text("\n".join(lines))
    assert info.type == ERROR_LINE_TYPE
    assert info.message.endswith("Disk quota exceeded for /data")


def test_nothing_to_report() -> None:
    assert exceptions_from_text("") == []
    assert exceptions_from_text("all rows loaded\n0 errors\n") == []
    assert exceptions_from_text(None) == []  # type: ignore[arg-type]
    assert [e.type for e in exceptions_from_text(b"ValueError: from bytes")] == ["ValueError"]  # type: ignore[arg-type]


def test_a_huge_text_is_read_from_its_end() -> None:
    text = "ValueError: not this one\n" + "INFO - noise\n" * 300_000 + "KeyError: 'the last one'\n"
    (info,) = exceptions_from_text(text)
    assert (info.type, info.message) == ("KeyError", "'the last one'")


def test_environment_versions_come_from_metadata_without_imports() -> None:
    versions = environment_versions()
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert versions["platform"]
    assert versions["postmortem-scribe"]
    for name in PACKAGES:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            assert name not in versions  # left out, not reported as missing
        else:
            assert versions[name] == installed
    assert versions["pandas"] == metadata.version("pandas")
    versions["python"] = "changed"
    assert environment_versions()["python"] != "changed"  # callers get a copy

    code = ("import sys\nfrom postmortem_scribe.capture import environment_versions\n"
            "v = environment_versions()\nassert 'pandas' in v, v\n"
            "assert 'pandas' not in sys.modules and 'pyarrow' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
