"""Exceptions from text of any kind: the one entry point for watchers, the CLI and log excerpts.

Tried in order, first that finds something wins:

1. Airflow 3 JSON log lines with a structured ``error_detail`` (:mod:`.airflow_log`);
2. Python tracebacks, after JSON log lines are rendered as text, so that a traceback logged as
   a JSON string value is found too (:mod:`.traceback_text`);
3. the last line naming an exception, ``pkg.SomeError: message``, anywhere on the line (a state
   message such as ``Failed('Task run encountered an exception ValueError: bad row')``);
4. the last error line (:mod:`.markers`), preferring one that says *why* over one that only
   says *that* something failed; its type is :data:`ERROR_LINE_TYPE`.

Heuristic results have no frames.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..records import ExceptionInfo
from ._util import MAX_MESSAGE_CHARS, as_text, clean_line, truncate
from .airflow_log import json_line_to_text, parse_error_detail
from .markers import GENERIC_FAILURE_LINES, is_error_line
from .traceback_text import parse_traceback

__all__ = ["ERROR_LINE_TYPE", "exceptions_from_text"]

ERROR_LINE_TYPE = "Error"
"""Type given to an error line that names no exception (``Process exited with signal 9``)."""

MAX_TEXT_CHARS = 2_000_000
"""Only the end of a longer text is read: the failure is at the end of a log."""
MAX_HEURISTIC_LINES = 5000
MAX_HEURISTIC_CHARS = 5000
"""Characters of one line the heuristics look at (a minified JSON blob is not a message)."""
MAX_LINE_MESSAGE = 1000

# "pkg.mod.SomeError: message" anywhere on a line; the name must look like an exception class.
_NAMED = re.compile(
    r"(?<![\w.])(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout|"
    r"Failure|Fault|Killed))(?::\s*(?P<msg>\S.*?))?\s*$"
)
# Log decoration up to the level word of a line; what follows it is the message.
_LEVEL = re.compile(r"^.*?\b(?:ERROR|CRITICAL|FATAL|WARNING|WARN|INFO|DEBUG)\b\s*[-:|\]]*\s*")
_SEVERE = re.compile(r"\b(?:ERROR|CRITICAL|FATAL)\b")


def exceptions_from_text(text: str, *, app_roots: Sequence[str] = ()) -> list[ExceptionInfo]:
    """The exception chain described by ``text``, root cause first; ``[]`` when it has none.

    See the module documentation for what is tried.  Never raises.
    """
    try:
        text = as_text(text)
        if not text.strip():
            return []
        if len(text) > MAX_TEXT_CHARS:
            text = text[-MAX_TEXT_CHARS:]
        lines = text.split("\n")
        roots = tuple(app_roots or ())
        if '"error_detail"' in text or '"exception"' in text:
            found = parse_error_detail(lines, app_roots=roots)
            if found:
                return found
        if any(line.lstrip().startswith("{") for line in lines):
            text = "\n".join(json_line_to_text(line) for line in lines)
            lines = text.split("\n")
        found = parse_traceback(text, app_roots=roots)
        if found:
            return found
        tail = [clean_line(line[:MAX_HEURISTIC_CHARS]) for line in lines[-MAX_HEURISTIC_LINES:]]
        info = _named_exception(tail) or _error_line(tail)
        return [info] if info is not None else []
    except Exception:  # noqa: BLE001 - text from anywhere must not break the failure path
        return []


def _named_exception(lines: list[str]) -> ExceptionInfo | None:
    for line in reversed(lines):
        if "Error" not in line and "Exception" not in line and not _maybe_named(line):
            continue
        m = _NAMED.search(line)
        if m:
            message = (m["msg"] or "").strip()
            if message.endswith(("')", '")')) and ("('" in line[:m.start()] or '("' in line[:m.start()]):
                # Inside a state repr such as Failed('... ValueError: bad row'): drop its closing.
                message = message[:-2].rstrip()
            return ExceptionInfo(type=m["type"], message=truncate(message, MAX_MESSAGE_CHARS))
    return None


def _maybe_named(line: str) -> bool:
    return any(word in line for word in ("Exit", "Interrupt", "Timeout", "Failure", "Fault", "Killed"))


def _error_line(lines: list[str]) -> ExceptionInfo | None:
    """The last error line that says why at an error level, else the last one that says why,
    else the last one at all."""
    best: tuple[int, str] | None = None
    for line in reversed(lines):
        if not line.strip() or not is_error_line(line):
            continue
        score = (0 if GENERIC_FAILURE_LINES.search(line) else 2) + (1 if _SEVERE.search(line) else 0)
        if best is None or score > best[0]:
            best = (score, line)
        if score == 3:
            break
    return _line_info(best[1]) if best is not None else None


def _line_info(line: str) -> ExceptionInfo:
    message = _LEVEL.sub("", line, count=1).strip() or line.strip()
    return ExceptionInfo(type=ERROR_LINE_TYPE, message=truncate(message, MAX_LINE_MESSAGE))
