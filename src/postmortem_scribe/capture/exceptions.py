"""A live exception, with its chain and frames, as plain :class:`ExceptionInfo` records.

The chain is listed the way Python prints it: the root cause first, the exception that was
raised last.  Each entry's ``relation`` says how it links to the entry after it: ``cause`` (the
next one was raised ``from`` it), ``context`` (the next one was raised while handling it) or
``root`` for the last entry, which links to nothing.

Bounds, so that a pathological exception cannot make capture slow or huge:

- at most :data:`MAX_CHAIN` exceptions per chain; a longer chain keeps the exceptions nearest
  the root cause and nearest the raised one, and cycles (``a.__context__ = b`` and back) stop
  the walk;
- at most :data:`~postmortem_scribe.capture.frames.MAX_FRAMES` frames per exception (outermost
  and innermost halves); runs of identical frames (recursion) are cut after three, with a
  placeholder frame reading ``[Previous line repeated N more times]`` exactly as CPython prints
  it, so that a live capture and a parsed printout of the same failure look alike;
- messages longer than 8000 characters are cut.

Exception groups (``ExceptionGroup``, Python 3.11+): the group itself is an entry like any other
(its message says how many sub-exceptions it has).  Just before it come the chains of its first
:data:`MAX_GROUP_MEMBERS` sub-exceptions, each root cause first, and the last entry of each
sub-exception's chain has relation ``cause`` (the group was raised because of it).  Nested groups
are followed :data:`MAX_GROUP_DEPTH` levels deep, and the whole list holds at most
:data:`MAX_TOTAL` entries.  This keeps one flat list (what the records hold) while the real
errors inside a task group, which is how anyio and Prefect report them, stay visible to
classification and grouping.

A ``SyntaxError`` gets one more frame at the end, for the file and line that failed to compile
(function ``<syntax error>``), because that location is usually the user's file while every
other frame is the import machinery.
"""

from __future__ import annotations

import builtins
import linecache
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from ..records import ExceptionInfo, Frame
from ._util import MAX_MESSAGE_CHARS, MAX_SOURCE_CHARS, safe_str, truncate
from .frames import (
    AIRFLOW_DAG_MODULE,
    RECURSION_CUTOFF,
    cap_frames,
    is_in_app,
    module_from_filename,
    placeholder_frame,
    repeated_text,
)

__all__ = [
    "MAX_CHAIN",
    "MAX_GROUP_DEPTH",
    "MAX_GROUP_MEMBERS",
    "MAX_TOTAL",
    "SYNTAX_ERROR_FUNCTION",
    "exception_chain",
    "exception_message",
    "exception_type_name",
]

MAX_CHAIN = 10
"""Exceptions kept per chain (``__cause__`` / ``__context__`` links)."""
MAX_GROUP_MEMBERS = 3
"""Sub-exceptions of an exception group whose chains are included."""
MAX_GROUP_DEPTH = 3
"""How many levels of nested exception groups are followed."""
MAX_TOTAL = 30
"""Entries in the whole list, group members included."""
SYNTAX_ERROR_FUNCTION = "<syntax error>"
"""``function`` of the extra frame that points at the source a ``SyntaxError`` is about."""

_WALK_LIMIT = 1000  # links followed before giving up on a (non-cyclic) endless chain
_TB_LIMIT = 100_000  # traceback entries read; a RecursionError has about a thousand
_GROUP_TYPE: type | None = getattr(builtins, "BaseExceptionGroup", None)  # Python 3.11+


def exception_type_name(exc: BaseException) -> str:
    """Qualified name of ``exc``'s type as CPython prints it: ``module.QualName``, without the
    module for builtins and ``__main__`` (``ValueError``, ``pandas.errors.ParserError``)."""
    try:
        cls = type(exc)
        qualname = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", None) or "?"
        module = getattr(cls, "__module__", None)
        qualname = str(qualname)
        if not isinstance(module, str) or module in ("builtins", "__main__", "exceptions"):
            return qualname
        return f"{module}.{qualname}"
    except Exception:  # noqa: BLE001 - a hostile metaclass
        return "?"


