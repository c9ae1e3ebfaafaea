"""Turning an :class:`InputReport` into JSON for ``scribe inspect --json``, text for the
terminal, and plain lines for the post-mortem draft's input section."""

from __future__ import annotations

from typing import Any

from postmortem_scribe.inputs.budget import coverage_sentence, fmt_bytes
from postmortem_scribe.inputs.encoding import label as enc_label
from postmortem_scribe.records import InputReport, Problem

REPORT_VERSION = 1

_FORMAT_LABEL = {
    "csv": "CSV",
    "tsv": "TSV",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
    "xlsx": "Excel workbook",
    "xls": "legacy Excel file",
    "html": "HTML page",
    "xml": "XML document",
    "lfs": "Git LFS pointer",
    "binary": "binary data",
    "gzip": "gzip",
    "zip": "zip archive",
    "pdf": "PDF",
    "text": "text",
}
_DELIM_LABEL = {
    ",": "comma-separated",
    "\t": "tab-separated",
    ";": "semicolon-separated",
    "|": "pipe-separated",
}


def notes_of(report: InputReport) -> list[str]:
    """The report's notes (things that are not problems), with a coverage sentence when the
    scan was incomplete and no note says so already."""
    notes = list(report.notes)
    if not report.complete and report.exists and not report.error:
        if not any(n.startswith("scanned ") for n in notes):
            notes.append(coverage_sentence(report.scanned_bytes, report.size_bytes))
    return notes


def _report_to_dict(report: InputReport) -> dict[str, Any]:
    problems = [
        {
            "line": p.line,
            "record": p.record,
            "column": p.column,
            "message": p.message,
            "code": p.code,
            "excerpt": p.excerpt,
        }
        for p in report.problems
    ]
    return {
        "report_version": REPORT_VERSION,
        "path": report.path,
        "exists": report.exists,
        "size_bytes": report.size_bytes,
        "format": report.format,
        "compression": report.compression,
        "encoding": report.encoding,
        "dialect": {
            "delimiter": report.delimiter,
            "quotechar": '"' if report.format in ("csv", "tsv") else None,
        },
        "header": list(report.header) if report.header is not None else None,
        "row_estimate": report.row_estimate,
        "problem_count": len(problems),
        "problems": problems,
        "expected": report.expected,
        "changes": list(report.changes),
        "notes": notes_of(report),
        "complete": report.complete,
        "scanned_bytes": report.scanned_bytes,
        "error": report.error,
    }


def _summary_line(report: InputReport) -> str:
    parts = []
    fmt = _FORMAT_LABEL.get(report.format or "", report.format or "unknown format")
    if report.compression and report.compression != report.format:
        fmt = f"{fmt} inside {_FORMAT_LABEL.get(report.compression, report.compression)}"
    parts.append(fmt)
    if report.delimiter and report.format in ("csv", "tsv"):
        parts.append(_DELIM_LABEL.get(report.delimiter, f"separated by {report.delimiter!r}"))
    if report.encoding:
        parts.append(enc_label(report.encoding))
    if report.size_bytes is not None:
        parts.append(fmt_bytes(report.size_bytes))
    if report.header is not None:
        names = ", ".join(report.header[:8]) + (", ..." if len(report.header) > 8 else "")
        parts.append(
            f"{len(report.header)} column{'s' if len(report.header) != 1 else ''} ({names})"
        )
    if report.row_estimate is not None:
        about = "" if report.complete else "about "
        unit = "records" if report.format in ("json", "jsonl") else "rows"
        parts.append(f"{about}{report.row_estimate:,} data {unit}")
    return ", ".join(parts)


def _problem_lines(p: Problem) -> list[str]:
    out = [p.message]
    if p.excerpt:
        out.append(
            f"    {p.line if p.line else '':>6} | {p.excerpt}" if p.line else f"    | {p.excerpt}"
        )
    return out


