"""Keep the host safe: nothing this adapter does may fail or stall an Airflow task or scheduler."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

log = logging.getLogger("postmortem_scribe.airflow")

T = TypeVar("T")

# Threads started for DAG-run reports, so tests and short-lived processes can wait for them.
_pending: list[threading.Thread] = []
_pending_lock = threading.Lock()


@contextlib.contextmanager
def never_raise(what: str) -> Iterator[None]:
    """Log (never propagate) any error raised inside; the host task must not see ours."""
    try:
        yield
    except Exception:  # noqa: BLE001 - the point of this function
        # Even logging may be broken at interpreter exit.
        with contextlib.suppress(Exception):
            log.warning("postmortem-scribe: %s failed; the task is not affected.", what,
                        exc_info=True)


def call_bounded(fn: Callable[[], T], *, timeout: float, what: str) -> T | None:
    """Run ``fn`` in a worker thread and wait at most ``timeout`` seconds for it.

    Returns ``fn``'s result, or ``None`` when it raised or did not finish in time.  The thread is
    a daemon: if the task process exits first, the unfinished report is abandoned rather than
    holding the task up (the core's outbox keeps whatever it had stored for ``scribe flush``).
    """
    box: dict[str, T] = {}

    def target() -> None:
        with never_raise(what):
            box["result"] = fn()

    thread = threading.Thread(target=target, name=f"postmortem-scribe: {what}", daemon=True)
    try:
        thread.start()
        thread.join(max(timeout, 0.1))
    except Exception:  # noqa: BLE001 - e.g. cannot start a thread during shutdown
        log.warning("postmortem-scribe: could not run %s.", what, exc_info=True)
        return None
    if thread.is_alive():
        log.warning(
            "postmortem-scribe: %s did not finish within %.0f s; the task goes on without it "
            "(anything already stored stays in the outbox for `scribe flush`).", what, timeout,
        )
        return None
    return box.get("result")


def start_background(fn: Callable[[], None], *, what: str) -> threading.Thread | None:
    """Run ``fn`` in a background thread (the scheduler's loop must not wait for a report).

    The thread is not a daemon so that a short-lived process (``airflow dags test``) finishes
    the report before exiting; ``fn`` itself must be bounded in time.
    """
    def target() -> None:
        try:
            with never_raise(what):
                fn()
        finally:
            with _pending_lock:
                if thread in _pending:
                    _pending.remove(thread)

    thread = threading.Thread(target=target, name=f"postmortem-scribe: {what}", daemon=False)
    try:
        with _pending_lock:
            _pending.append(thread)
        thread.start()
    except Exception:  # noqa: BLE001
        with _pending_lock:
            if thread in _pending:
                _pending.remove(thread)
        log.warning("postmortem-scribe: could not start %s.", what, exc_info=True)
        return None
    return thread


def wait_for_pending(timeout: float = 60.0) -> bool:
    """Wait until background DAG-run reports have finished; ``True`` if none is left running."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        with _pending_lock:
            threads = list(_pending)
        if not threads:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        threads[0].join(min(remaining, 1.0))
