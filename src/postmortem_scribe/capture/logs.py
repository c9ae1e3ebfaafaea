"""Log excerpts: the tail of a task's log plus the lines around its errors, within a budget.

Cost does not depend on the size of the log.  A file is read *backwards* from its end in
blocks (16 KiB, doubling up to 256 KiB) and handed on one line at a time, newest first; a block
without any error-marker substring skips the per-line test.  Reading stops as soon as

- the tail (``tail_lines`` lines) has been read, and
- the most recent error that says *why* something failed (see :mod:`.markers`; a line that
  only says *that* it failed, "Task exited with return code 1", does not end the search) has
  been found with ``context_lines`` lines before it, and the ``Traceback`` line that starts a
  stack it belongs to has been reached;

or when :data:`SCAN_BYTES` bytes or :data:`SCAN_LINES` lines have been read.  So a 10 GB log
whose failure is at its end costs what a 16 KB one costs, and a log with no error at all costs
at most one scan window (about 0.1 s for 4 MiB).  A single line longer than :data:`MAX_LINE_BYTES` (a file with no
newlines) is cut to its end and ends the scan.

The excerpt keeps, in order of importance while ``max_lines`` lines and ``max_bytes`` bytes
last: the last line and the error lines that say why, the tail, the lines around those errors,
then the lines around errors that only say that something failed.  Lines are shown in file
order, a line ``...`` marks every gap (and the start, when the excerpt does not begin at the
start of the log).  ANSI escapes and control characters are removed, invalid UTF-8 becomes
U+FFFD, JSON log lines (Airflow 3) are rendered by
:func:`~postmortem_scribe.capture.airflow_log.json_line_to_text`, and a line longer than
:data:`MAX_LINE_CHARS` characters is cut.

Nothing here raises: a missing, unreadable or odd path gives a :class:`LogExcerpt` whose
``problem`` says, in plain words, what was wrong and what was expected.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..records import LogExcerpt
from ._util import as_text, clean_line, truncate
from .airflow_log import json_line_to_text
from .markers import GENERIC_FAILURE_LINES, is_error_line, may_have_errors

__all__ = [
    "GAP",
    "MAX_LINE_BYTES",
    "MAX_LINE_CHARS",
    "SCAN_BYTES",
    "SCAN_LINES",
    "excerpt_from_file",
    "excerpt_from_lines",
    "read_tail_text",
]

GAP = "..."
"""The line that marks left-out lines in :attr:`LogExcerpt.lines`."""
SCAN_BYTES = 4 * 1024 * 1024
"""At most this much of the end of a log is read looking for an error."""
SCAN_LINES = 50_000
"""At most this many lines are read looking for an error (a log of empty lines)."""
MAX_LINE_BYTES = 256 * 1024
"""A longer line is cut to its last part and ends the scan; its start is never read."""
MAX_LINE_CHARS = 2000
"""A line of the excerpt is cut to this many characters (fewer if ``max_bytes`` is small)."""
TRACEBACK_LOOKBACK = 2000
"""Lines read past a traceback's frames looking for its ``Traceback`` line."""
MAX_RENDERED_LINES = 120
"""Lines one JSON record may render to (an exception with its frames)."""

_FIRST_BLOCK = 16 * 1024
_MAX_BLOCK = 256 * 1024
_TB_HEADER = "Traceback (most recent call last)"


