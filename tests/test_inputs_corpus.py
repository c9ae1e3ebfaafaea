"""Every tricky file in the corpus gets the diagnosis a person needs: the right problem, on the
right line, record and column, in words that say what is wrong and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from input_corpus import CASES, Case

from postmortem_scribe.inputs import Expectation, inspect_path, report_to_dict, summarize_for_draft


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diagnosis(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    expect = Expectation(**case.expect) if case.expect else None
    report = inspect_path(str(path), expect=expect)
    shown = "\n".join(
        f"{p.code} line={p.line} record={p.record} column={p.column!r}: {p.message}"
        for p in report.problems
    )
    assert report.error is None, report.error
    for attr, value in case.report.items():
        assert getattr(report, attr) == value, f"{attr}: {getattr(report, attr)!r}\n{shown}"
    for want in case.problems:
        matches = [
            p
            for p in report.problems
            if p.code == want.code
            and (want.line is None or p.line == want.line)
            and (want.record is None or p.record == want.record)
            and (want.column is None or p.column == want.column)
        ]
        where = f"line {want.line} record {want.record} column {want.column!r}"
        assert matches, f"no {want.code} at {where}:\n{shown}"
        message = matches[0].message
        for words in want.contains:
            assert words in message, f"{words!r} not in {message!r}"
    for code in case.absent:
        assert all(p.code != code for p in report.problems), shown
    # Every problem is a sentence a person can act on, with a short excerpt at most.
    for p in report.problems:
        assert p.message and p.message[0].isalnum() or p.message.startswith(("'", ".")), p.message
        assert p.excerpt is None or len(p.excerpt) <= 120
    # The JSON form and the draft lines are always producible.
    data = report_to_dict(report)
    assert data["problem_count"] == len(report.problems)
    assert summarize_for_draft(report)