def exception_message(exc: BaseException) -> str:
    """``str(exc)`` that never raises, followed by its notes (``add_note``) one per line, as
    CPython prints them; cut to 8000 characters."""
    parts = []
    text = safe_str(exc)
    if text:
        parts.append(text)
    try:
        notes = getattr(exc, "__notes__", None)
        if isinstance(notes, (list, tuple)):
            parts.extend(note if isinstance(note, str) else safe_str(note) for note in notes[:20])
    except Exception:  # noqa: BLE001 - __notes__ may be a property that raises
        pass
    # rstrip: pandas ends messages with a newline that a printed traceback does not show, and
    # the live and the printed capture of one failure should agree.
    return truncate("\n".join(parts).rstrip(), MAX_MESSAGE_CHARS)


def exception_chain(exc: BaseException, *, app_roots: Sequence[str] = ()) -> list[ExceptionInfo]:
    """The exception chain of ``exc``, root cause first, the raised exception last.

    See the module documentation for the order, the bounds and exception groups.  Never raises:
    anything that is not an exception gives ``[]``; an exception that cannot be walked gives at
    least its type and message.
    """
    if not isinstance(exc, BaseException):
        return []
    roots = tuple(app_roots or ())
    try:
        out: list[ExceptionInfo] = []
        _add_chain(exc, roots, out, depth=0, seen=set())
        return out
    except Exception:  # noqa: BLE001 - best effort: say at least what was raised
        try:
            return [ExceptionInfo(type=exception_type_name(exc), message=exception_message(exc))]
        except Exception:  # noqa: BLE001
            return []


def _links(exc: BaseException, seen: set[int]) -> list[tuple[BaseException, str]]:
    """``exc`` and the exceptions behind it, raised-first, each with how it links to the one
    before it in this list (which comes after it in the printed order)."""
    links: list[tuple[BaseException, str]] = []
    current: BaseException | None = exc
    relation = "root"
    while current is not None and id(current) not in seen and len(links) < _WALK_LIMIT:
        seen.add(id(current))
        links.append((current, relation))
        cause = _linked(current, "__cause__")
        context = _linked(current, "__context__")
        if cause is not None:
            current, relation = cause, "cause"
        elif context is not None and not _getattr(current, "__suppress_context__", False):
            current, relation = context, "context"
        else:
            current = None
    if len(links) > MAX_CHAIN:
        # Keep the exceptions nearest the raised one and nearest the root cause.
        near = MAX_CHAIN // 2
        links = links[:near] + links[-(MAX_CHAIN - near):]
    return links


def _getattr(obj: object, name: str, default: Any = None) -> Any:
    try:
        return getattr(obj, name, default)
    except Exception:  # noqa: BLE001 - a property that raises
        return default


def _linked(obj: object, name: str) -> BaseException | None:
    value = _getattr(obj, name)
    return value if isinstance(value, BaseException) else None


def _add_chain(exc: BaseException, app_roots: tuple[str, ...], out: list[ExceptionInfo],
               depth: int, seen: set[int]) -> None:
    for current, relation in reversed(_links(exc, seen)):
        if len(out) >= MAX_TOTAL:
            return
        members = _group_members(current) if depth < MAX_GROUP_DEPTH else []
        for member in members[:MAX_GROUP_MEMBERS]:
            if len(out) >= MAX_TOTAL - 1:
                break
            before = len(out)
            _add_chain(member, app_roots, out, depth + 1, seen)
            if len(out) > before:
                out[-1].relation = "cause"
        out.append(ExceptionInfo(
            type=exception_type_name(current),
            message=exception_message(current),
            frames=_frames(current, app_roots),
            relation=relation,  # type: ignore[arg-type]
        ))


def _group_members(exc: BaseException) -> list[BaseException]:
    # Only real groups: an ordinary exception may well have an attribute called "exceptions".
    if _GROUP_TYPE is None or not isinstance(exc, _GROUP_TYPE):
        return []
    members = _getattr(exc, "exceptions", ())
    if not isinstance(members, tuple):
        return []
    return [m for m in members if isinstance(m, BaseException)]


