"""Airflow 3 task logs: JSON lines, with the failure as structured data.

Airflow 3's task supervisor writes one JSON object per line
(``{"timestamp": ..., "level": "info", "event": ..., "logger": ..., <more keys>}``).  The
failure is the record whose ``event`` is ``"Task failed with exception"``; its exception is not
text but ``error_detail``: the output of structlog's ``ExceptionDictTransformer`` that the task
process sent as ``exception`` and the supervisor renamed.  That is a list of *stacks*, the raised
exception first, then the exception behind it, and so on::

    {"exc_type": "ValueError",          # the class's __name__ only, not its module
     "exc_value": "bad row 3",          # str(exception)
     "exc_notes": [],                   # structlog >= 25.2
     "syntax_error": null,              # {offset, filename, line, lineno, msg} for SyntaxError
     "is_cause": false,                 # true: this stack is the __cause__ of the one before
     "frames": [{"filename": ..., "lineno": 12, "name": "execute"}, ...],  # outermost first
     "is_group": false,                 # structlog >= 25.4: an exception group ...
     "exceptions": []}                  # ... whose members are lists of stacks like this one

structlog replaces the middle of a long stack with one frame ``{"filename": "", "lineno": -1,
"name": "Skipped frames: N"}``.  Older structlog versions lack the later keys; everything is
read defensively, because the payload crossed a process boundary as JSON and anything may turn
up.  Other logs that put the same structure under ``exception`` are read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..records import ExceptionInfo, Frame
from ._util import MAX_MESSAGE_CHARS, MAX_SOURCE_CHARS, as_text, clean_line, safe_str, truncate
from .exceptions import MAX_CHAIN, MAX_GROUP_DEPTH, MAX_GROUP_MEMBERS, MAX_TOTAL, SYNTAX_ERROR_FUNCTION
from .frames import cap_frames, is_in_app, module_from_filename, placeholder_frame

__all__ = ["FAILURE_EVENT", "json_line_to_text", "parse_error_detail", "render_error_detail"]

FAILURE_EVENT = "Task failed with exception"
"""The ``event`` of the record that carries a failed Airflow 3 task's exception."""

MAX_JSON_LINE_CHARS = 1_000_000
"""A longer line is not parsed as JSON (it is shown as text, cut)."""
MAX_VALUE_CHARS = 300
"""A value rendered in a plain log line is cut to this many characters."""
MAX_KEYS = 20

_TIME_KEYS = ("timestamp", "time", "@timestamp", "asctime", "ts")
_LEVEL_KEYS = ("level", "levelname", "severity", "log_level")
_LOGGER_KEYS = ("logger", "logger_name", "name")
_EVENT_KEYS = ("event", "message", "msg")
_EXC_KEYS = ("error_detail", "exception", "exc_info", "exc_text", "traceback", "stack_trace")


# --------------------------------------------------------------------------------------------
# error_detail -> ExceptionInfo
# --------------------------------------------------------------------------------------------


def parse_error_detail(lines: Iterable[str], *, app_roots: Sequence[str] = ()) -> list[ExceptionInfo]:
    """The exception chain of the failure recorded in Airflow 3 JSON log lines, root cause first.

    Uses the last ``"Task failed with exception"`` record; without one, the last record that has
    a structured ``error_detail`` (or ``exception``) list.  ``[]`` when there is none.  Exception
    types are bare class names (``ParserError``), because that is all structlog records.  Never
    raises.
    """
    try:
        best: list[Any] | None = None
        best_is_failure = False
        for raw in lines:
            line = as_text(raw)
            if '"error_detail"' not in line and '"exception"' not in line:
                continue
            record = _load(line)
            if record is None:
                continue
            stacks = _stacks_of(record)
            if stacks is None:
                continue
            is_failure = record.get("event") == FAILURE_EVENT
            if is_failure or not best_is_failure:
                best, best_is_failure = stacks, is_failure
        if best is None:
            return []
        out: list[ExceptionInfo] = []
        _add_stacks(best, tuple(app_roots or ()), out, depth=0)
        return out
    except Exception:  # noqa: BLE001 - a hostile payload must not break the failure path
        return []


