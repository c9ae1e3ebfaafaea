"""Find a task instance's log file and read the facts the adapter decides on.

The excerpt in the draft is the core's job (it reads the file backwards, renders Airflow 3's JSON
lines and parses the structured ``error_detail``); the adapter passes the file's path.  What the
adapter itself needs from the log is narrower: did the task runner catch an error (then the
task's own hooks report it), or did the supervisor see the process die from a signal (then
nothing in the task process will, and the DAG-run path must draft it now)?

Airflow 3's supervisor writes one JSON object per line; a hard-killed child is a record
``{"event": "Process terminated by signal. Likely out of memory error (OOM)...", "signal": -9,
"signal_name": "SIGKILL"}`` and a caught failure is ``{"event": "Task failed with exception"}``.
Airflow 2 writes text (``Task exited with return code Negsignal.SIGKILL`` / ``-9``).
"""

from __future__ import annotations

import json
import os
import re
import signal as _signal
from dataclasses import dataclass

from . import version_compat as compat

_FAILURE_EVENT = "Task failed with exception"
_TEXT_SIGNAL = re.compile(
    r"return code (?:Negsignal\.(?P<name>SIG\w+)|-(?P<num>\d+))"
    r"|terminated by signal\D{0,20}(?P<num2>\d+)", re.IGNORECASE)


@dataclass
class TaskLog:
    """Facts read from the end of one task instance's log file."""

    path: str
    signal: int | None = None
    """Signal number that killed the task process (9 for SIGKILL), if the log says so."""
    signal_name: str | None = None
    exit_code: int | None = None
    """Non-zero exit code of the task process, if it exited abnormally without a signal."""
    task_reported_failure: bool = False
    """The task runner caught the error itself, so the task's own hooks ran (or are running)."""
    problem: str | None = None

    def evidence(self) -> list[str]:
        """Plain sentences for the draft's notes."""
        if self.signal is not None:
            name = self.signal_name or _signal_name(self.signal)
            sentence = f"the task process exited with signal {self.signal}"
            if name:
                sentence += f" ({name})"
            if self.signal == 9:
                sentence += ("; nothing ran in the task process after that, as when the kernel's "
                             "OOM killer or an eviction ends it")
            return [sentence]
        if self.exit_code:
            return [f"the task process exited abnormally with exit code {self.exit_code}"]
        return []


def _signal_name(number: int) -> str | None:
    try:
        return _signal.Signals(number).name
    except (ValueError, TypeError):
        return None


def render_log_path(*, dag_id: str, run_id: str, task_id: str, map_index: int | None,
                    try_number: int | None, logical_date: str | None = None) -> str | None:
    """Absolute path of the attempt's log file from ``[logging]`` settings, or ``None``.

    Airflow renders ``log_filename_template`` with Jinja (``ti``, ``ts``, ``try_number``) or, for
    old-style templates, ``str.format``; both are reproduced here because the task process has no
    database access on Airflow 3 (Airflow's own renderer reads the run's template from the DB).
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

            env = jinja2.Environment(autoescape=False)
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
    """Facts from the last ``max_bytes`` of a task log; ``None`` when there is no such file.

    Reads by seeking from the end: a multi-gigabyte log costs what a small one costs (the
    supervisor writes the signal record last).  Never raises.
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
            start = max(0, size - max(4096, max_bytes))
            fh.seek(start)
            raw = fh.read()
    except OSError as exc:
        result.problem = f"the log file {path} could not be read ({exc.strerror or exc})"
        return result
    lines = raw.decode("utf-8", errors="replace").splitlines()
    if start > 0 and lines:
        lines = lines[1:]  # the first line was cut by the seek
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("{") and compat.logs_are_json():
            _json_fact(stripped, result)
        else:
            _text_fact(stripped, result)
    return result


def _json_fact(line: str, result: TaskLog) -> None:
    if '"signal"' not in line and _FAILURE_EVENT not in line and "exit_code" not in line:
        return  # most lines: skip the JSON parse
    try:
        record = json.loads(line)
    except ValueError:
        return
    if not isinstance(record, dict):
        return
    event = str(record.get("event") or "")
    if event.startswith(_FAILURE_EVENT):
        result.task_reported_failure = True
    sig = record.get("signal")
    if isinstance(sig, int) and not isinstance(sig, bool) and sig != 0:
        result.signal = abs(sig)
        name = record.get("signal_name")
        result.signal_name = str(name) if name else _signal_name(abs(sig))
    elif event.startswith("Process exited abnormally"):
        code = record.get("exit_code")
        if isinstance(code, int) and not isinstance(code, bool):
            result.exit_code = code


def _text_fact(line: str, result: TaskLog) -> None:
    if "Traceback (most recent call last)" in line:
        result.task_reported_failure = True
    match = _TEXT_SIGNAL.search(line)
    if not match:
        return
    if match.group("name"):
        try:
            result.signal = int(_signal.Signals[match.group("name")])
        except KeyError:
            return
    else:
        result.signal = int(match.group("num") or match.group("num2"))
    result.signal_name = _signal_name(result.signal)
