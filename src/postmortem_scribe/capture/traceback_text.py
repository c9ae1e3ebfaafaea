"""Python tracebacks parsed back from text: a log, an error message, a state message.

Out-of-process watchers only ever see text, so this parser has to give the same records that
:func:`~postmortem_scribe.capture.exception_chain` gives for the live exception: the chain root
cause first, ``relation`` from the "direct cause" / "during handling" banners, frames with the
source line, the final ``Type: message`` line (qualified types, multi-line messages, notes,
exceptions without a message), and exception groups in CPython's box format, with the same
bounds and the same ordering rules for group members (see :mod:`.exceptions`).

It copes with what logs do to tracebacks:

- a log prefix before the ``Traceback`` line, either only on that line (the whole traceback is
  one log record) or on every line (``12:00:00.000 | ERROR | Task run 'x' - ``): the prefix's
  shape, with digits generalised, is stripped wherever it appears;
- ANSI colours and carriage returns;
- the ``^^^^`` / ``~~~`` position markers of Python 3.11+, ``...<N lines>...`` of 3.13 and
  ``[Previous line repeated N more times]`` (kept as a placeholder frame);
- a ``...`` gap line left by a log excerpt (kept as a placeholder frame);
- text cut off before the exception line (the frames are kept; the type is ``Error``).

When the text holds several unrelated tracebacks the last one is returned: in a task log, the
last traceback is the one that failed the task.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..records import ExceptionInfo, Frame
from ._util import MAX_MESSAGE_CHARS, MAX_SOURCE_CHARS, clean_line, truncate
from .exceptions import MAX_CHAIN, MAX_GROUP_DEPTH, MAX_GROUP_MEMBERS, MAX_TOTAL, SYNTAX_ERROR_FUNCTION
from .frames import cap_frames, is_in_app, module_from_filename, placeholder_frame

__all__ = ["TRUNCATED_TYPE", "parse_traceback"]

TRUNCATED_TYPE = "Error"
"""Type given to a traceback whose text ends before its ``Type: message`` line."""

MAX_TEXT_CHARS = 2_000_000
"""Only the end of a longer text is parsed; the failing traceback is at the end of a log."""
MAX_TRACEBACK_LINES = 20_000
MAX_MESSAGE_LINES = 200

_TB_TEXT = "Traceback (most recent call last):"
_HEADER = re.compile(r"(?:Exception Group )?Traceback \(most recent call last\):\s*$")
_FRAME = re.compile(r'^(?P<indent>\s*)File "(?P<file>.+?)", line (?P<line>\d+)(?:, in (?P<func>.+?))?\s*$')
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"
_REPEATED = re.compile(r"^\s*\[Previous line repeated (?P<n>\d+) more times?\]\s*$")
_CARET = re.compile(r"^\s*[~^]+[\s~^]*$")
_ELLIDED_SOURCE = re.compile(r"^\s*\.\.\.<\d+ lines?>\.\.\.\s*$")
_EXC_LINE = re.compile(
    r"^(?P<type>[A-Za-z_]\w*(?:\.(?:<locals>|[A-Za-z_]\w*))*)(?::\s?(?P<msg>.*?))?\s*$"
)
# A new log record starts: a timestamp, a level word ("INFO - ", "WARNING:root:"), or a JSON
# object.  Ends a multi-line message.
_LOG_RECORD = re.compile(
    r"^\s*(?:\[?\d{4}-\d{2}-\d{2}[ T,_]|\[?\d{1,2}:\d{2}:\d{2}[.,:]|\{\"|"
    r"(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)(?: +[-|] |:[\w.]*:))"
)
# CPython's exception-group box, in the form where the group's own lines have no margin.
_FIRST_MEMBER = re.compile(r"^\+-\+-+ (?:\d+|\.\.\.) -+\s*$")
_NEXT_MEMBER = re.compile(r"^  \+-+ (?P<n>\d+|\.\.\.) -+\s*$")
_CLOSING = re.compile(r"^  \+-+\s*$")
_BOX_LINE = re.compile(r"^ {2,}[|+]")
_BOX_END = re.compile(r"(?P<box> {2,}[+|] )$")


@dataclass
class _Block:
    type: str
    message: str
    frames: list[tuple[str, int | None, str, str | None] | str] = field(default_factory=list)
    relation: str = "root"
    members: list[list[_Block]] = field(default_factory=list)


@dataclass
class _Lines:
    """Lines of one traceback with the log prefix stripped, and which ones carried it."""

    text: list[str]
    prefixed: list[bool]
    # "every": every line of the record carries the prefix (a new record is a line without it);
    # "first": only the first line does (a new record is a line with it); None: no prefix.
    mode: str | None = None


def parse_traceback(text: str, *, app_roots: Sequence[str] = ()) -> list[ExceptionInfo]:
    """The last Python traceback in ``text`` as an exception chain, root cause first.

    ``[]`` when the text holds no traceback (no ``Traceback (most recent call last):`` line).
    Never raises.
    """
    try:
        if not isinstance(text, str) or "Traceback (most recent call last)" not in text:
            return []
        if len(text) > MAX_TEXT_CHARS:
            text = text[-MAX_TEXT_CHARS:]
        lines = [clean_line(line) for line in text.split("\n")]
        chain = _last_chain(lines)
        if not chain:
            return []
        out: list[ExceptionInfo] = []
        _to_infos(chain, tuple(app_roots or ()), out, depth=0)
        return out
    except Exception:  # noqa: BLE001 - a parser must not break the failure path
        return []


# --------------------------------------------------------------------------------------------
# Finding tracebacks and their log prefix
# --------------------------------------------------------------------------------------------


def _last_chain(lines: list[str]) -> list[_Block]:
    last: list[_Block] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if "Traceback (most recent call last)" not in line:
            i += 1
            continue
        header = _HEADER.search(line)
        if header is None:
            i += 1
            continue
        prefix = line[: header.start()]
        box = _BOX_END.search(prefix)
        log_prefix = prefix[: box.start()] if box else prefix
        start = i
        if box and box["box"].rstrip().endswith("|"):
            # Inside an exception group whose top has no traceback of its own: go back to
            # where the box starts.
            start = _box_start(lines, i, log_prefix)
        block_lines = _strip_prefix(lines, start, log_prefix)
        chain, used = _parse_chain(block_lines, 0)
        if chain:
            last = chain
        i = start + max(used, 1) if start + max(used, 1) > i else i + 1
    return last


def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    """The shape of a log prefix: digits generalised, so that the timestamps of later lines of
    the same record still match."""
    parts = [r"\d+" if tok[0].isdigit() else re.escape(tok) for tok in re.findall(r"\d+|\D", prefix)]
    return re.compile("".join(parts))


def _strip_prefix(lines: list[str], start: int, prefix: str) -> _Lines:
    end = min(len(lines), start + MAX_TRACEBACK_LINES)
    if not prefix:
        window = lines[start:end]
        return _Lines(window, [False] * len(window))
    pattern = _prefix_pattern(prefix)
    text: list[str] = []
    flags: list[bool] = []
    for line in lines[start:end]:
        m = pattern.match(line)
        if m:
            text.append(line[m.end():])
            flags.append(True)
        else:
            text.append(line)
            flags.append(False)
    # Which style of log this is decides where a multi-line message ends (see _Lines.mode).
    body = flags[1:40]
    mode = "every" if body and sum(body) * 2 > len(body) else "first"
    return _Lines(text, flags, mode)


def _box_start(lines: list[str], i: int, log_prefix: str) -> int:
    pattern = _prefix_pattern(log_prefix) if log_prefix else None
    start = i
    for j in range(i - 1, max(-1, i - 200), -1):
        line = lines[j]
        if pattern is not None:
            m = pattern.match(line)
            line = line[m.end():] if m else line
        if not _BOX_LINE.match(line):
            break
        start = j
    return start


# --------------------------------------------------------------------------------------------
# Chains and blocks
# --------------------------------------------------------------------------------------------


def _parse_chain(lines: _Lines, i: int) -> tuple[list[_Block], int]:
    """Blocks joined by the cause/context banners, starting at ``i``; and where parsing stopped."""
    blocks: list[_Block] = []
    text = lines.text
    n = len(text)
    while i < n:
        block, i = _parse_block(lines, i)
        if block is None:
            break
        blocks.append(block)
        j = i
        while j < n and j - i < 3 and not text[j].strip():
            j += 1
        if j < n and text[j].strip() in (_CAUSE, _CONTEXT):
            block.relation = "cause" if text[j].strip() == _CAUSE else "context"
            j += 1
            while j < n and j - i < 8 and not text[j].strip():
                j += 1
            i = j
            continue
        break
    return blocks, i


def _parse_block(lines: _Lines, i: int) -> tuple[_Block | None, int]:
    text = lines.text
    n = len(text)
    if i >= n:
        return None, i
    line = text[i]
    if _BOX_LINE.match(line) and line.lstrip().startswith(("+", "|")):
        return _parse_top_group(lines, i)
    stripped = line.strip()
    frames: list[tuple[str, int | None, str, str | None] | str] = []
    if stripped in (_TB_TEXT, "Exception Group " + _TB_TEXT) and not line[:1].isspace():
        frames, i = _parse_frames(text, i + 1)
    elif not line[:1].isspace() and _EXC_LINE.match(line) and ":" in line or (
            not line[:1].isspace() and _looks_like_type(stripped)):
        pass  # a chained exception that was never raised prints without a traceback
    else:
        return None, i
    if i >= n or text[i][:1].isspace() or not _EXC_LINE.match(text[i]):
        if not frames:
            return None, i
        return _Block(TRUNCATED_TYPE, "(the traceback ends before its exception line)", frames), i
    block, i = _exception_line(lines, i)
    block.frames = frames
    if i < n and _FIRST_MEMBER.match(text[i]):
        block.members, i = _parse_members(text, i)
    return block, i


def _looks_like_type(text: str) -> bool:
    """A bare name on its own line after a banner: ``KeyboardInterrupt``, ``pkg.MyError``."""
    m = _EXC_LINE.match(text)
    if not m or m["msg"] is not None:
        return False
    name = m["type"].rsplit(".", 1)[-1]
    return name[:1].isupper() and (name.endswith(("Error", "Exception", "Exit", "Interrupt", "Group",
                                                  "Warning", "Timeout", "Failure")))


def _parse_frames(text: list[str], i: int) -> tuple[list[tuple[str, int | None, str, str | None] | str], int]:
    frames: list[tuple[str, int | None, str, str | None] | str] = []
    n = len(text)
    while i < n:
        line = text[i]
        fm = _FRAME.match(line)
        if fm:
            indent = len(fm["indent"])
            source: str | None = None
            i += 1
            while i < n:
                nxt = text[i]
                if not nxt.strip() or len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                if _FRAME.match(nxt) or _REPEATED.match(nxt):
                    break
                if source is None and not _CARET.match(nxt) and not _ELLIDED_SOURCE.match(nxt):
                    source = truncate(nxt.strip(), MAX_SOURCE_CHARS)
                i += 1
            func = fm["func"] or SYNTAX_ERROR_FUNCTION
            frames.append((fm["file"], int(fm["line"]), func.strip(), source))
            continue
        rep = _REPEATED.match(line)
        if rep:
            frames.append(line.strip())
            i += 1
            continue
        if line.strip() in ("...", "…"):
            # A gap a log excerpt left in the middle of the stack.
            frames.append("[lines left out of the log excerpt]")
            i += 1
            continue
        break
    return frames, i


def _exception_line(lines: _Lines, i: int) -> tuple[_Block, int]:
    text = lines.text
    m = _EXC_LINE.match(text[i])
    assert m is not None  # checked by the caller
    parts = [m["msg"]] if m["msg"] else []
    i += 1
    n = len(text)
    while i < n and len(parts) < MAX_MESSAGE_LINES:
        line = text[i]
        stripped = line.strip()
        if not stripped or stripped in (_CAUSE, _CONTEXT) or _HEADER.search(line):
            break
        if line.startswith("+-") or _NEXT_MEMBER.match(line) or _CLOSING.match(line):
            break
        if lines.mode == "every" and not lines.prefixed[i]:
            break
        if lines.mode == "first" and lines.prefixed[i]:
            break
        if _LOG_RECORD.match(line):
            break
        parts.append(line.rstrip())
        i += 1
    message = truncate("\n".join(parts).rstrip(), MAX_MESSAGE_CHARS)
    return _Block(m["type"], message), i


# --------------------------------------------------------------------------------------------
# Exception groups
# --------------------------------------------------------------------------------------------


def _demargin_top(line: str) -> str:
    if line.startswith(("  | ", "  + ")):
        return line[4:]
    if line.rstrip() in ("  |", "  +"):
        return ""
    return line[2:] if line.startswith("  ") else line


def _demargin_member(line: str) -> str:
    if line.startswith("  | "):
        return line[4:]
    if line.rstrip() == "  |":
        return ""
    return line[2:] if line.startswith("  ") else line


def _parse_top_group(lines: _Lines, i: int) -> tuple[_Block | None, int]:
    """A group as CPython prints it at the top level (``  + Exception Group Traceback``)."""
    text = lines.text
    j = i
    while j < len(text) and _BOX_LINE.match(text[j]):
        j += 1
    inner = [_demargin_top(line) for line in text[i:j]]
    block, _ = _parse_block(_Lines(inner, [False] * len(inner)), 0)
    return block, j


def _parse_members(text: list[str], i: int) -> tuple[list[list[_Block]], int]:
    """Sub-exception sections after a group's ``+-+---- 1 ----`` line."""
    sections: list[list[str]] = []
    current: list[str] | None = []
    i += 1
    n = len(text)
    while i < n:
        line = text[i]
        nxt = _NEXT_MEMBER.match(line)
        if nxt:
            if current is not None:
                sections.append(current)
            # "+---- ... ----" is followed by "and N more exceptions": nothing to parse.
            current = [] if nxt["n"] != "..." else None
        elif _CLOSING.match(line):
            if current is not None:
                sections.append(current)
            current = None
            i += 1
            break
        elif line.startswith("  ") or line.strip() == "":
            if current is not None:
                current.append(_demargin_member(line))
        elif line.startswith("+"):
            if current is not None:
                current.append(line)
        else:
            break
        i += 1
    if current:
        sections.append(current)
    members: list[list[_Block]] = []
    for section in sections[:MAX_GROUP_MEMBERS]:
        k = 0
        while k < len(section) and not section[k].strip():
            k += 1
        chain, _ = _parse_chain(_Lines(section, [False] * len(section)), k)
        if chain:
            members.append(chain)
    return members, i


