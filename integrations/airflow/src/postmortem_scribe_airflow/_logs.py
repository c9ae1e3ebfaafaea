"""Find and read a task instance's log file, and say what it shows.

Airflow 3's supervisor writes one JSON object per line; a failure is a record with
``"event": "Task failed with exception"`` and a structured ``error_detail`` (structlog's
exception dicts), and a hard-killed child is a record ``"Process terminated by signal..."`` with
``"signal": -9``.  Airflow 2 writes formatted text.  Both become plain text lines a person can
read in the draft, plus the facts the DAG-run path needs (signal, traceback text).
"""

from __future__ import annotations

import json
import os
import re
import signal as _signal
from dataclasses import dataclass, field
from typing import Any

from . import version_compat as compat

# Keys every Airflow 3 record repeats; they say nothing a reader of one task's log needs.
_NOISE_KEYS = {
    "timestamp", "level", "event", "logger", "filename", "lineno", "ti_id", "run_id", "task_id",
    "dag_id", "try_number", "map_index", "error_detail", "exception", "chan", "loc",
}
_TEXT_SIGNAL = re.compile(r"(?:return code|exit code|exited with)\s*(?:Negsignal\.)?-(\d+)"
                          r"|terminated by signal\s*(?:SIG\w+\s*)?\(?(\d+)\)?", re.IGNORECASE)


@dataclass
class TaskLog:
    """What one task instance's log file holds, as text, with the facts drawn from it."""

    path: str
    lines: list[str] = field(default_factory=list)
    truncated: bool = False
    signal: int | None = None
    """Signal number that killed the task process (9 for SIGKILL), if the log says so."""
    signal_name: str | None = None
    exit_code: int | None = None
    """Non-zero exit code of the task process, if it exited abnormally without a signal."""
    error_text: str | None = None
    """The failure as a Python-style traceback, rebuilt from the structured record."""
    task_reported_failure: bool = False
    """The task runner itself caught the error (so in-process hooks ran or are running)."""
    problem: str | None = None

    def evidence(self) -> list[str]:
        """Plain sentences for the draft's notes."""
        notes: list[str] = []
        if self.signal is not None:
            name = self.signal_name or _signal_name(self.signal)
            sentence = f"the task process exited with signal {self.signal}"
            if name:
                sentence += f" ({name})"
            if self.signal == 9:
                sentence += ("; nothing ran in the task process after that, which is what the "
                             "kernel's OOM killer or an eviction does")
            notes.append(sentence)
        elif self.exit_code:
            notes.append(f"the task process exited abnormally with exit code {self.exit_code}")
        return notes


def _signal_name(number: int) -> str | None:
    try:
        return _signal.Signals(number).name
    except (ValueError, TypeError):
        return None


def render_log_path(*, dag_id: str, run_id: str, task_id: str, map_index: int | None,
                    try_number: int | None, logical_date: str | None = None) -> str | None:
    """Absolute path of the attempt's log file from ``[logging]`` settings, or ``None``.

    Airflow renders ``log_filename_template`` with Jinja (``ti``, ``ts``, ``try_number``) or, for
    old-style templates, ``str.format``; both are reproduced here so the adapter needs no
    database access (the task process has none on Airflow 3).
    """
    folder, template = compat.log_template()
    if not folder or try_number is None:
        return None
    mi = -1 if map_index is None else map_index
    ti = _TIView(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=mi,
                 try_number=try_number)
    try:
        if "{{" in template or "{%" in template:
            import jinja2

            env = jinja2.Environment(autoescape=False, undefined=jinja2.Undefined)
            relative = env.from_string(template).render(ti=ti, ts=logical_date or "",
                                                        try_number=try_number)
        else:
            relative = template.format(dag_id=dag_id, task_id=task_id, run_id=run_id,
                                       try_number=try_number, logical_date=logical_date or "",
                                       data_interval_start="", data_interval_end="")
    except Exception:  # noqa: BLE001 - a template using fields we do not know
        return None
    return os.path.join(folder, relative)


@dataclass
class _TIView:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int


def read_task_log(path: str | None, *, max_bytes: int = 64 * 1024) -> TaskLog | None:
    """Read the last ``max_bytes`` of a task log; ``None`` when there is no such file.

    Reads by seeking from the end, so a multi-gigabyte log costs the same as a small one.
    Never raises: an unreadable file gives a :class:`TaskLog` whose ``problem`` says why.
    """
    if not path:
        return None
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    result = TaskLog(path=path)
    try:
        with open(path, "rb") as fh:
            start = max(0, size - max(1024, max_bytes))
            fh.seek(start)
            raw = fh.read()
    except OSError as exc:
        result.problem = f"the log file {path} could not be read ({exc.strerror or exc})"
        return result
    text = raw.decode("utf-8", errors="replace")
    raw_lines = text.splitlines()
    if start > 0 and raw_lines:
        raw_lines = raw_lines[1:]  # the first line was cut by the seek
        result.truncated = True
    if compat.logs_are_json() and _looks_json(raw_lines):
        _parse_json_lines(raw_lines, result)
    else:
        _parse_text_lines(raw_lines, result)
    return result


