"""``scribe inspect`` and ``scribe profile``: exit statuses, text and the --json structure."""

from __future__ import annotations

import io
import json
from pathlib import Path

from postmortem_scribe.inputs import cli_inspect, cli_profile

GOOD = "order_id,customer,amount,currency\n1,ACME,19.90,EUR\n2,Initech,5.00,USD\n"
BAD = GOOD + "3,Umbrella,7.50,EUR,PROMO10\n"


def run(fn, argv):  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    code = fn(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_clean_file_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(GOOD)
    code, out, _ = run(cli_inspect, [str(path)])
    assert code == 0
    assert "no problems found" in out
    assert "4 columns (order_id, customer, amount, currency), 2 data rows" in out


def test_problems_exit_1_with_line_record_and_excerpt(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(BAD)
    code, out, _ = run(cli_inspect, [str(path)])
    assert code == 1
    assert (
        "line 4 (record 3) has 5 fields but the header has 4: the extra value is 'PROMO10'" in out
    )
    assert "4 | 3,Umbrella,7.50,EUR,PROMO10" in out
    assert "expected: CSV text in UTF-8" in out


def test_json_structure(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(BAD)
    code, out, _ = run(cli_inspect, [str(path), "--json"])
    assert code == 1
    data = json.loads(out)
    for key in (
        "report_version",
        "path",
        "exists",
        "size_bytes",
        "format",
        "compression",
        "encoding",
        "dialect",
        "header",
        "row_estimate",
        "problem_count",
        "problems",
        "expected",
        "changes",
        "notes",
        "complete",
        "scanned_bytes",
        "error",
    ):
        assert key in data, key
    assert data["format"] == "csv"
    assert data["encoding"] == "utf-8"
    assert data["dialect"] == {"delimiter": ",", "quotechar": '"'}
    assert data["header"] == ["order_id", "customer", "amount", "currency"]
    assert data["row_estimate"] == 3
    assert data["complete"] is True
    (problem,) = data["problems"]
    assert set(problem) == {"line", "record", "column", "message", "code", "excerpt"}
    assert (problem["line"], problem["record"], problem["code"]) == (4, 3, "ragged_row")


def test_expect_columns_with_types(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer,amount\n1,ACME,twelve\n")
    code, out, _ = run(
        cli_inspect,
        [
            str(path),
            "--expect-columns",
            "order_id:integer,customer,amount:number,currency",
            "--json",
        ],
    )
    assert code == 1
    codes = {(p["code"], p["column"]) for p in json.loads(out)["problems"]}
    assert ("missing_column", "currency") in codes
    assert ("type_mismatch", "amount") in codes


def test_schema_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(GOOD)
    schema = tmp_path / "orders.schema.json"
    schema.write_text(
        json.dumps(
            {
                "fields": [
                    {"name": "order_id", "type": "integer"},
                    {"name": "customer_id", "type": "string"},
                ]
            }
        )
    )
    code, out, _ = run(cli_inspect, [str(path), "--schema", str(schema)])
    assert code == 1
    assert "'customer_id' is missing" in out
    assert f"schema file {schema}" in out


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, out, _ = run(cli_inspect, [str(tmp_path / "nope.csv")])
    assert code == 2
    assert "no such file" in out


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    code, _, err = run(cli_inspect, ["--no-such-option"])
    assert code == 2
    assert "usage:" in err
    code, _, err = run(cli_inspect, [])
    assert code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    path = tmp_path / "orders.csv"
    path.write_text(GOOD)
    code, _, err = run(cli_inspect, [str(path), "--schema", str(broken)])
    assert code == 2 and "not valid JSON" in err
    code, _, err = run(cli_inspect, [str(path), "--expect-columns", "a:notatype"])
    assert code == 2 and "unknown type" in err


def test_help(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli_inspect(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: scribe inspect" in out and "--expect-columns" in out and "Exit status" in out
    assert cli_profile(["--help"]) == 0
    assert "usage: scribe profile" in capsys.readouterr().out


def test_profile(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(GOOD)
    code, out, _ = run(cli_profile, [str(path), "--json"])
    assert code == 0
    prof = json.loads(out)
    assert prof["header"] == ["order_id", "customer", "amount", "currency"]
    assert prof["column_types"] == {
        "order_id": "integer",
        "customer": "string",
        "amount": "number",
        "currency": "string",
    }
    assert prof["delimiter"] == "," and prof["encoding"] == "utf-8" and prof["row_estimate"] == 2
    code, out, _ = run(cli_profile, [str(path), "--no-store"])
    assert code == 0 and "amount: number" in out
    code, _, _ = run(cli_profile, [str(tmp_path / "missing.csv")])
    assert code == 2