# --------------------------------------------------------------------------------------------
# Blocks -> records
# --------------------------------------------------------------------------------------------


def _to_infos(chain: list[_Block], app_roots: tuple[str, ...], out: list[ExceptionInfo],
              depth: int) -> None:
    if len(chain) > MAX_CHAIN:
        # Same rule as a live chain: keep the root-cause side and the raised side.
        root_side = MAX_CHAIN - MAX_CHAIN // 2
        chain = chain[:root_side] + chain[-(MAX_CHAIN // 2):]
    for block in chain:
        if len(out) >= MAX_TOTAL:
            return
        if depth < MAX_GROUP_DEPTH:
            for member in block.members[:MAX_GROUP_MEMBERS]:
                if len(out) >= MAX_TOTAL - 1:
                    break
                before = len(out)
                _to_infos(member, app_roots, out, depth + 1)
                if len(out) > before:
                    out[-1].relation = "cause"
        out.append(ExceptionInfo(
            type=block.type,
            message=block.message,
            frames=_frames(block.frames, app_roots),
            relation=block.relation,  # type: ignore[arg-type]
        ))


def _cython_module(module: str | None, function: str) -> str | None:
    """``parsers`` + ``pandas._libs.parsers.TextReader._tokenize_rows`` -> ``pandas._libs.parsers``.

    A compiled module's frame names only its file (``parsers.pyx``) but gives the qualified
    function name; the module is the part of that name up to the file's stem, which is also the
    ``__name__`` a live capture reads."""
    if module and "." not in module and "." in function:
        marker = f".{module}."
        at = function.find(marker)
        if at >= 0:
            return function[: at + len(marker) - 1]
        if function.startswith(module + "."):
            return module
    return module


def _frames(raw: list[tuple[str, int | None, str, str | None] | str],
            app_roots: tuple[str, ...]) -> list[Frame]:
    frames: list[Frame] = []
    for item in raw:
        if isinstance(item, str):
            frames.append(placeholder_frame(item))
            continue
        filename, lineno, function, source = item
        module = _cython_module(module_from_filename(filename), function)
        frames.append(Frame(
            filename=filename,
            lineno=lineno,
            function=function,
            module=module,
            line=source,
            in_app=is_in_app(filename, module, app_roots),
        ))
    return cap_frames(frames)