def _frames(exc: BaseException, app_roots: tuple[str, ...]) -> list[Frame]:
    tb = _traceback(exc)
    raw: list[tuple[str, int | None, str, dict[str, Any] | None]] = []
    while tb is not None and len(raw) < _TB_LIMIT:
        try:
            code = tb.tb_frame.f_code
            raw.append((str(code.co_filename), tb.tb_lineno, str(code.co_name), tb.tb_frame.f_globals))
        except Exception:  # noqa: BLE001 - a frame we cannot read is skipped
            pass
        tb = tb.tb_next
    frames = _collapse_recursion(raw, app_roots)
    if isinstance(exc, SyntaxError):
        located = _syntax_frame(exc, app_roots)
        if located is not None:
            frames.append(located)
    return frames


def _traceback(exc: BaseException) -> TracebackType | None:
    tb = _getattr(exc, "__traceback__")
    return tb if isinstance(tb, TracebackType) else None


def _collapse_recursion(raw: list[tuple[str, int | None, str, dict[str, Any] | None]],
                        app_roots: tuple[str, ...]) -> list[Frame]:
    """Frames with runs of identical ones cut as CPython prints them, then capped."""
    kept: list[tuple[str, int | None, str, dict[str, Any] | None] | str] = []
    i = 0
    while i < len(raw):
        key = raw[i][:3]
        j = i + 1
        while j < len(raw) and raw[j][:3] == key:
            j += 1
        run = j - i
        kept.extend(raw[i:i + min(run, RECURSION_CUTOFF)])
        if run > RECURSION_CUTOFF:
            kept.append(repeated_text(run - RECURSION_CUTOFF))
        i = j
    # Cap before reading source lines: a RecursionError must not read a thousand files' lines.
    frames: list[Frame] = []
    for item in cap_frames(kept):  # type: ignore[arg-type]
        if isinstance(item, Frame):  # the placeholder cap_frames put in
            frames.append(item)
        elif isinstance(item, str):
            frames.append(placeholder_frame(item))
        else:
            frames.append(_build_frame(*item, app_roots=app_roots))
    return frames


def _build_frame(filename: str, lineno: int | None, function: str, globs: dict[str, Any] | None,
                 *, app_roots: tuple[str, ...]) -> Frame:
    module = None
    if isinstance(globs, dict):
        name = globs.get("__name__")
        module = name if isinstance(name, str) else None
    if module is None or module == "__main__" or AIRFLOW_DAG_MODULE.match(module):
        # A script or an Airflow DAG file has no stable module name; use the one a printed
        # traceback of the same file would give, so both ways of capturing agree.
        module = module_from_filename(filename) or module
    return Frame(
        filename=filename,
        lineno=lineno,
        function=function,
        module=module,
        line=_source_line(filename, lineno, globs),
        in_app=is_in_app(filename, module, app_roots),
    )


def _source_line(filename: str, lineno: int | None, globs: dict[str, Any] | None) -> str | None:
    if not lineno or lineno < 1:
        return None
    try:
        linecache.checkcache(filename)
        text = linecache.getline(filename, lineno, globs if isinstance(globs, dict) else None)
    except Exception:  # noqa: BLE001 - a loader that raises
        return None
    text = text.strip()
    return truncate(text, MAX_SOURCE_CHARS) if text else None


def _syntax_frame(exc: SyntaxError, app_roots: tuple[str, ...]) -> Frame | None:
    filename = getattr(exc, "filename", None)
    if not isinstance(filename, str) or not filename:
        return None
    lineno = getattr(exc, "lineno", None)
    text = getattr(exc, "text", None)
    module = module_from_filename(filename)
    return Frame(
        filename=filename,
        lineno=lineno if isinstance(lineno, int) else None,
        function=SYNTAX_ERROR_FUNCTION,
        module=module,
        line=truncate(text.strip(), MAX_SOURCE_CHARS) if isinstance(text, str) and text.strip() else None,
        in_app=is_in_app(filename, module, app_roots),
    )
