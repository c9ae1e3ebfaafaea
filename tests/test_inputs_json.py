"""JSON documents and JSON Lines: syntax errors named by line and column, records checked
against the expected keys and types, large arrays streamed."""

from __future__ import annotations

import json
from pathlib import Path

from postmortem_scribe.inputs import Expectation, inspect_path


def _codes(report):  # type: ignore[no-untyped-def]
    return [(p.code, p.line, p.record, p.column) for p in report.problems]


def test_large_array_is_streamed_and_the_bad_record_named(tmp_path: Path) -> None:
    records = [json.dumps({"id": i, "amount": i / 4, "note": "x" * 40}) for i in range(120_000)]
    records[119_000] = '{"id": 119000, "amount": 1.5 "note": "missing comma"}'
    path = tmp_path / "orders.json"
    path.write_text("[\n" + ",\n".join(records) + "\n]\n")
    assert path.stat().st_size > 8 * 1024 * 1024  # more than one read block
    report = inspect_path(str(path))
    (problem,) = report.problems
    assert (problem.code, problem.line, problem.record) == ("json_syntax", 119_002, 119_001)
    assert "a comma is missing" in problem.message
    assert problem.message.startswith("line 119,002, column 30 (in record 119,001):")


def test_clean_large_array_counts_records(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([{"id": i, "amount": 1.5} for i in range(200_000)]))
    report = inspect_path(
        str(path), expect=Expectation(columns=["id", "amount"], types={"amount": "number"})
    )
    assert report.problems == []
    assert report.row_estimate == 200_000 and report.complete
    assert report.header == ["id", "amount"]


def test_wrapped_records_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        '{"meta": {"n": 2}, "data": [{"id": 1, "amount": NaN}, {"id": "two", "amount": 2}]}'
    )
    report = inspect_path(
        str(path), expect=Expectation(columns=["id", "amount"], types={"id": "integer"})
    )
    codes = _codes(report)
    assert ("json_nan", 1, None, None) in codes
    assert ("type_mismatch", None, 2, "id") in codes
    assert report.row_estimate == 2


def test_jsonl_keys_blank_lines_and_not_objects(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1, "kind": "a"}\n\n{"id": 2}\n[1, 2]\n{"id": "3", "kind": "c"}\n')
    report = inspect_path(
        str(path), expect=Expectation(columns=["id", "kind"], types={"id": "integer"})
    )
    codes = _codes(report)
    assert ("blank_line", 2, None, None) in codes
    assert ("missing_key", 3, 2, "kind") in codes
    assert ("not_an_object", 4, 3, None) in codes
    assert ("type_mismatch", 5, 4, "id") in codes
    mismatch = next(p for p in report.problems if p.code == "type_mismatch")
    assert "a number written as a string" in mismatch.message


def test_key_missing_everywhere_is_said_once(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(50)))
    report = inspect_path(str(path), expect=Expectation(columns=["id", "kind"]))
    assert [(p.code, p.column) for p in report.problems] == [("missing_column", "kind")]
    assert "key 'kind' is missing" in report.problems[0].message


def test_utf16_json_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_bytes('{"name": "Jos\u00e9"}'.encode("utf-16"))
    report = inspect_path(str(path))
    assert report.format == "json" and report.encoding == "utf-16-le"
    assert [p.code for p in report.problems] == ["utf16"]
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}')
    report = inspect_path(str(bom))
    assert [p.code for p in report.problems] == ["bom"]


def test_comments_and_truncated_object(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  // the port\n  "port": 8080\n}\n')
    (problem,) = inspect_path(str(path)).problems
    assert problem.line == 2 and "comments" in problem.message
    path.write_text('{\n  "a": {\n    "b": [1, 2\n')
    (problem,) = inspect_path(str(path)).problems
    assert problem.code == "json_truncated" and "truncated" in problem.message