def _load(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if len(text) > MAX_JSON_LINE_CHARS:
        return None
    if not text.startswith("{"):
        # A shipper may put its own prefix before the JSON object.
        start = text.find("{")
        if start < 0:
            return None
        text = text[start:]
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _stacks_of(record: dict[str, Any]) -> list[Any] | None:
    for key in ("error_detail", "exception"):
        value = record.get(key)
        if isinstance(value, dict) and isinstance(value.get("stacks"), list):
            value = value["stacks"]
        if isinstance(value, list) and any(isinstance(s, dict) and s.get("exc_type") for s in value):
            return value
    return None


def _add_stacks(stacks: list[Any], app_roots: tuple[str, ...], out: list[ExceptionInfo],
                depth: int) -> None:
    valid = [s for s in stacks if isinstance(s, dict) and s.get("exc_type")]
    if len(valid) > MAX_CHAIN:
        near = MAX_CHAIN // 2
        valid = valid[:near] + valid[-(MAX_CHAIN - near):]
    # structlog lists the raised exception first; the records list the root cause first.
    for position in range(len(valid) - 1, -1, -1):
        if len(out) >= MAX_TOTAL:
            return
        stack = valid[position]
        if depth < MAX_GROUP_DEPTH and stack.get("is_group"):
            for member in _members(stack)[:MAX_GROUP_MEMBERS]:
                if len(out) >= MAX_TOTAL - 1:
                    break
                before = len(out)
                _add_stacks(member, app_roots, out, depth + 1)
                if len(out) > before:
                    out[-1].relation = "cause"
        if position == 0:
            relation = "root"
        else:
            relation = "cause" if stack.get("is_cause") else "context"
        out.append(ExceptionInfo(
            type=truncate(safe_str(stack.get("exc_type")), 200),
            message=_message(stack),
            frames=_frames(stack, app_roots),
            relation=relation,  # type: ignore[arg-type]
        ))


def _members(stack: dict[str, Any]) -> list[list[Any]]:
    members = stack.get("exceptions")
    if not isinstance(members, list):
        return []
    out = []
    for member in members:
        if isinstance(member, dict) and isinstance(member.get("stacks"), list):
            member = member["stacks"]
        if isinstance(member, list):
            out.append(member)
    return out


def _message(stack: dict[str, Any]) -> str:
    value = stack.get("exc_value")
    syntax = stack.get("syntax_error")
    parts = []
    text = "" if value is None else as_text(value)
    if isinstance(syntax, dict) and syntax.get("msg") and not text:
        text = as_text(syntax.get("msg"))
    if text:
        parts.append(text)
    notes = stack.get("exc_notes")
    if isinstance(notes, list):
        parts.extend(as_text(note) for note in notes[:20])
    # rstrip: pandas ends messages with a newline that a printed traceback does not show.
    return truncate("\n".join(parts).rstrip(), MAX_MESSAGE_CHARS)


def _frames(stack: dict[str, Any], app_roots: tuple[str, ...]) -> list[Frame]:
    frames: list[Frame] = []
    raw = stack.get("frames")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        filename = as_text(item.get("filename"))
        lineno = item.get("lineno")
        name = as_text(item.get("name"))
        if not filename and lineno == -1:
            frames.append(placeholder_frame(f"[{name}]" if name else "[frames omitted]"))
            continue
        module = module_from_filename(filename)
        source = item.get("line")
        frames.append(Frame(
            filename=filename,
            lineno=lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None,
            function=name or "?",
            module=module,
            line=truncate(source.strip(), MAX_SOURCE_CHARS) if isinstance(source, str) and source.strip() else None,
            in_app=is_in_app(filename, module, app_roots),
        ))
    syntax = stack.get("syntax_error")
    if isinstance(syntax, dict) and syntax.get("filename"):
        filename = as_text(syntax.get("filename"))
        module = module_from_filename(filename)
        lineno = syntax.get("lineno")
        text = syntax.get("line")
        frames.append(Frame(
            filename=filename,
            lineno=lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None,
            function=SYNTAX_ERROR_FUNCTION,
            module=module,
            line=truncate(text.strip(), MAX_SOURCE_CHARS) if isinstance(text, str) and text.strip() else None,
            in_app=is_in_app(filename, module, app_roots),
        ))
    return cap_frames(frames)


# --------------------------------------------------------------------------------------------
# JSON line -> plain text
# --------------------------------------------------------------------------------------------


def json_line_to_text(line: str) -> str:
    """One JSON log line as a person would read it: ``timestamp LEVEL logger: event key=value``.

    A structured exception (``error_detail``) or a multi-line string value (a traceback logged as
    text) follows on further lines, rendered like a Python traceback, so the result may hold
    newlines.  Anything that is not a JSON object is returned unchanged.  Never raises.
    """
    try:
        if not isinstance(line, str):
            return as_text(line)
        text = line.strip()
        if not text.startswith("{") or not text.endswith("}") or len(text) > MAX_JSON_LINE_CHARS:
            return line
        try:
            record = json.loads(text)
        except (ValueError, RecursionError):
            return line
        if not isinstance(record, dict):
            return line
        return _render(record)
    except Exception:  # noqa: BLE001
        return line if isinstance(line, str) else ""


def _render(record: dict[str, Any]) -> str:
    used: set[str] = set()

    def take(keys: tuple[str, ...]) -> str:
        for key in keys:
            value = record.get(key)
            if value is not None and not isinstance(value, (dict, list)) and key not in used:
                used.add(key)
                return as_text(value)
        return ""

    timestamp = take(_TIME_KEYS)
    level = take(_LEVEL_KEYS).upper()
    logger = take(_LOGGER_KEYS)
    event = take(_EVENT_KEYS)
    head = " ".join(p for p in (timestamp, level, f"{logger}:" if logger else "") if p)
    extra_lines: list[str] = []
    pairs: list[str] = []
    for key, value in record.items():
        if key in used:
            continue
        if key in _EXC_KEYS and isinstance(value, (list, dict)):
            stacks = _stacks_of({"error_detail": value})
            if stacks is not None:
                extra_lines.extend(render_error_detail(stacks))
                continue
        if isinstance(value, str) and "\n" in value:
            extra_lines.extend(value.rstrip("\n").split("\n"))
            continue
        if len(pairs) < MAX_KEYS:
            pairs.append(f"{key}={_value(value)}")
    first = " ".join(p for p in (head, clean_line(event).replace("\n", " "), " ".join(pairs)) if p)
    return "\n".join([first, *(clean_line(x) for x in extra_lines)])


def _value(value: Any) -> str:
    if isinstance(value, str):
        text = value if value and not any(c.isspace() or c in "=\"'" for c in value) else json.dumps(
            value, ensure_ascii=False)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=safe_str)
        except (TypeError, ValueError, RecursionError):
            text = safe_str(value)
    return truncate(text, MAX_VALUE_CHARS)