def _looks_json(lines: list[str]) -> bool:
    for line in lines[:20]:
        stripped = line.strip()
        if stripped:
            return stripped.startswith("{")
    return False


def _parse_json_lines(raw_lines: list[str], result: TaskLog) -> None:
    for line in raw_lines:
        stripped = line.strip()
        if not stripped:
            continue
        try:
            record = json.loads(stripped)
        except ValueError:
            result.lines.append(stripped)
            continue
        if not isinstance(record, dict):
            result.lines.append(stripped)
            continue
        result.lines.extend(_format_record(record))
        event = str(record.get("event") or "")
        detail = record.get("error_detail") or record.get("exception")
        if detail and isinstance(detail, list):
            result.error_text = _traceback_text(detail) or result.error_text
        if event.startswith("Task failed with exception"):
            result.task_reported_failure = True
        sig = record.get("signal")
        if isinstance(sig, int) and sig != 0:
            result.signal = abs(sig)
            name = record.get("signal_name")
            result.signal_name = str(name) if name else _signal_name(abs(sig))
        elif event.startswith("Process exited abnormally"):
            code = record.get("exit_code")
            if isinstance(code, int):
                result.exit_code = code


def _format_record(record: dict[str, Any]) -> list[str]:
    ts = str(record.get("timestamp") or "")
    level = str(record.get("level") or "").upper()
    logger = str(record.get("logger") or "")
    event = str(record.get("event") or "")
    if logger == "task.stdout" or logger == "task.stderr":
        # What the task printed: show it as printed, it is what the user wrote.
        head = f"{ts} {event}".strip()
    else:
        extras = " ".join(
            f"{k}={_short(v)}" for k, v in record.items() if k not in _NOISE_KEYS
        )
        head = " ".join(p for p in (ts, level, f"[{logger}]" if logger else "", event, extras) if p)
    out = [head]
    detail = record.get("error_detail") or record.get("exception")
    if detail and isinstance(detail, list):
        out.extend((_traceback_text(detail) or "").splitlines())
    return out


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _traceback_text(stacks: list[Any]) -> str | None:
    """structlog's exception dicts (raised exception first, then its causes) → the traceback
    Python would have printed (root cause first)."""
    blocks: list[str] = []
    valid = [s for s in stacks if isinstance(s, dict)]
    if not valid:
        return None
    # Walk from the innermost cause outwards, as Python prints a chain.
    for index in range(len(valid) - 1, -1, -1):
        stack = valid[index]
        lines = ["Traceback (most recent call last):"]
        for frame in stack.get("frames") or []:
            if not isinstance(frame, dict):
                continue
            lines.append(f'  File "{frame.get("filename", "?")}", line {frame.get("lineno", "?")}, '
                         f'in {frame.get("name", "?")}')
        exc_type = str(stack.get("exc_type") or "Exception")
        exc_value = str(stack.get("exc_value") or "")
        lines.append(f"{exc_type}: {exc_value}" if exc_value else exc_type)
        for note in stack.get("exc_notes") or []:
            lines.append(str(note))
        blocks.append("\n".join(lines))
        if index > 0:
            link = ("The above exception was the direct cause of the following exception:"
                    if stack.get("is_cause") else
                    "During handling of the above exception, another exception occurred:")
            blocks.append(link)
    return "\n\n".join(blocks)


def _parse_text_lines(raw_lines: list[str], result: TaskLog) -> None:
    """Airflow 2 text logs: keep the lines, find the last traceback and any kill signal."""
    result.lines = [line.rstrip() for line in raw_lines]
    start = None
    for i, line in enumerate(result.lines):
        if "Traceback (most recent call last)" in line:
            start = i
            result.task_reported_failure = True
        match = _TEXT_SIGNAL.search(line)
        if match:
            number = int(match.group(1) or match.group(2))
            result.signal = number
            result.signal_name = _signal_name(number)
    if start is not None:
        # The traceback runs until the next log record, which starts with "[timestamp]".
        first = result.lines[start]
        block = [first[first.index("Traceback"):]]
        for line in result.lines[start + 1:]:
            if line.startswith("["):
                break
            block.append(line)
        result.error_text = "\n".join(block).rstrip()
