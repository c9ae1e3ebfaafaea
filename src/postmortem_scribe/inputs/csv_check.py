"""Streaming diagnosis of delimited text (CSV, TSV): dialect, header, ragged rows, quoting,
encoding, line endings and sampled value types, in bounded memory.

How it stays fast: the file is read in large binary chunks that end on a line break.  A chunk
is first checked in bulk with C-speed byte operations: all bytes except the delimiter, the quote
and line breaks are deleted (``bytes.translate``), and a chunk whose reduced form is exactly
"k delimiters, newline" repeated has only well-formed rows, so it is counted without looking at
a single row in Python.  Chunks with quotes are checked with a compiled regular expression for a
well-formed row.  Only a chunk that fails these checks (a bad row, a multi-line quoted value, a
blank line) goes through the :mod:`csv` module row by row, which is where every message comes
from.  So the first rows (the sample for types) and the rows near a problem are read exactly as
``csv.reader`` reads them, and everything else is only counted.

Line numbers are physical lines (1-based) and stay right through quoted values that contain
line breaks; record numbers count data rows, not the header and not blank lines.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from postmortem_scribe.inputs import values as V
from postmortem_scribe.inputs.budget import Budget, fmt_bytes
from postmortem_scribe.inputs.collect import INVISIBLE, Findings, quote_value

CHUNK_SIZE = 4 * 1024 * 1024
MAX_LINE = 16 * 1024 * 1024
"""A physical line longer than this is not a text record; the scan stops there."""
SAMPLE_RECORDS = 1000
CANDIDATES = (",", "\t", ";", "|")
DELIM_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", ":": "colon", " ": "space"}
_POSSESSIVE = sys.version_info >= (3, 11)


def delim_name(d: str | None) -> str:
    if d is None:
        return "delimiter"
    return DELIM_NAMES.get(d, repr(d))


def delim_shown(d: str | None) -> str:
    return "tab" if d == "\t" else f"'{d}'"


class PrefixedReader:
    """A binary stream that first returns ``prefix`` and then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: Any) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0 or size >= len(self._prefix):
                out, self._prefix = self._prefix, b""
                return out
            out, self._prefix = self._prefix[:size], self._prefix[size:]
            return out
        data: bytes = self._stream.read(size)
        return data


class Chunker:
    """Hands out chunks of about ``size`` bytes that end just after a line break."""

    def __init__(self, stream: object, size: int = CHUNK_SIZE, max_line: int = MAX_LINE) -> None:
        self._stream = stream
        self._size = size
        self._max_line = max(max_line, size)
        self._carry = b""
        self._eof = False
        self.handed = 0
        self.long_line = False

    def next(self) -> bytes | None:
        while True:
            if self._eof:
                if self._carry:
                    out, self._carry = self._carry, b""
                    self.handed += len(out)
                    return out
                return None
            block = self._stream.read(self._size)  # type: ignore[attr-defined]
            if not block:
                self._eof = True
                continue
            buf = self._carry + block if self._carry else block
            cut = buf.rfind(b"\n")
            if cut < 0:
                # Classic-Mac files end lines with CR alone; a CR as the very last byte may be
                # the first half of a CRLF split by the read, so it is kept for the next chunk.
                cut = buf.rfind(b"\r", 0, len(buf) - 1)
            if cut < 0:
                if len(buf) > self._max_line:
                    self.long_line = True
                    self._carry = b""
                    self._eof = True
                    return None
                self._carry = buf
                continue
            out, self._carry = buf[: cut + 1], buf[cut + 1 :]
            self.handed += len(out)
            return out


# --------------------------------------------------------------------------------------------
# Dialect
# --------------------------------------------------------------------------------------------


@dataclass
class Dialect:
    delimiter: str
    consistent: bool
    """Whether most sampled rows had the same number of fields with this delimiter."""
    fields: int
    """The most common number of fields in the sample."""
    quoted: bool = False
    """Whether the sample uses quoted values."""