def render_error_detail(stacks: list[Any], *, _depth: int = 0) -> list[str]:
    """A structlog exception list rendered as the lines of a Python traceback (root cause
    first, with CPython's banners).  Exception-group members are listed indented under the
    group.  Never raises; unusable entries are skipped."""
    lines: list[str] = []
    try:
        valid = [s for s in stacks if isinstance(s, dict) and s.get("exc_type")]
        for position in range(len(valid) - 1, -1, -1):
            stack = valid[position]
            frames = stack.get("frames") if isinstance(stack.get("frames"), list) else []
            if frames:
                lines.append("Traceback (most recent call last):")
            for frame in frames:
                if not isinstance(frame, dict):
                    continue
                if not frame.get("filename") and frame.get("lineno") == -1:
                    lines.append(f"  [{as_text(frame.get('name'))}]")
                    continue
                lines.append(f'  File "{as_text(frame.get("filename"))}", line {frame.get("lineno")}, '
                             f'in {as_text(frame.get("name"))}')
                if isinstance(frame.get("line"), str) and frame["line"].strip():
                    lines.append(f"    {frame['line'].strip()}")
            message = _message(stack)
            exc_type = as_text(stack.get("exc_type"))
            lines.extend(f"{exc_type}: {message}".split("\n") if message else [exc_type])
            if stack.get("is_group") and _depth < MAX_GROUP_DEPTH:
                for number, member in enumerate(_members(stack)[:MAX_GROUP_MEMBERS], 1):
                    lines.append(f"  [sub-exception {number}]")
                    lines.extend("    " + x for x in render_error_detail(member, _depth=_depth + 1))
            if position:
                banner = ("The above exception was the direct cause of the following exception:"
                          if stack.get("is_cause") else
                          "During handling of the above exception, another exception occurred:")
                lines.extend(["", banner, ""])
    except Exception:  # noqa: BLE001
        pass
    return lines
