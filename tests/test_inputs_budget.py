"""Bounded work: a time or byte budget stops the scan, and the report says honestly how much
of the file was read; problems found before the stop are still reported."""

from __future__ import annotations

from pathlib import Path

from postmortem_scribe.inputs import (
    format_report_text,
    inspect_path,
    report_to_dict,
    summarize_for_draft,
)
from postmortem_scribe.inputs.budget import fmt_bytes

ROW = b"1001,customer-1,11.50,EUR\n"


def _big_csv(path: Path, mb: int, bad_line: int | None = None) -> Path:
    rows = (mb * 1_000_000) // len(ROW)
    block = ROW * 10_000
    with open(path, "wb") as fh:
        fh.write(b"order_id,customer,amount,currency\n")
        written = 0
        if bad_line is not None:
            fh.write(ROW * (bad_line - 2))
            fh.write(b"1002,customer-2,11.50,EUR,PROMO10\n")
            written = bad_line - 1
        while written + 10_000 <= rows:
            fh.write(block)
            written += 10_000
    return path


def test_byte_budget_stops_and_says_how_much_was_scanned(tmp_path: Path) -> None:
    path = _big_csv(tmp_path / "big.csv", 40, bad_line=12)
    report = inspect_path(str(path), max_bytes=5_000_000)
    assert report.complete is False
    assert report.scanned_bytes is not None and 5_000_000 <= report.scanned_bytes < 15_000_000
    text = format_report_text(report)
    assert "before reaching the limit of 5.0 MB to read" in text
    assert f"of {fmt_bytes(path.stat().st_size)}" in text
    # The problem before the stop is still there, with its line.
    ragged = [p for p in report.problems if p.code == "ragged_row"]
    assert ragged and ragged[0].line == 12
    # The row count is an estimate, and said to be one.
    assert report.row_estimate is not None and report.row_estimate > 1_000_000
    assert "about " in text
    data = report_to_dict(report)
    assert data["complete"] is False
    assert any(n.startswith("scanned ") and "%" in n for n in data["notes"])


def test_time_budget_reports_coverage(tmp_path: Path) -> None:
    path = _big_csv(tmp_path / "big.csv", 60)
    report = inspect_path(str(path), budget_seconds=0.000001)
    assert report.complete is False
    assert report.header == ["order_id", "customer", "amount", "currency"]
    lines = summarize_for_draft(report)
    note = next(line for line in lines if line.startswith("Note: Scanned "))
    assert f"of {fmt_bytes(path.stat().st_size)}" in note
    assert "budget ran out" in note and "%" in note
    assert report.scanned_bytes is not None and report.scanned_bytes < report.size_bytes


def test_no_budget_reads_everything(tmp_path: Path) -> None:
    path = _big_csv(tmp_path / "big.csv", 12)
    report = inspect_path(str(path))
    assert report.complete is True
    assert report.row_estimate == (12 * 1_000_000) // len(ROW) // 10_000 * 10_000
    assert report.problems == []
    assert "no problems found" in format_report_text(report)


def test_budget_applies_to_compressed_input(tmp_path: Path) -> None:
    import gzip

    raw = b"order_id,customer,amount,currency\n" + b"".join(
        f"{i},customer-{i},{i % 97}.50,EUR\n".encode() for i in range(400_000)
    )
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    report = inspect_path(str(path), max_bytes=200_000)
    assert report.complete is False
    assert report.compression == "gzip"
    assert "of " in " ".join(report_to_dict(report)["notes"])
    assert report.scanned_bytes is not None and report.scanned_bytes < path.stat().st_size
