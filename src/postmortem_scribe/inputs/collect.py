"""Collecting problems with bounded memory, and making short, readable excerpts.

A broken file can have a million bad rows; a person needs the first few, described well, and a
count of the rest.  :class:`Findings` keeps the first ``per_code`` problems of each kind in full
and only counts the others, remembering a few of their line numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from postmortem_scribe.records import Problem

EXCERPT_MAX = 120

# Characters people cannot see but programs can: they make 'id' and 'id\u200b' different names.
INVISIBLE = {
    "\u00a0": "NO-BREAK SPACE",
    "\u00ad": "SOFT HYPHEN",
    "\u180e": "MONGOLIAN VOWEL SEPARATOR",
    "\u200b": "ZERO WIDTH SPACE",
    "\u200c": "ZERO WIDTH NON-JOINER",
    "\u200d": "ZERO WIDTH JOINER",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u2060": "WORD JOINER",
    "\u2007": "FIGURE SPACE",
    "\u202f": "NARROW NO-BREAK SPACE",
    "\ufeff": "BYTE ORDER MARK (BOM)",
    "\ufffd": "REPLACEMENT CHARACTER (undecodable bytes)",
}

_VISIBLE = {i: f"\\x{i:02x}" for i in range(32) if i not in (9,)}
_VISIBLE[9] = "\\t"
_VISIBLE[10] = "\\n"
_VISIBLE[13] = "\\r"
_VISIBLE[0x7F] = "\\x7f"
for _ch in INVISIBLE:
    if _ch != "\ufffd":
        _VISIBLE[ord(_ch)] = f"<U+{ord(_ch):04X}>"


def excerpt(text: str | bytes | None, limit: int = EXCERPT_MAX) -> str | None:
    """A one-line excerpt of at most ``limit`` characters; control and invisible characters are
    shown as escapes (``\\x00``, ``<U+200B>``) so that a reader sees what a program sees."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.rstrip("\r\n")
    shown = text[: limit * 2].translate(_VISIBLE)
    if len(shown) > limit or len(text) > limit * 2:
        shown = shown[: limit - 1] + "…"
    return shown


def quote_value(value: str, limit: int = 40) -> str:
    """``'PROMO10'`` with invisible characters shown and long values cut."""
    shown = value.translate(_VISIBLE)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return "'" + shown.replace("'", "\\'") + "'"


_SUMMARY = {
    "ragged_row": "more lines with the wrong number of fields",
    "type_mismatch": "more values that do not match the expected type",
    "encoding": "more lines with bytes that are not valid in the file's encoding",
    "blank_line": "more blank lines",
    "bad_quote": "more lines with misplaced quotes",
    "json_line": "more lines that are not valid JSON",
    "nul_bytes": "more lines with NUL bytes",
    "repeated_header": "more lines repeating the header",
    "missing_key": "more records missing an expected key",
}


@dataclass
class Findings:
    """Problems found so far, at most ``per_code`` in full per code."""

    per_code: int = 10
    total: int = 200
    problems: list[Problem] = field(default_factory=list)
    summaries: list[Problem] = field(default_factory=list)
    """Problems about many rows at once (shown after the row-level ones)."""
    counts: Counter[str] = field(default_factory=Counter)
    extra_lines: dict[str, list[int]] = field(default_factory=dict)

    def add(
        self,
        code: str,
        message: str,
        *,
        line: int | None = None,
        record: int | None = None,
        column: str | None = None,
        excerpt_text: str | bytes | None = None,
        summary: bool = False,
    ) -> bool:
        """Record one problem; returns False when it was only counted (over the cap).

        ``summary`` marks a problem about many rows (shown after the row-level ones, never
        capped)."""
        def problem() -> Problem:
            return Problem(message=message, line=line, record=record, column=column,
                           excerpt=excerpt(excerpt_text), code=code)

        if summary:
            self.summaries.append(problem())
            return True
        self.counts[code] += 1
        if self.counts[code] > self.per_code or len(self.problems) >= self.total:
            if line is not None:
                seen = self.extra_lines.setdefault(code, [])
                if len(seen) < 5:
                    seen.append(line)
            return False
        self.problems.append(problem())
        return True

    def wants(self, code: str) -> bool:
        """Whether a new problem of ``code`` would be kept in full (so it is worth describing)."""
        return self.counts[code] < self.per_code and len(self.problems) < self.total

    def has(self, code: str) -> bool:
        return self.counts[code] > 0

    def finish(self) -> list[Problem]:
        """The kept problems in file order (file-wide ones first, then by line), then the
        summaries, then one "... and N more" problem per code whose count went over the cap.

        Sorting makes the result independent of how the file was chunked."""
        out = sorted(self.problems, key=lambda p: (p.line is not None, p.line or 0))
        out.extend(self.summaries)
        for code, count in self.counts.items():
            kept = sum(1 for p in self.problems if p.code == code)
            more = count - kept
            if more > 0:
                what = _SUMMARY.get(code, f"more problems of the kind '{code}'")
                lines = self.extra_lines.get(code, [])
                where = ""
                if lines:
                    shown = ", ".join(f"{n:,}" for n in lines)
                    where = f" (lines {shown}{', ...' if more > len(lines) else ''})"
                out.append(Problem(message=f"... and {more:,} {what}{where}.", code=code))
        return out


PROBLEM_CATEGORY: dict[str, str] = {
    # The file is there but holds nothing to load.
    "empty": "data_missing",
    "whitespace_only": "data_missing",
    "header_only": "data_missing",
    # It parses, but values or records are not what was expected.
    "type_mismatch": "data_quality",
    "missing_key": "data_quality",
    # The file could not be opened at all.
    "unreadable": "config_env",
    # Everything else is about the format itself.
    **{
        code: "data_format"
        for code in (
            "bad_quote",
            "blank_column",
            "blank_line",
            "bom",
            "bom_mid_file",
            "column_order",
            "compression_corrupt",
            "cr_line_endings",
            "decompression_limit",
            "delimiter",
            "duplicate_column",
            "encoding",
            "encoding_mismatch",
            "extra_column",
            "header_field_count",
            "header_whitespace",
            "invisible_character",
            "json_extra_data",
            "json_line",
            "json_nan",
            "json_syntax",
            "json_too_deep",
            "json_truncated",
            "long_line",
            "missing_column",
            "mixed_line_endings",
            "no_header",
            "not_an_object",
            "not_utf8",
            "nul_bytes",
            "parquet_truncated",
            "parquet_unreadable",
            "ragged_row",
            "renamed_column",
            "repeated_header",
            "stray_cr",
            "unclosed_quote",
            "unparseable_row",
            "utf16",
            "wrong_format",
        )
    },
}
"""Every :attr:`Problem.code` this package emits, with the taxonomy label it is evidence for
(the classifier may use it; a missing file, ``exists=False``, is ``data_missing``)."""
