"""A small in-process copy of recent run logs, for when the Prefect API has none.

The API is the first place we read a run's logs from, but it can be unreachable, logging to
the API can be turned off (``PREFECT_LOGGING_TO_API_ENABLED=false``), or a batch can be lost.
Prefect's run loggers (``prefect.flow_runs`` and ``prefect.task_runs``) put ``flow_run_id``
and ``task_run_id`` on every record, so a plain handler on them can keep the last lines of each
run.  Memory is bounded: a fixed number of lines per run and of runs.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import OrderedDict, deque
from datetime import datetime, timezone

_LOGGER_NAMES = ("prefect.flow_runs", "prefect.task_runs")
MAX_LINES_PER_RUN = 400
MAX_RUNS = 64


def format_line(when: datetime, level: str, where: str, message: str) -> str:
    """One log line in the shape Prefect prints to the console, with a full timestamp."""
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp} | {level:<8} | {where} - {message}"


class RunLogBuffer(logging.Handler):
    """Keeps the last :data:`MAX_LINES_PER_RUN` lines of each of the last :data:`MAX_RUNS` runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._runs: OrderedDict[str, deque[str]] = OrderedDict()
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        # Called for every run log line of the process: keep it cheap and never raise.
        try:
            run_id = getattr(record, "flow_run_id", None)
            if run_id is None:
                return
            where = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
            where = f"{'Task' if getattr(record, 'task_run_id', None) else 'Flow'} run {where!r}"
            text = record.getMessage()
            if text.startswith(("Running hook 'on_", "Hook 'on_", "postmortem-scribe: ")):
                return  # bookkeeping about our own hooks
            if record.exc_info and record.exc_info[1] is not None:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            when = datetime.fromtimestamp(record.created, tz=timezone.utc)
            line = format_line(when, record.levelname, where, text)
            key = str(run_id)
            with self._guard:
                lines = self._runs.get(key)
                if lines is None:
                    lines = self._runs[key] = deque(maxlen=MAX_LINES_PER_RUN)
                    while len(self._runs) > MAX_RUNS:
                        self._runs.popitem(last=False)
                else:
                    self._runs.move_to_end(key)
                lines.extend(text_line for text_line in line.splitlines())
        except Exception:  # noqa: BLE001 - a logging handler must not raise
            pass

    def lines_for(self, flow_run_id: object) -> list[str]:
        """The kept lines of one flow run, oldest first (empty when none were seen)."""
        with self._guard:
            return list(self._runs.get(str(flow_run_id), ()))


_BUFFER: RunLogBuffer | None = None
_ATTACH_LOCK = threading.Lock()


def attach() -> RunLogBuffer:
    """Attach the buffer to Prefect's run loggers once per process and return it."""
    global _BUFFER
    with _ATTACH_LOCK:
        if _BUFFER is None:
            _BUFFER = RunLogBuffer()
        for name in _LOGGER_NAMES:
            logger = logging.getLogger(name)
            if _BUFFER not in logger.handlers:
                logger.addHandler(_BUFFER)
        return _BUFFER


def buffered_lines(flow_run_id: object) -> list[str]:
    """Lines kept in process for ``flow_run_id``; empty when the buffer was never attached."""
    return _BUFFER.lines_for(flow_run_id) if _BUFFER is not None else []
