"""Never raise, whatever the bytes; and the fast path, the chunking and the slow path agree.

The scanner counts clean chunks in bulk and parses only irregular ones row by row.  These
properties check that the bulk path never changes a diagnosis: any chunk size, with or without
the fast path, gives the same problems on the same lines.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postmortem_scribe.inputs import (
    format_report_text,
    inspect_path,
    report_to_dict,
    summarize_for_draft,
)
from postmortem_scribe.inputs.budget import Budget
from postmortem_scribe.inputs.collect import Findings
from postmortem_scribe.inputs.core import inspect_path_extras
from postmortem_scribe.inputs.json_check import check_json

NAMES = [
    "data.csv",
    "data.tsv",
    "data.json",
    "data.jsonl",
    "data.parquet",
    "data.csv.gz",
    "data.zip",
    "data",
    "data.xlsx",
]
# SCRIBE_FUZZ_EXAMPLES=2000 for a longer run; the default keeps `make test` quick.
SETTINGS = settings(
    max_examples=int(os.environ.get("SCRIBE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Magic prefixes make random bytes reach the decompressors and format checkers too.
PREFIXES = [
    b"",
    b"\x1f\x8b\x08\x00",
    b"PK\x03\x04",
    b"PAR1",
    b"BZh91AY&SY",
    b"\xfd7zXZ\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"{",
    b"[",
    b"id,name\n",
    b"<html>",
    b"version https://git-lfs.github.com/spec/v1\n",
]


@SETTINGS
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=3000), name=st.sampled_from(NAMES))
def test_never_raises_on_random_bytes(
    tmp_path: Path, prefix: bytes, body: bytes, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(prefix + body)
    report = inspect_path(str(path), budget_seconds=5)
    # An error may say why a file cannot be read (a zstd file without a decompressor); it is
    # never the inspection itself failing.
    assert "the inspection itself failed" not in (report.error or ""), report.error
    json.dumps(report_to_dict(report))
    assert isinstance(format_report_text(report), str)
    assert all(isinstance(line, str) for line in summarize_for_draft(report))
    for p in report.problems:
        assert p.message and (p.excerpt is None or len(p.excerpt) <= 120)


# Bytes, not text: invalid UTF-8 (a lone 0xE9), NUL and BOM bytes are part of the alphabet.
CSV_PIECES = st.sampled_from(
    [
        b"a",
        b"b",
        b",",
        b",",
        b'"',
        b'"',
        b"\n",
        b"\n",
        b"\r",
        b" ",
        b"1",
        b";",
        b"\t",
        b"\xc3\xa9",
        b"\xe9",
        b"\x00",
        b"\xef\xbb\xbf",
    ]
)


def _diagnosis(path: Path, **kw):  # type: ignore[no-untyped-def]
    report, _ = inspect_path_extras(str(path), **kw)
    return (
        [(p.code, p.line, p.record, p.column, p.message) for p in report.problems],
        report.row_estimate,
        report.header,
    )


@SETTINGS
@given(pieces=st.lists(CSV_PIECES, max_size=300), repeat=st.integers(1, 30))
def test_fast_path_and_chunking_do_not_change_the_diagnosis(
    tmp_path: Path, pieces: list[bytes], repeat: int
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,name,note\n" + b"".join(pieces) * repeat)
    baseline = _diagnosis(path, fast=False, chunk_size=1 << 20)
    for chunk_size in (64, 997, 1 << 16):
        assert _diagnosis(path, fast=True, chunk_size=chunk_size) == baseline, chunk_size
        assert _diagnosis(path, fast=False, chunk_size=chunk_size) == baseline, chunk_size


VALUE = st.text(st.sampled_from(list('abc ,"\n') + ["\u00e9"]), max_size=8)


@SETTINGS
@given(
    rows=st.lists(st.lists(VALUE, min_size=3, max_size=3), min_size=1, max_size=40),
    bad=st.integers(0, 39),
    data=st.data(),
)
def test_valid_csv_is_clean_and_one_bad_row_is_found_on_its_line(
    tmp_path: Path, rows: list[list[str]], bad: int, data: st.DataObject
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    path = tmp_path / "ok.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    report = inspect_path(str(path))
    structural = {"ragged_row", "unclosed_quote", "bad_quote", "blank_line", "header_only"}
    assert not [p for p in report.problems if p.code in structural], report.problems
    assert report.row_estimate == len(rows)
    # Add one field to one row: exactly that record is reported, on its physical line.
    bad = bad % len(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    line = 2
    for i, r in enumerate(rows):
        if i == bad:
            expected_line = line
            writer.writerow(r + ["EXTRA"])
        else:
            writer.writerow(r)
        line = buf.getvalue().count("\n") + 1
    path.write_text(buf.getvalue(), encoding="utf-8")
    report = inspect_path(str(path))
    ragged = [p for p in report.problems if p.code == "ragged_row"]
    assert [(p.line, p.record) for p in ragged] == [(expected_line, bad + 1)]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=15,
)


@SETTINGS
@given(value=JSON_VALUES, cut=st.integers(0, 200), indent=st.sampled_from([None, 1]))
def test_streaming_json_checks_agree_with_the_json_module(
    value: object, cut: int, indent: int | None
) -> None:
    text = json.dumps(value, indent=indent)
    broken = text[:cut] + text[cut + 1 :] if cut < len(text) else text
    error_line = None
    try:
        json.loads(broken)
        valid = True
    except json.JSONDecodeError as exc:
        valid = False
        error_line = exc.lineno
    # The token-by-token path (with tiny blocks, so tokens straddle block ends) and the
    # whole-document path; arrays are always streamed element by element.
    for whole_limit, block in ((0, 7), (0, 1 << 20), (1 << 20, 5), (1 << 20, 1 << 20)):
        findings = Findings()
        check_json(
            io.BytesIO(broken.encode()),
            findings=findings,
            budget=Budget(),
            progress=lambda: 0,
            whole_limit=whole_limit,
            block=block,
        )
        syntax = [
            p for p in findings.problems if p.code.startswith("json_") and p.code != "json_nan"
        ]
        empty = [p for p in findings.problems if p.code == "empty"]
        assert bool(syntax or empty) == (not valid), (broken, findings.problems)
        if syntax:
            # The streaming paths name the same line as the json module.
            assert syntax[0].line == error_line, (broken, syntax[0], error_line)