def detect_dialect(text: str, expected: str | None = None, hinted: str | None = None) -> Dialect:
    """Pick the delimiter that splits the sample rows most consistently into 2+ fields.

    Ranking: the share of rows with the most common field count; then the ``expected``
    delimiter (from an expectation); then more fields; then the delimiter the file name hints
    at (``.tsv`` -> tab); then the order of :data:`CANDIDATES`.
    """
    lines = text.splitlines(keepends=True)[:200]
    order = list(dict.fromkeys([d for d in (expected, hinted) if d] + list(CANDIDATES)))
    best: tuple[tuple[float, bool, int, bool, int], str, int] | None = None
    for index, d in enumerate(order):
        if d not in text:
            continue
        counts: list[int] = []
        try:
            for row in csv.reader(lines, delimiter=d, quotechar='"', strict=False):
                if row:
                    counts.append(len(row))
                if len(counts) >= 100:
                    break
        except csv.Error:
            continue
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        share = freq / len(counts)
        key = (round(share, 2), d == expected, mode, d == hinted, -index)
        if best is None or key > best[0]:
            best = (key, d, mode)
    if best is None:
        return Dialect(expected or hinted or ",", True, 1, quoted='"' in text)
    key, d, mode = best
    return Dialect(d, key[0] >= 0.8, mode, quoted='"' in text)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _quote_anomaly(text: str, delim: str) -> tuple[int, str] | None:
    """The first quoting anomaly in one physical line.

    Returns (field index, ``unclosed`` or ``after_quote``), or ``None``.
    """
    body = text.rstrip("\r\n")
    i, n, field_idx = 0, len(body), 0
    at_start = True
    while i < n:
        ch = body[i]
        if at_start and ch == '"':
            j = i + 1
            while True:
                k = body.find('"', j)
                if k < 0:
                    return field_idx, "unclosed"
                if body[k + 1 : k + 2] == '"':
                    j = k + 2
                    continue
                nxt = body[k + 1 : k + 2]
                if nxt and nxt != delim:
                    return field_idx, "after_quote"
                i = k + 1
                at_start = False
                break
            continue
        if ch == delim:
            field_idx += 1
            at_start = True
        else:
            at_start = False
        i += 1
    return None


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_SHAPE_TABLE = str.maketrans(
    {
        **{c: "9" for c in "0123456789"},
        **{c: "a" for c in "abcdefghijklmnopqrstuvwxyz"},
        **{c: "A" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    }
)
_RUNS = re.compile(r"(.)\1+")


def _shape(value: str) -> str:
    """``customer-12`` -> ``a-9``; ``EUR`` -> ``A``: the look of a value, for comparisons."""
    return _RUNS.sub(r"\1", value[:64].translate(_SHAPE_TABLE))


def _header_looks_like_data(row: list[str]) -> bool:
    kinds = [V.kind_of(v) for v in row if v.strip()]
    return bool(kinds) and sum(
        k in ("integer", "number", "date", "datetime") for k in kinds
    ) >= max(1, len(kinds) // 2)


# --------------------------------------------------------------------------------------------
# The scanner
# --------------------------------------------------------------------------------------------


@dataclass
class CsvResult:
    """What a scan found, beyond the problems (which go into the shared :class:`Findings`)."""

    header: list[str] | None = None
    header_line: int | None = None
    header_is_data: bool = False
    records: int = 0
    lines: int = 0
    column_types: dict[str, str] = field(default_factory=dict)
    field_counts: Counter[int] = field(default_factory=Counter)
    crlf_lines: int = 0
    lf_lines: int = 0
    cr_lines: int = 0
    sampled: int = 0
    text_bytes: int = 0
    """Bytes of text consumed so far (lines read by either path)."""
    eof: bool = False
    stopped: str | None = None


class _Feeder:
    """Physical lines, as ``str``, for ``csv.reader``; pulls the next chunk only when the reader
    needs more lines in the middle of a record (a quoted value spanning a chunk boundary)."""

    def __init__(self, scan: CsvScanner, chunker: Chunker) -> None:
        self.scan = scan
        self.chunker = chunker
        self.lines: list[bytes] = []
        self.i = 0
        self.first: bytes | None = None
        self.last: bytes | None = None
        self.head: list[bytes] = []
        """The first few lines of the current record, for excerpts of multi-line records."""

    def load(self, chunk: bytes, check: bool = True) -> None:
        if check:
            self.scan.chunk_checks(chunk)
        self.lines = chunk.splitlines(keepends=True)
        self.i = 0

    def pending(self) -> bool:
        return self.i < len(self.lines)

    def take_rest(self) -> bytes:
        rest = b"".join(self.lines[self.i :])
        self.lines, self.i = [], 0
        return rest

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> str:
        if self.i >= len(self.lines):
            if self.scan.budget.check(self.scan.progress()):
                raise StopIteration
            chunk = self.chunker.next()
            if chunk is None:
                raise StopIteration
            self.load(chunk)
        raw = self.lines[self.i]
        self.i += 1
        self.scan.res.lines += 1
        self.scan.res.text_bytes += len(raw)
        if self.first is None:
            self.first = raw
            self.head = [raw]
        elif len(self.head) < 4:
            self.head.append(raw)
        self.last = raw
        return raw.decode(self.scan.encoding, "replace")


class CsvScanner:
    """One pass over a delimited text stream (ASCII-compatible bytes in ``encoding``)."""

    def __init__(
        self,
        *,
        delimiter: str,
        encoding: str,
        findings: Findings,
        budget: Budget,
        progress: Callable[[], int],
        expected_types: dict[str, str] | None = None,
        sample_records: int = SAMPLE_RECORDS,
        fast: bool = True,
        on_header: Callable[[list[str], int, bool], None] | None = None,
    ) -> None:
        self.delim = delimiter
        self.encoding = encoding
        self.findings = findings
        self.budget = budget
        self.progress = progress
        self.expected_types = expected_types or {}
        self.sample_records = sample_records
        self.fast = fast
        self.on_header = on_header
        self.res = CsvResult()
        self.header_raw: bytes | None = None
        self._ncols = 0
        self._col_kinds: list[Counter[str]] = []
        self._shapes: list[set[str]] = []
        self._sample_done = False
        self._mismatch: Counter[str] = Counter()
        self._mismatch_first: dict[str, int] = {}
        self._type_columns: list[tuple[int, str, str]] = []
        self._fast_ready = False
        self._first_crlf: int | None = None
        self._first_lf: int | None = None
        self._first_cr: int | None = None
        self._encoding_done = False
        self._lone_cr = False
        """Whether the chunk last checked has a CR not followed by LF."""
        self._last_byte = b"\n"
        self._nul_bytes = 0
        self._hdr_from: int | None = None
        """First line checked for repeated headers at byte level (earlier ones: per row)."""
        d = delimiter.encode("latin-1") if len(delimiter) == 1 and ord(delimiter) < 128 else None
        self._dbyte = d if d not in (None, b'"', b"\r", b"\n") else None

    # ---- per-chunk byte checks (both paths) ------------------------------------------------

    def _line_of(self, chunk: bytes, pos: int) -> int:
        """Physical line number of byte ``pos`` in a chunk starting after ``res.lines`` lines."""
        before = chunk.count(b"\n", 0, pos)
        if chunk.find(b"\r", 0, pos) >= 0:
            lone = chunk.count(b"\r", 0, pos) - chunk.count(b"\r\n", 0, pos)
            before += max(lone, 0)
        return self.res.lines + before + 1

    @staticmethod
    def _line_text(chunk: bytes, pos: int) -> bytes:
        """The physical line around byte ``pos`` (lines end at LF, CRLF or a lone CR)."""
        start = max(chunk.rfind(b"\n", 0, pos), chunk.rfind(b"\r", 0, pos)) + 1
        ends = [e for e in (chunk.find(b"\n", pos), chunk.find(b"\r", pos)) if e >= 0]
        return chunk[start : min(ends) if ends else len(chunk)][:400]

    def chunk_checks(self, chunk: bytes) -> None:
        """Byte-level checks on a whole chunk: encoding, NUL bytes, a BOM or the header repeated
        mid-file, line-ending statistics.  Runs before the chunk's lines are counted."""
        f = self.findings
        # Line endings: CR-related counts here (LF-only lines are derived at the end from the
        # line total, which saves a pass over every chunk of a plain LF file).
        if chunk:
            self._last_byte = chunk[-1:]
        self._lone_cr = False
        if b"\r" in chunk:
            lf = chunk.count(b"\n")
            cr = chunk.count(b"\r")
            crlf = chunk.count(b"\r\n")
            self._lone_cr = cr != crlf
            self.res.crlf_lines += crlf
            self.res.cr_lines += cr - crlf
            if crlf and self._first_crlf is None:
                self._first_crlf = self._line_of(chunk, chunk.find(b"\r\n"))
            if lf - crlf > 0 and self._first_lf is None:
                m = re.search(rb"(?<!\r)\n", chunk)
                if m:
                    self._first_lf = self._line_of(chunk, m.start())
            if cr - crlf > 0 and self._first_cr is None:
                m = re.search(rb"\r(?!\n)", chunk)
                if m:
                    self._first_cr = self._line_of(chunk, m.start())
        elif self._first_lf is None and b"\n" in chunk:
            self._first_lf = self._line_of(chunk, chunk.find(b"\n"))
        ascii_only = chunk.isascii()
        # Encoding.
        if not ascii_only:
            self._check_encoding(chunk)
        # NUL bytes: the first one in full, then only a count (a NUL-padded file has millions).
        nuls = chunk.count(b"\x00")
        if nuls:
            if self._nul_bytes == 0:
                pos = chunk.find(b"\x00")
                line = self._line_of(chunk, pos)
                f.add(
                    "nul_bytes",
                    f"line {line:,} contains a NUL byte (0x00). Text files never contain NUL "
                    "bytes; "
                    "this usually means binary data, or a UTF-16 file read as if it were 8-bit, or "
                    "a file padded with zeros after a crash. Remove the NUL bytes.",
                    line=line,
                    excerpt_text=self._line_text(chunk, pos).decode(self.encoding, "replace"),
                )
            self._nul_bytes += nuls
        # A byte-order mark after the start: two files concatenated, or an editor's mistake.
        if self.encoding == "utf-8" and not ascii_only:
            bom = b"\xef\xbb\xbf"
            total = chunk.count(bom)
            pos = chunk.find(bom)
            seen = 0
            while pos >= 0 and (
                f.wants("bom_mid_file") or len(f.extra_lines.get("bom_mid_file", [])) < 5
            ):
                line = self._line_of(chunk, pos)
                f.add(
                    "bom_mid_file",
                    f"line {line:,} contains a byte-order mark (BOM, bytes EF BB BF) that is not "
                    "at "
                    "the start of the file: files were probably concatenated, each with its own "
                    "BOM. It is invisible in editors but becomes part of the value. Remove it.",
                    line=line,
                    excerpt_text=self._line_text(chunk, pos).decode("utf-8", "replace"),
                )
                seen += 1
                pos = chunk.find(bom, pos + 3)
            f.counts["bom_mid_file"] += total - seen
        # The header line again, in the middle of the data.
        if self.header_raw and len(self.header_raw) >= 3:
            if self._hdr_from is None:
                self._hdr_from = self.res.lines + 1
            hr = self.header_raw
            if (
                self.res.lines
                and chunk.startswith(hr)
                and chunk[len(hr) : len(hr) + 1] in (b"\r", b"\n", b"")
            ):
                self._repeated_header(chunk, 0)
            needle = b"\n" + hr
            pos = chunk.find(needle)
            while pos >= 0:
                end = pos + len(needle)
                if chunk[end : end + 1] in (b"\r", b"\n", b""):
                    self._repeated_header(chunk, pos + 1)
                pos = chunk.find(needle, end)

    def _repeated_header(
        self, chunk: bytes | None, pos: int, line: int | None = None, text: str | None = None
    ) -> None:
        if chunk is not None:
            line = self._line_of(chunk, pos)
            text = self._line_text(chunk, pos).decode(self.encoding, "replace")
        self.findings.add(
            "repeated_header",
            f"line {line:,} repeats the header row: files were probably concatenated with their "
            "headers (for example `cat a.csv b.csv`), and the repeated header is read as a data "
            "row with text in every column. Drop the repeated header lines.",
            line=line,
            excerpt_text=text,
        )

    def _check_encoding(self, chunk: bytes) -> None:
        """Report lines with bytes that are invalid in the encoding, the first few in full.

        Each line is reported once; after ``per_code`` of them the check stops (decoding the
        rest would cost a pass per error) and a summary says there may be more."""
        enc = self.encoding
        if enc == "latin-1" or self._encoding_done:
            return
        start = 0
        while True:
            try:
                chunk[start:].decode(enc) if start else chunk.decode(enc)
                return
            except UnicodeDecodeError as exc:
                pos = start + exc.start
            if not self.findings.wants("encoding"):
                self._encoding_done = True
                self.findings.add(
                    "encoding",
                    f"more lines may have bytes that are not valid {enc}; only the first "
                    f"{self.findings.per_code} are shown.",
                    summary=True,
                )
                return
            bad = chunk[pos]
            line = self._line_of(chunk, pos)
            raw_line = self._line_text(chunk, pos)
            first = not self.findings.has("encoding")
            if enc == "utf-8":
                ch = bytes([bad]).decode("cp1252", "replace")
                msg = (
                    f"line {line:,} has the byte 0x{bad:02X}, which is not valid UTF-8"
                    + (
                        " (the file reads as UTF-8 before this line). "
                        if first and line > 1
                        else ". "
                    )
                    + f"In cp1252 (Windows 'ANSI', like Latin-1 for most letters) that byte is "
                    f"{ch!r}, so this part of the file was probably saved as cp1252. Readers "
                    "expecting UTF-8 (pandas, Python's open()) fail here with UnicodeDecodeError. "
                    "Save the whole file as UTF-8."
                )
                shown = raw_line.decode("cp1252", "replace")
            else:
                msg = (
                    f"line {line:,} has the byte 0x{bad:02X}, which has no meaning in {enc}; the "
                    "file is probably in another encoding. Save it as UTF-8."
                )
                shown = raw_line.decode("latin-1")
            self.findings.add("encoding", msg, line=line, excerpt_text=shown)
            # Continue after this line: one problem per line.
            ends = [e for e in (chunk.find(b"\n", pos), chunk.find(b"\r", pos)) if e >= 0]
            if not ends:
                return
            start = min(ends) + 1

    # ---- fast path ---------------------------------------------------------------------------

    def _prepare_fast(self) -> None:
        self._fast_ready = False
        if not self.fast or self._dbyte is None or self._ncols < 1:
            return
        d = self._dbyte
        keep = set(d + b'"\r\n')
        self._delete = bytes(b for b in range(256) if b not in keep)
        k = self._ncols - 1
        self._unit = d * k + b"\n"
        self._last = d * k
        de = re.escape(d)
        if _POSSESSIVE:
            # Possessive quantifiers: no backtracking state per row, so one call can match
            # megabytes of rows.  The quoted alternative comes first: it fails at once on an
            # unquoted value, while the other order costs more on quote-heavy files.
            quoted = rb'"(?:[^"\r\n]++|"")*+"'
            fld = rb"(?:" + quoted + rb"|[^" + de + rb'"\r\n]*+)'
            all_quoted = rb'"[^"\r\n]*+"'
            many = rb"*+"
        else:  # Python 3.10: one character per step, so a failed match cannot backtrack badly.
            quoted = rb'"(?:[^"\r\n]|"")*"'
            fld = rb"(?:" + quoted + rb"|[^" + de + rb'"\r\n]*)'
            all_quoted = rb'"[^"\r\n]*"'
            many = rb"*"
        row = fld + rb"(?:" + de + fld + rb"){%d}" % k
        self._row_re = re.compile(row + rb"(?:\r?\n|\Z)")
        self._rows_re = re.compile(rb"(?:" + row + rb"\r?\n)" + many)
        # Files written with every value quoted (csv.QUOTE_ALL) match this simpler pattern.
        q_row = all_quoted + rb"(?:" + de + all_quoted + rb"){%d}" % k
        self._quoted_rows_re = re.compile(rb"(?:" + q_row + rb"\r?\n)" + many)
        self._fast_ready = True

    def _fast(self, chunk: bytes) -> bool:
        """Count ``chunk`` without parsing rows, when every line in it is a well-formed record
        with the header's number of fields.  Returns False (nothing counted) otherwise."""
        if not self._fast_ready or not chunk:
            return False
        red = chunk.translate(None, self._delete)
        if b"\r" in red:
            # Decided on the original chunk by chunk_checks (which always runs first, on this
            # chunk or the chunk it is the rest of): deleting bytes could make a lone CR look
            # like CRLF.
            if self._lone_cr:
                return False
            red = red.replace(b"\r", b"")
        nl = red.count(b"\n")
        tail = not chunk.endswith(b"\n")
        lines = nl + (1 if tail else 0)
        if self._ncols == 1 and (
            chunk.startswith((b"\n", b"\r")) or b"\n\n" in chunk or b"\n\r\n" in chunk
        ):
            return False  # blank lines look like empty one-column rows; let csv decide
        if b'"' not in red:
            expect_len = nl * len(self._unit) + (len(self._last) if tail else 0)
            if len(red) != expect_len:
                return False
            if red != self._unit * nl + (self._last if tail else b""):
                return False
        elif red.count(b'"') > lines // 4:
            if not self._rows_ok(chunk if not tail else chunk + b"\n"):
                return False
        elif not self._sparse_ok(chunk, red):
            return False
        self.res.lines += lines
        self.res.text_bytes += len(chunk)
        self.res.records += lines
        self.res.field_counts[self._ncols] += lines
        return True

    def _rows_ok(self, chunk: bytes) -> bool:
        """Whether every line of ``chunk`` (ending in a newline) is a well-formed one-line row."""
        pos, n = 0, len(chunk)
        window = 1 << 20
        while pos < n:
            end = n if pos + window >= n else chunk.rfind(b"\n", pos, pos + window) + 1
            if end <= pos:
                end = n
            m = self._quoted_rows_re.match(chunk, pos, end)
            if m is None or m.end() != end:
                m = self._rows_re.match(chunk, pos, end)
                if m is None or m.end() != end:
                    return False
            pos = end
        return True

    def _sparse_ok(self, chunk: bytes, red: bytes) -> bool:
        """For a chunk with few quotes: each line with a quote must match the row pattern (in
        the original bytes), and every other line must reduce to exactly k delimiters (checked
        in bulk on ``red``, the reduced chunk, whose lines match the chunk's one to one)."""
        pos = 0
        q = chunk.find(b'"')
        while q >= 0:
            start = max(pos, chunk.rfind(b"\n", pos, q) + 1)
            m = self._row_re.match(chunk, start)
            if m is None or m.end() <= start:
                return False
            pos = m.end()
            q = chunk.find(b'"', pos)
        parts: list[bytes] = []
        pos = 0
        q = red.find(b'"')
        while q >= 0:
            start = max(pos, red.rfind(b"\n", pos, q) + 1)
            parts.append(red[pos:start])
            end = red.find(b"\n", q)
            pos = len(red) if end < 0 else end + 1
            q = red.find(b'"', pos)
        parts.append(red[pos:])
        plain = b"".join(parts)
        nl = plain.count(b"\n")
        tail = bool(plain) and not plain.endswith(b"\n")
        return plain == self._unit * nl + (self._last if tail else b"")

    # ---- slow path ---------------------------------------------------------------------------

    def run(self, head_chunker: Chunker) -> CsvResult:
        """Scan everything the chunker gives (or until the budget stops it)."""
        chunker = head_chunker
        feeder = _Feeder(self, chunker)
        reader = csv.reader(
            feeder, delimiter=self.delim, quotechar='"', doublequote=True, strict=True
        )
        while True:
            if feeder.pending():
                status = self._slow(reader, feeder)
                if status in ("eof", "stop"):
                    break
                if status == "sample_done":
                    rest = feeder.take_rest()
                    if rest and not self._fast(rest):
                        feeder.load(rest, check=False)
                continue
            # The header and first rows are read whatever the budget: a diagnosis without them
            # would say nothing useful.
            if self.res.header is not None and self.budget.check(self.progress()):
                break
            chunk = chunker.next()
            if chunk is None:
                self.res.eof = not chunker.long_line
                break
            self.chunk_checks(chunk)
            if self._fast(chunk):
                continue
            feeder.load(chunk, check=False)
        if chunker.long_line:
            self.budget.stop("line")
            line = self.res.lines + 1
            self.findings.add(
                "long_line",
                f"line {line:,} runs on for more than {fmt_bytes(MAX_LINE)} without a line break, "
                "so "
                "this is not line-based text (binary data, or a whole file on one line); the scan "
                "stopped there.",
                line=line,
            )
        self.res.stopped = self.budget.stop_reason
        self._finish()
        return self.res

    def _slow(self, reader: object, feeder: _Feeder) -> str:
        """Parse records with ``csv.reader`` until the current chunk's lines are used up at a
        record boundary (``boundary``), the sample is complete (``sample_done``), the input
        ends (``eof``) or the budget runs out (``stop``)."""
        count = 0
        while True:
            feeder.first = None
            start = self.res.lines + 1
            try:
                row = next(reader)  # type: ignore[call-overload]
            except StopIteration:
                return "stop" if self.budget.stop_reason else "eof"
            except csv.Error as exc:
                self._csv_error(str(exc), start, feeder)
                if self.budget.stop_reason:
                    return "stop"
                if not feeder.pending():
                    return "boundary"
                continue
            self._record(row, start, feeder)
            count += 1
            if count % 2048 == 0 and self.budget.check(self.progress()):
                return "stop"
            if not feeder.pending():
                return "boundary"
            if (
                not self._sample_done
                and self.res.records >= self.sample_records
                and self._fast_ready
            ):
                self._sample_done = True
                return "sample_done"

    def _record(self, row: list[str], start: int, feeder: _Feeder) -> None:
        res = self.res
        if not row:
            self._blank(start, before_header=res.header is None)
            return
        if res.header is None:
            self._set_header(row, start, feeder.first or b"")
            return
        if (self._hdr_from is None or start < self._hdr_from) and row == res.header:
            self._repeated_header(
                None, 0, line=start, text=(feeder.first or b"").decode(self.encoding, "replace")
            )
        res.records += 1
        n = len(row)
        res.field_counts[n] += 1
        if n != self._ncols:
            if self.findings.wants("ragged_row"):
                self._ragged(row, start, feeder)
            else:
                self.findings.add("ragged_row", "", line=start)
        elif res.sampled < self.sample_records:
            self._sample(row, start, feeder)

    def _blank(self, line: int, before_header: bool) -> None:
        if before_header:
            msg = (
                f"line {line:,} is blank, before the header: the header must be the first line, or "
                "readers take the blank line as the header (or fail)."
            )
        else:
            msg = (
                f"line {line:,} is blank. pandas skips blank lines, but csv.reader returns them as "
                "empty rows and many loaders count them. Remove blank lines."
            )
        self.findings.add("blank_line", msg, line=line)

    def _set_header(self, row: list[str], line: int, raw: bytes) -> None:
        res = self.res
        res.header = row
        res.header_line = line
        self._ncols = len(row)
        self._col_kinds = [Counter() for _ in row]
        self._shapes = [set() for _ in row]
        self.header_raw = raw.rstrip(b"\r\n") if b"\n" not in raw.rstrip(b"\r\n") else None
        res.header_is_data = _header_looks_like_data(row)
        if self.on_header is not None:
            self.on_header(row, line, res.header_is_data)
        lower = {name.strip().lower(): i for i, name in enumerate(row)}
        for col, typ in self.expected_types.items():
            idx = lower.get(col.strip().lower())
            if idx is not None and typ not in ("string", "any"):
                self._type_columns.append((idx, row[idx], typ))
        self._prepare_fast()

    def _sample(self, row: list[str], line: int, feeder: _Feeder) -> None:
        res = self.res
        res.sampled += 1
        for kinds, value in zip(self._col_kinds, row, strict=False):
            kinds[V.kind_of(value)] += 1
        if res.sampled <= 200:
            for shapes, value in zip(self._shapes, row, strict=False):
                if len(shapes) <= 32:
                    shapes.add(_shape(value))
        for idx, name, typ in self._type_columns:
            value = row[idx]
            if V.matches(value, typ):
                continue
            self._mismatch[name] += 1
            if self._mismatch[name] > 3 or not self.findings.wants("type_mismatch"):
                self._mismatch_first.setdefault(name, line)
                continue
            hint = V.mismatch_hint(value, typ, self.delim)
            msg = (
                f"line {line:,} (record {res.records:,}), column '{name}': {quote_value(value)} "
                "is not "
                f"{V.describe_type(typ)}" + (f": {hint}" if hint else "") + "."
            )
            self.findings.add(
                "type_mismatch",
                msg,
                line=line,
                record=res.records,
                column=name,
                excerpt_text=(feeder.first or b"").decode(self.encoding, "replace"),
            )

    def _ragged(self, row: list[str], start: int, feeder: _Feeder) -> None:
        res = self.res
        header = res.header or []
        n, h = len(row), self._ncols
        rec = res.records
        d = self.delim
        where = f"line {start:,} (record {rec:,})"
        if res.lines > start:
            where = f"line {start:,} (record {rec:,}, running on to line {res.lines:,})"
        excerpt_text = b"".join(feeder.head).decode(self.encoding, "replace")
        column = None
        plural = "tabs" if d == "\t" else f"{delim_name(d)}s"
        if n > h:
            extra = row[h:]
            guess = self._split_guess(row) if n == h + 1 else None
            if n == h + 1 and row[-1] == "" and (guess is None or guess == n - 2):
                msg = (
                    f"{where} has {n} fields but the header has {h}: the line ends with an extra "
                    f"{delim_name(d)}. Remove the trailing {delim_shown(d)}."
                )
                column = None
            elif guess is not None and guess < n - 2:
                merged = row[guess] + d + row[guess + 1]
                column = header[guess] if guess < len(header) else None
                thousands = (
                    re.fullmatch(r"[+-]?\d{1,3}", row[guess].strip())
                    and re.fullmatch(r"\d{3}(\.\d+)?", row[guess + 1].strip())
                    and d == ","
                )
                if thousands:
                    msg = (
                        f"{where} has {n} fields but the header has {h}: the value in column "
                        f"'{column}' seems to be a number with a thousands separator "
                        f"({quote_value(merged)}), which splits it in two. Write numbers without "
                        "thousands separators (1234.50), or quote the value."
                    )
                else:
                    msg = (
                        f"{where} has {n} fields but the header has {h}: the value in column "
                        f"'{column}' seems to contain an unquoted {delim_name(d)} "
                        f"({quote_value(merged)}). Quote values that contain {plural}: "
                        f'"{quote_value(merged)[1:-1]}".'
                    )
            else:
                vals = ", ".join(quote_value(v) for v in extra[:3]) + (
                    ", ..." if len(extra) > 3 else ""
                )
                what = (
                    "the extra value is"
                    if len(extra) == 1
                    else f"the {len(extra)} extra values are"
                )
                msg = (
                    f"{where} has {n} fields but the header has {h}: {what} {vals}. "
                    f"Quote values that contain {plural}."
                )
        else:
            missing = header[n:]
            others = [c for c in CANDIDATES if c != d and c in excerpt_text]
            if n == 1 and others:
                other = others[0]
                msg = (
                    f"{where} has 1 field but the header has {h}: it uses {delim_shown(other)} "
                    f"between values where the rest of the file uses {delim_shown(d)}. Use "
                    f"{delim_shown(d)} throughout."
                )
            else:
                names = ", ".join(f"'{c}'" for c in missing[:4]) + (
                    ", ..." if len(missing) > 4 else ""
                )
                msg = (
                    f"{where} has {n} field{'s' if n != 1 else ''} but the header has {h}: no "
                    "value "
                    f"for {names}. Every line needs {h} values; leave a value empty "
                    + ("(two tabs in a row)" if d == "\t" else f"({d}{d})")
                    + " rather than leaving it out."
                )
            column = missing[0] if missing else None
        self.findings.add(
            "ragged_row", msg, line=start, record=rec, column=column, excerpt_text=excerpt_text
        )

    def _split_guess(self, row: list[str]) -> int | None:
        """Where an unquoted delimiter most likely split one value in two: the index ``i`` such
        that joining ``row[i]`` and ``row[i+1]`` makes the values fit their columns best.

        A typed column scores 1 when the value has its type (a number with a thousands
        separator counts, since that is the usual culprit); a text column with few distinct
        shapes (``customer-9``, ``AAA``) scores 0.5 when the value has a known shape.
        """
        types = self._column_types_now()
        if not types:
            return None
        d = self.delim
        scores: list[float] = []
        for i in range(len(row) - 1):
            merged = row[:i] + [row[i] + d + row[i + 1]] + row[i + 2 :]
            score = 0.0
            for col, (value, typ) in enumerate(zip(merged, types, strict=False)):
                if typ in ("integer", "number", "boolean", "date", "datetime"):
                    if V.matches(value, typ):
                        score += 1.0
                    elif typ == "number" and d == "," and _THOUSANDS.fullmatch(value.strip()):
                        score += 1.5  # a specific sign, worth more than a plain match
                elif col < len(self._shapes) and 0 < len(self._shapes[col]) <= 32:
                    if _shape(value) in self._shapes[col]:
                        score += 0.5
            if row[i + 1][:1] == " " and not row[i + 1][:2].isspace():
                score += 0.25
            scores.append(score)
        best = max(scores)
        if scores.count(best) > 1:
            return None
        best_i = scores.index(best)
        # "The last value is extra" is the default reading; another split must be clearly better.
        if best_i != len(row) - 2 and best - scores[-1] < 1.0:
            return None
        return best_i

    def _column_types_now(self) -> list[str]:
        header = self.res.header or []
        if self.expected_types:
            lower = {k.strip().lower(): v for k, v in self.expected_types.items()}
            typed = [lower.get(name.strip().lower(), "any") for name in header]
            if any(t not in ("any", "string") for t in typed):
                return typed
        if self.res.sampled >= 3:
            return [V.infer_type(dict(k)) for k in self._col_kinds]
        return []

    def _csv_error(self, message: str, start: int, feeder: _Feeder) -> None:
        res = self.res
        if res.header is not None:
            res.records += 1
        rec = res.records if res.header is not None else None
        where = f"line {start:,}" + (f" (record {rec:,})" if rec else " (the header)")
        first = (feeder.first or b"").decode(self.encoding, "replace")
        header = res.header or []
        anomaly = _quote_anomaly(first, self.delim)
        col_idx = anomaly[0] if anomaly else None
        column = header[col_idx] if col_idx is not None and col_idx < len(header) else None
        col_words = (
            f"column '{column}'"
            if column
            else (f"field {col_idx + 1}" if col_idx is not None else "a value")
        )
        if "unexpected end of data" in message and self.budget.stop_reason:
            return  # the budget ended the input mid-record; that is not the file's fault
        if "unexpected end of data" in message:
            spanned = res.lines - start + 1
            self.findings.add(
                "unclosed_quote",
                f"{where}: the quote that opens the value in {col_words} is never closed, so "
                f"everything from there to the end of the file ({spanned:,} line"
                f"{'s' if spanned != 1 else ''}) was read as one value. Close the quote; inside a "
                'quoted value write a quote as two quotes ("").',
                line=start,
                record=rec,
                column=column,
                excerpt_text=first,
            )
        elif "field larger than field limit" in message:
            self._runaway(start, rec, column, col_words, first, feeder)
        elif "expected after" in message:
            if anomaly is None and feeder.last is not None and feeder.last is not feeder.first:
                last = feeder.last.decode(self.encoding, "replace")
                excerpt_src = last
            else:
                excerpt_src = first
            self.findings.add(
                "bad_quote",
                f"{where}, {col_words}: a quoted value is followed by more text before the next "
                f"{delim_name(self.delim)}, so the quotes are unbalanced. If the value contains a "
                'quote, quote the whole value and double the inner quotes: "He said ""hi""".',
                line=start,
                record=rec,
                column=column,
                excerpt_text=excerpt_src,
            )
        elif "NUL" in message:
            if not self.findings.has("nul_bytes"):
                self.findings.add("nul_bytes", f"{where} contains a NUL byte (0x00).", line=start)
        elif "new-line character" in message:
            self.findings.add(
                "stray_cr",
                f"{where} contains a carriage return (CR) inside an unquoted value; readers treat "
                "it as a line break and split the record. Remove it or quote the value.",
                line=start,
                record=rec,
                excerpt_text=first,
            )
        else:
            self.findings.add(
                "unparseable_row",
                f"{where} could not be parsed: {message}.",
                line=start,
                record=rec,
                excerpt_text=first,
            )

    def _runaway(
        self,
        start: int,
        rec: int | None,
        column: str | None,
        col_words: str,
        first: str,
        feeder: _Feeder,
    ) -> None:
        """A quoted value passed the csv module's field limit: almost always a missing closing
        quote.  Find where the quote finally closes (or the end of the file) and resume after."""
        limit = csv.field_size_limit()
        closed_at = None
        while True:
            try:
                text = next(feeder)
            except StopIteration:
                break
            i = 0
            while True:
                j = text.find('"', i)
                if j < 0:
                    break
                if text[j + 1 : j + 2] == '"':
                    i = j + 2
                    continue
                closed_at = self.res.lines
                break
            if closed_at is not None:
                break
            if self.res.lines % 4096 == 0 and self.budget.check(self.progress()):
                break
        if closed_at is None and not self.budget.stop_reason:
            spanned = self.res.lines - start + 1
            msg = (
                f"line {start:,}"
                + (f" (record {rec:,})" if rec else "")
                + f": the quote that opens the value in {col_words} is never closed, so everything "
                f"from there to the end of the file ({spanned:,} lines) was read as one value. "
                "Close "
                'the quote; inside a quoted value write a quote as two quotes ("").'
            )
            code = "unclosed_quote"
        else:
            end = closed_at or self.res.lines
            msg = (
                f"line {start:,}"
                + (f" (record {rec:,})" if rec else "")
                + f": a quoted value in {col_words} runs on for more than {limit:,} characters, "
                f"to line {end:,}: a closing quote is probably missing, so lines {start:,}-{end:,} "
                "were read as one value. Close the quote; inside a quoted value write a quote as "
                'two quotes ("").'
            )
            code = "unclosed_quote"
        self.findings.add(code, msg, line=start, record=rec, column=column, excerpt_text=first)

    # ---- after the scan ----------------------------------------------------------------------

    def _finish(self) -> None:
        res = self.res
        f = self.findings
        header = res.header or []
        # Column types from the sample.
        if res.header is not None:
            res.column_types = {
                name: V.infer_type(dict(kinds))
                for name, kinds in zip(header, self._col_kinds, strict=False)
            }
        # More type mismatches than shown in full.
        for name, count in self._mismatch.items():
            if count > 3:
                first = self._mismatch_first.get(name)
                typ = next((t for _, n, t in self._type_columns if n == name), "any")
                f.add(
                    "type_mismatch",
                    f"column '{name}': {count:,} of the first {res.sampled:,} values are not "
                    f"{V.describe_type(typ)}"
                    + (f" (more from line {first:,})" if first else "")
                    + ".",
                    column=name,
                    summary=True,
                )
        # Most rows disagree with the header: the header is what is wrong.
        total = res.records
        if res.header is not None and total >= 3:
            common, count = res.field_counts.most_common(1)[0]
            if common != self._ncols and count / total >= 0.5:
                more = common > self._ncols
                # The rows are not individually wrong; a few examples are enough.
                ragged = [p for p in f.problems if p.code == "ragged_row"]
                for p in ragged[3:]:
                    f.problems.remove(p)
                moved = [p.line for p in ragged[3:] if p.line is not None]
                f.extra_lines["ragged_row"] = (moved + f.extra_lines.get("ragged_row", []))[:5]
                wrong = "missing column names" if more else "naming columns not in the data"
                f.problems.insert(
                    0,
                    _problem(
                        "header_field_count",
                        f"the header (line {res.header_line:,}) has {self._ncols} names but "
                        f"{count:,} of {total:,} data rows have {common} fields: the header is "
                        f"probably {wrong} (or uses a different delimiter). Make the header name "
                        "every column once.",
                        line=res.header_line,
                    ),
                )
                f.counts["header_field_count"] += 1
        if self._nul_bytes > 1:
            f.add(
                "nul_bytes",
                f"the file has {self._nul_bytes:,} NUL bytes in all (only the first is shown).",
                summary=True,
            )
        # Line endings.
        open_end = 1 if res.text_bytes and self._last_byte not in (b"\n", b"\r") else 0
        res.lf_lines = max(res.lines - res.crlf_lines - res.cr_lines - open_end, 0)
        if res.crlf_lines and res.lf_lines:
            minority_first = self._first_lf if res.lf_lines <= res.crlf_lines else self._first_crlf
            f.add(
                "mixed_line_endings",
                f"line endings are mixed: {res.crlf_lines:,} lines end with CRLF (Windows) and "
                f"{res.lf_lines:,} with LF (Unix), the minority first at line "
                f"{minority_first or 0:,}. "
                "The file was probably stitched together from files made on different systems; "
                "some tools keep a stray '\\r' at the end of the last value. Use one line ending "
                "throughout.",
                line=minority_first,
            )
        if res.cr_lines:
            if not res.lf_lines and not res.crlf_lines:
                f.add(
                    "cr_line_endings",
                    "lines end with a carriage return alone (CR, old Mac style). pandas copes, but "
                    "most line-based tools see one long line. Save with LF or CRLF line endings.",
                    line=self._first_cr,
                )
            else:
                f.add(
                    "stray_cr",
                    f"line {self._first_cr or 0:,} ends with a carriage return alone (CR) while "
                    "the "
                    "rest use LF or CRLF: readers treat the CR as a line break, so the record is "
                    "split in two. Remove the stray CR characters.",
                    line=self._first_cr,
                )
        if res.header is not None and res.records == 0 and res.eof:
            names = ", ".join(header[:6]) + (", ..." if len(header) > 6 else "")
            f.add(
                "header_only",
                f"the file has a header ({names}) but no data rows: the export or the upstream "
                "step produced no records.",
                line=res.header_line,
            )


def _problem(code: str, message: str, line: int | None = None):  # type: ignore[no-untyped-def]
    from postmortem_scribe.records import Problem

    return Problem(message=message, line=line, code=code)


def check_header(header: list[str], line: int, findings: Findings, *, delimiter: str = ",") -> None:
    """Problems in the names themselves: duplicates, blanks, surrounding spaces, invisible
    characters."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        label = f"column {i}"
        if name.strip() == "" and not any(ch in INVISIBLE for ch in name):
            hint = (
                " An unnamed first column is usually a pandas index written by to_csv(); write "
                "with index=False, or name it."
                if i == 1
                else ""
            )
            findings.add(
                "blank_column",
                f"{label} has no name in the header (line {line}); code that selects columns by "
                f"name cannot reach it, and pandas calls it 'Unnamed: {i - 1}'.{hint}",
                line=line,
                column=name,
            )
            continue
        invisible = [(j, ch) for j, ch in enumerate(name) if ch in INVISIBLE]
        if invisible:
            j, ch = invisible[0]
            clean = "".join(c for c in name if c not in INVISIBLE).strip()
            findings.add(
                "invisible_character",
                f"{label} name {quote_value(name)} contains an invisible character, "
                f"U+{ord(ch):04X} "
                f"{INVISIBLE[ch]}, at position {j + 1}: it looks like '{clean}' but does not match "
                f"'{clean}' in code. Remove it.",
                line=line,
                column=name,
            )
        elif name != name.strip():
            findings.add(
                "header_whitespace",
                f"{label} is named {quote_value(name)}, with "
                + (
                    "leading and trailing"
                    if name[:1].isspace() and name[-1:].isspace()
                    else "leading"
                    if name[:1].isspace()
                    else "trailing"
                )
                + f" spaces: code that looks up '{name.strip()}' will not find it. Remove the "
                "spaces"
                + (
                    f" (a space after each {delim_name(delimiter)} in the header does this)."
                    if name[:1] == " "
                    else "."
                ),
                line=line,
                column=name,
            )
        key = name
        if key in seen:
            findings.add(
                "duplicate_column",
                f"columns {seen[key]} and {i} are both named {quote_value(name)}: pandas renames "
                "the "
                f"second to '{name}.1' and dict-based readers keep only one. Give every column a "
                "unique name.",
                line=line,
                column=name,
            )
        else:
            seen[key] = i