@dataclass
class _Limits:
    max_bytes: int
    tail_lines: int
    context_lines: int
    max_lines: int

    @classmethod
    def of(cls, max_bytes: Any, tail_lines: Any, context_lines: Any, max_lines: Any) -> _Limits:
        return cls(
            max_bytes=_int(max_bytes, 65536, low=256),
            tail_lines=_int(tail_lines, 60, low=1),
            context_lines=_int(context_lines, 5, low=0),
            max_lines=_int(max_lines, 400, low=3),
        )

    @property
    def line_chars(self) -> int:
        return max(80, min(MAX_LINE_CHARS, self.max_bytes // 2))


def _int(value: Any, default: int, *, low: int) -> int:
    """A usable limit from whatever the caller passed (a config value may be a string)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return max(low, number)


@dataclass
class _Scan:
    """Lines read from the end of a log, newest first, and what is known about them."""

    lines: list[str] = field(default_factory=list)
    marked: list[bool] = field(default_factory=list)
    specific: list[bool] = field(default_factory=list)
    reached_start: bool = False
    """The first line of the log was read (nothing before the excerpt was skipped)."""
    partial_oldest: bool = False
    """The oldest line read is only the end of a longer line."""


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def excerpt_from_file(
    path: str,
    *,
    max_bytes: int = 65536,
    tail_lines: int = 60,
    context_lines: int = 5,
    max_lines: int = 400,
) -> LogExcerpt:
    """An excerpt of the log file at ``path``; see the module documentation.

    ``total_bytes`` is the file's size; ``truncated`` is true when anything of the file is not
    in the excerpt.  Never raises.
    """
    source = _path_text(path)
    try:
        limits = _Limits.of(max_bytes, tail_lines, context_lines, max_lines)
        if source is None:
            return LogExcerpt(source=None, problem=(
                "no log file was given; expected the path of the task's log file"))
        problem = _path_problem(source)
        if problem is not None:
            return LogExcerpt(source=source, problem=problem)
        with open(source, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            reader = _ReverseLines(handle, size)
            scan = _scan(iter(reader), limits)
            scan.reached_start = reader.reached_start
        return _assemble(scan, limits, source=source, total_bytes=size)
    except PermissionError:
        return LogExcerpt(source=source, problem=(
            f"log file {source} cannot be read (permission denied); expected a log file this "
            "process may read"))
    except OSError as exc:
        return LogExcerpt(source=source, problem=(
            f"log file {source} cannot be read ({exc.strerror or type(exc).__name__}); "
            "expected the task's log file"))
    except Exception as exc:  # noqa: BLE001 - the failure path must go on
        return LogExcerpt(source=source, problem=(
            f"log file {source} could not be excerpted ({type(exc).__name__}); "
            "expected a text log file"))


def excerpt_from_lines(
    lines: Sequence[str],
    *,
    max_bytes: int = 65536,
    tail_lines: int = 60,
    context_lines: int = 5,
    max_lines: int = 400,
) -> LogExcerpt:
    """An excerpt of log lines already in memory (from an API, a handler, a test).

    The same selection as :func:`excerpt_from_file`; an item holding newlines (one log record
    with a traceback) counts as several lines; non-string items are converted.  ``source`` is
    ``"lines"`` and ``total_bytes`` the number of characters.  Never raises.
    """
    try:
        limits = _Limits.of(max_bytes, tail_lines, context_lines, max_lines)
        if isinstance(lines, (str, bytes)):
            lines = [as_text(lines)]
        elif not isinstance(lines, Sequence):
            lines = list(lines or ())
        reader = _MemoryLines(lines)
        scan = _scan(iter(reader), limits)
        scan.reached_start = reader.reached_start
        total = reader.total_chars()
        return _assemble(scan, limits, source="lines", total_bytes=total)
    except Exception as exc:  # noqa: BLE001
        return LogExcerpt(source="lines", problem=(
            f"the log lines could not be excerpted ({type(exc).__name__}); expected a list of "
            "text lines"))


def read_tail_text(path: str, max_bytes: int = 65536) -> str:
    """The last ``max_bytes`` bytes of a text file as clean text (ANSI removed, bad UTF-8
    replaced, a cut first line dropped); ``""`` when it cannot be read.  Seeks; never reads the
    whole file.  Never raises."""
    try:
        source = _path_text(path)
        if source is None or _path_problem(source) is not None:
            return ""
        limit = _int(max_bytes, 65536, low=1)
        with open(source, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = max(0, size - limit)
            handle.seek(start)
            data = handle.read(limit)
        text = data.decode("utf-8", "replace")
        lines = text.split("\n")
        if start > 0 and len(lines) > 1:
            lines = lines[1:]
        return "\n".join(clean_line(line) for line in lines)
    except Exception:  # noqa: BLE001
        return ""


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def _path_text(path: Any) -> str | None:
    try:
        text = os.fspath(path)
    except TypeError:
        return None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return text if isinstance(text, str) and text.strip() else None


def _path_problem(source: str) -> str | None:
    """Why ``source`` cannot be read as a log, in plain words; ``None`` if it can be tried."""
    try:
        info = os.stat(source)
    except (FileNotFoundError, NotADirectoryError):
        return f"log file {source} does not exist; expected the task's log file"
    except PermissionError:
        return (f"log file {source} cannot be read (permission denied); expected a log file "
                "this process may read")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return f"log file {source} cannot be read ({reason}); expected the task's log file"
    if stat.S_ISDIR(info.st_mode):
        return (f"log file {source} is a directory; expected the task's log file, a file inside "
                "such a directory")
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO would block the failure path until someone writes to it.
        return f"log file {source} is not a regular file; expected the task's log file"
    return None


# --------------------------------------------------------------------------------------------
# Reading lines newest first
# --------------------------------------------------------------------------------------------


class _ReverseLines:
    """Lines of a file from its end backwards, decoded, each with whether it is complete and
    whether the block it came from could hold an error line at all."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.size = size
        self.reached_start = False

    def __iter__(self) -> Iterator[tuple[str, bool, bool]]:
        handle = self.handle
        pos = self.size
        carry = b""  # the start of a line whose beginning is in an older block
        block = _FIRST_BLOCK
        read = 0
        yielded = False
        at_end = True
        while pos > 0:
            if len(carry) >= MAX_LINE_BYTES or read >= SCAN_BYTES:
                if carry and (not yielded or len(carry) >= MAX_LINE_BYTES):
                    yield carry[-MAX_LINE_BYTES:].decode("utf-8", "replace"), True, True
                return
            size = min(block, pos)
            pos -= size
            handle.seek(pos)
            chunk = handle.read(size)
            if not chunk:  # the file shrank while we read it
                pos = 0
            read += len(chunk)
            block = min(block * 2, _MAX_BLOCK)
            data = chunk + carry
            if pos > 0:
                nl = data.find(b"\n")
                if nl < 0:
                    carry = data
                    continue
                # Decode from a line start only, so no character is cut at the block edge.
                carry, data = data[:nl], data[nl + 1:]
            else:
                carry = b""
            text = data.decode("utf-8", "replace")
            hot = may_have_errors(text)
            parts = text.split("\n")
            if at_end:
                at_end = False
                if parts[-1] == "":  # the newline that ends the file
                    parts.pop()
            for line in reversed(parts):
                yielded = True
                yield line, False, hot
        self.reached_start = True


class _MemoryLines:
    """Lines of an in-memory sequence from the end backwards, records split at newlines."""

    def __init__(self, lines: Sequence[Any]) -> None:
        self.lines = lines
        self.reached_start = False

    def __iter__(self) -> Iterator[tuple[str, bool, bool]]:
        budget = SCAN_BYTES
        first = True
        for index in range(len(self.lines) - 1, -1, -1):
            text = as_text(self.lines[index])
            budget -= len(text) + 1
            parts = text.split("\n") if "\n" in text else [text]
            for part in reversed(parts):
                if first:
                    first = False
                    if not part and len(parts) > 1:
                        continue
                if len(part) > MAX_LINE_BYTES:
                    # Scanning a huge line for markers would be slow; its start is what is shown.
                    yield part[:MAX_LINE_BYTES], False, True
                else:
                    yield part, False, True
            if budget <= 0:
                return
        self.reached_start = True

    def total_chars(self) -> int | None:
        try:
            return sum(len(as_text(item)) + 1 for item in self.lines) - (1 if self.lines else 0)
        except Exception:  # noqa: BLE001
            return None


def _specific(line: str) -> bool:
    """An error line that says why (not only that) something failed."""
    return not GENERIC_FAILURE_LINES.search(line) or '"error_detail"' in line


def _looks_like_frame(line: str) -> bool:
    return 'File "' in line and '", line ' in line


def _scan(source: Iterator[tuple[str, bool, bool]], limits: _Limits) -> _Scan:
    scan = _Scan()
    lines, marked, specific = scan.lines, scan.marked, scan.specific
    tail, context = limits.tail_lines, limits.context_lines
    countdown = -1  # lines still wanted before the most recent specific error; -1: none yet
    pending = 0  # lines left to look for the Traceback line of frames already read
    count = 0
    for text, partial, hot in source:
        lines.append(text)
        count += 1
        if partial:
            scan.partial_oldest = True
        if hot and is_error_line(text):
            marked.append(True)
            why = _specific(text)
            specific.append(why)
            if why:
                countdown = context
            elif countdown > 0:
                countdown -= 1
            if _TB_HEADER in text:
                pending = 0
        else:
            marked.append(False)
            specific.append(False)
            if countdown > 0:
                countdown -= 1
            if pending:
                pending -= 1
            elif countdown >= 0 and 'File "' in text and _looks_like_frame(text):
                pending = TRACEBACK_LOOKBACK
        if count >= tail and countdown == 0 and not pending:
            break
        if count >= SCAN_LINES:
            break
    return scan


# --------------------------------------------------------------------------------------------
# Choosing and rendering lines
# --------------------------------------------------------------------------------------------


def _render(text: str, width: int) -> tuple[list[str], bool]:
    """The excerpt lines for one log line, and whether anything of it was cut."""
    clean = text if text.isascii() and text.isprintable() else clean_line(text)
    if clean[:1] == "{" and clean.rstrip().endswith("}"):
        rendered = json_line_to_text(clean)
        out = rendered.split("\n") if "\n" in rendered else [rendered]
        cut = False
        if len(out) > MAX_RENDERED_LINES:
            out = out[:MAX_RENDERED_LINES - 1] + [f"… [{len(out) - MAX_RENDERED_LINES + 1} more lines]"]
            cut = True
        for i, line in enumerate(out):
            if len(line) > width:
                out[i] = truncate(line, width)
                cut = True
        return out, cut
    if len(clean) > width:
        return [truncate(clean, width)], True
    return [clean], False


def _render_partial(text: str, width: int) -> list[str]:
    """The end of a line whose start was never read (a log without newlines)."""
    clean = clean_line(text)
    return ["…" + (clean[-width:] if len(clean) > width else clean)]


def _size(lines: list[str]) -> int:
    total = 0
    for line in lines:
        total += (len(line) if line.isascii() else len(line.encode("utf-8", "replace"))) + 1
    return total


def _ranks(scan_marked: list[bool], scan_specific: list[bool], n: int,
           limits: _Limits) -> dict[int, tuple[int, int]]:
    """Candidate lines (file order) -> (rank, order); lower ranks are kept first."""
    ranked: dict[int, tuple[int, int]] = {}
    # The tail, newest first.
    for index in range(max(0, n - limits.tail_lines), n):
        ranked[index] = (1, n - index)
    ctx = limits.context_lines
    for index in range(n):
        if not scan_marked[index]:
            continue
        why = scan_specific[index]
        if why:
            ranked[index] = (0, n - index)
        rank = 2 if why else 3
        for offset in range(-ctx, ctx + 1):
            near = index + offset
            if 0 <= near < n:
                candidate = (rank, abs(offset))
                current = ranked.get(near)
                if current is None or current > candidate:
                    ranked[near] = candidate
    ranked[n - 1] = (0, 0)
    return ranked


def _assemble(scan: _Scan, limits: _Limits, *, source: str, total_bytes: int | None) -> LogExcerpt:
    n = len(scan.lines)
    if n == 0:
        return LogExcerpt(source=source, lines=[], error_lines=[], total_bytes=total_bytes,
                          truncated=not scan.reached_start)
    # Newest first -> file order.
    lines = scan.lines[::-1]
    marked = scan.marked[::-1]
    ranked = _ranks(marked, scan.specific[::-1], n, limits)
    width = limits.line_chars
    rendered: dict[int, list[str]] = {}
    sizes: dict[int, int] = {}
    cut_any = False
    for index in ranked:
        text = lines[index]
        if index == 0 and scan.partial_oldest:
            out, cut = _render_partial(text, width), True
        elif len(text) <= width and text.isascii() and text.isprintable() and text[:1] != "{":
            out, cut = [text], False  # the common case, without a call
        else:
            out, cut = _render(text, width)
        rendered[index] = out
        sizes[index] = _size(out)
        cut_any = cut_any or cut

    chosen = set(ranked)
    if not _fits(chosen, rendered, sizes, scan.reached_start, limits):
        chosen = _choose(ranked, rendered, sizes, n, scan.reached_start, limits)

    excerpt: list[str] = []
    error_lines: list[int] = []
    previous = -1
    for index in sorted(chosen):
        if index != previous + 1 or (index == 0 and not scan.reached_start):
            excerpt.append(GAP)
        out = rendered[index]
        if marked[index]:
            if len(out) == 1 and out[0] == lines[index]:
                error_lines.append(len(excerpt))
            else:
                error_lines.extend(len(excerpt) + k for k, line in enumerate(out) if is_error_line(line))
        excerpt.extend(out)
        previous = index
    if chosen and max(chosen) != n - 1:
        excerpt.append(GAP)
    truncated = not scan.reached_start or cut_any or len(chosen) < n
    return LogExcerpt(source=source, lines=excerpt, error_lines=error_lines,
                      total_bytes=total_bytes, truncated=truncated)


def _fits(chosen: set[int], rendered: dict[int, list[str]], sizes: dict[int, int],
          reached_start: bool, limits: _Limits) -> bool:
    gaps = 0
    count = 0
    size = 0
    for index in chosen:
        if index - 1 not in chosen:
            gaps += 1
        count += len(rendered[index])
        size += sizes[index]
    if 0 in chosen and reached_start:
        gaps -= 1
    return (count + gaps <= limits.max_lines
            and size + gaps * (len(GAP) + 1) <= limits.max_bytes)


def _choose(ranked: dict[int, tuple[int, int]], rendered: dict[int, list[str]],
            sizes: dict[int, int], n: int, reached_start: bool, limits: _Limits) -> set[int]:
    """The most important candidates that fit ``max_lines`` and ``max_bytes``."""
    chosen: set[int] = set()
    used_lines = used_bytes = 0
    for _, _, index in sorted((rank, -index, index) for index, rank in ranked.items()):
        gap_delta = _gap_delta(index, chosen, n, reached_start)
        add_lines = len(rendered[index]) + gap_delta
        add_bytes = sizes[index] + gap_delta * (len(GAP) + 1)
        if used_lines + add_lines > limits.max_lines or used_bytes + add_bytes > limits.max_bytes:
            continue
        chosen.add(index)
        used_lines += add_lines
        used_bytes += add_bytes
    return chosen


def _gap_delta(index: int, chosen: set[int], n: int, reached_start: bool) -> int:
    """How many ``...`` lines adding ``index`` adds (or removes) to the excerpt."""
    before = index - 1 in chosen
    after = index + 1 in chosen
    if index == 0:
        # The excerpt's first line gets a gap before it unless it is the log's first line.
        return (0 if reached_start else 1) - (1 if after else 0)
    if before and after:
        return -1
    if before or after:
        return 0
    return 1