def _format_report_text(report: InputReport) -> str:
    lines = [f"{report.path}"]
    if not report.exists:
        lines.append(f"  not found: {report.error or 'the file does not exist'}")
        if report.expected:
            lines.append(f"  expected: {report.expected}")
        return "\n".join(lines) + "\n"
    if report.error:
        lines.append(f"  could not be inspected: {report.error}")
    lines.append("  " + _summary_line(report))
    if report.problems:
        n = len(report.problems)
        lines.append(f"  {n} problem{'s' if n != 1 else ''}:")
        for p in report.problems:
            first, *rest = _problem_lines(p)
            lines.append(f"  - {first}")
            lines.extend(f"  {r}" for r in rest)
    elif not report.error:
        lines.append(
            "  no problems found" + ("" if report.complete else " in the part that was scanned")
        )
    for change in report.changes:
        lines.append(f"  changed since the last successful run: {change}")
    for note in notes_of(report):
        lines.append(f"  note: {note}")
    if report.expected and (report.problems or report.error):
        lines.append(f"  expected: {report.expected}")
    return "\n".join(lines) + "\n"


def _summarize_for_draft(report: InputReport, *, max_problems: int = 8) -> list[str]:
    out: list[str] = []
    if not report.exists:
        out.append(f"Not found: {report.error or 'the file does not exist'}.")
        return out
    if report.error:
        out.append(f"Could not be inspected: {report.error}.")
    summary = _summary_line(report)
    if summary:
        out.append(f"Detected: {summary}.")
    problems = list(report.problems)
    if problems:
        n = len(problems)
        out.append(
            f"{n} problem{'s' if n != 1 else ''} found in the file:"
            if n > 1
            else "1 problem found in the file:"
        )
        for p in problems[:max_problems]:
            out.append(p.message)
            if p.excerpt:
                out.append(f"Line {p.line}: {p.excerpt}" if p.line else f"Excerpt: {p.excerpt}")
        if n > max_problems:
            out.append(
                f"... and {n - max_problems} more (run `scribe inspect {report.path}` for all)."
            )
    elif not report.error:
        out.append(
            "No problems found in the file."
            if report.complete
            else "No problems found in the part of the file that was scanned."
        )
    for note in notes_of(report):
        out.append(f"Note: {note[0].upper()}{note[1:]}.")
    return out


def report_to_dict(report: InputReport) -> dict[str, Any]:
    """A stable JSON structure for ``scribe inspect --json``.

    Keys are always present (``null`` when unknown): ``report_version``, ``path``, ``exists``,
    ``size_bytes``, ``format``, ``compression``, ``encoding``, ``dialect`` (``delimiter``,
    ``quotechar``), ``header``, ``row_estimate``, ``problem_count``, ``problems`` (each with
    ``line``, ``record``, ``column``, ``message``, ``code``, ``excerpt``), ``expected``,
    ``changes``, ``notes``, ``complete``, ``scanned_bytes``, ``error``.  Never raises.
    """
    try:
        return _report_to_dict(report)
    except Exception as exc:  # a hand-made or damaged report must still print
        return {
            "report_version": REPORT_VERSION,
            "path": str(getattr(report, "path", "")),
            "error": f"the report could not be converted ({type(exc).__name__}: {exc})",
        }


def format_report_text(report: InputReport) -> str:
    """A multi-line, human-readable report for the terminal.  Never raises."""
    try:
        return _format_report_text(report)
    except Exception as exc:
        return f"{getattr(report, 'path', '?')}\n  the report could not be shown ({exc})\n"


def summarize_for_draft(report: InputReport, *, max_problems: int = 8) -> list[str]:
    """Plain-text lines for the draft's input section, most useful first.

    The lines are: what was detected (format, delimiter, encoding, size, header, row count);
    each problem's message followed by ``Line N: <excerpt>``; notes (how much was scanned when
    a budget stopped the scan).  ``report.expected`` and ``report.changes`` are left to the
    template, which shows them on their own lines.  The renderer escapes the lines for
    Markdown and the scrubber cleans the excerpts.  Never raises.
    """
    try:
        return _summarize_for_draft(report, max_problems=max_problems)
    except Exception as exc:
        return [f"The input report could not be summarised ({type(exc).__name__}: {exc})."]
