"""The Python API: what adapters, scripts and the CLI call.

Every function here is safe to call from a failing task: none raises into its caller, and
:func:`report` / :func:`report_context` finish within the configured time budget.  What could
not be delivered in time waits in the outbox for ``scribe flush``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .config import Config, load_config
from .records import FailureContext, Outcome

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported on first use, not at import time
    from .publish.outbox import DrainResult

log = logging.getLogger("postmortem_scribe")

# Time past the budget we wait for the worker before giving up on it: delivery timeouts are
# already bounded by the budget, this only covers a stage that overruns.
_GRACE_SECONDS = 2.0


def report(
    error: BaseException | str | None = None,
    *,
    pipeline: str,
    task: str | None = None,
    run_id: str | None = None,
    orchestrator: str = "python",
    try_number: int | None = None,
    max_tries: int | None = None,
    map_index: int | None = None,
    state: str = "failed",
    log_file: str | None = None,
    log_lines: Sequence[str] | None = None,
    inputs: Iterable[str] = (),
    owner: str | None = None,
    tags: Iterable[str] = (),
    run_url: str | None = None,
    started_at: str | None = None,
    ended_at: str | None = None,
    notes: Iterable[str] = (),
    secrets: Iterable[str] = (),
    detected_by: str = "api",
    config: Config | None = None,
) -> Outcome:
    """Report one failure, from a live exception or from text, and return what happened.

    ``error`` is the exception (with its traceback), or a traceback / error message as text;
    when it is ``None`` inside an ``except`` block, the exception being handled is used.

    Example::

        try:
            load(path)
        except Exception as exc:
            outcome = postmortem_scribe.report(exc, pipeline="sales_daily", task="load",
                                               inputs=[path])
            print(outcome.message)
            raise
    """
    try:
        if error is None:
            current = sys.exc_info()[1]
            error = current if current is not None else None
        ctx = FailureContext(
            pipeline=pipeline,
            task=task,
            orchestrator=orchestrator,
            run_id=run_id,
            try_number=try_number,
            max_tries=max_tries,
            map_index=map_index,
            state=state,
            started_at=started_at,
            ended_at=ended_at,
            owner=owner,
            tags=list(tags),
            run_url=run_url,
            exception=error if isinstance(error, BaseException) else None,
            error_text=error if isinstance(error, str) else None,
            log_path=str(log_file) if log_file else None,
            log_lines=list(log_lines) if log_lines is not None else None,
            inputs=[str(i) for i in inputs],
            secrets=list(secrets),
            detected_by=detected_by,
            notes=list(notes),
        )
    except Exception as exc:  # noqa: BLE001 - never raise into the caller
        return Outcome(action="failed", message=f"invalid arguments to report(): {exc}")
    return report_context(ctx, config=config)


def report_context(ctx: FailureContext, *, config: Config | None = None) -> Outcome:
    """Report a failure an adapter described; never raises, bounded by ``config.budget_seconds``."""
    try:
        config = config or load_config()
    except Exception as exc:  # noqa: BLE001
        return Outcome(action="failed", message=f"configuration could not be loaded: {exc}")
    budget = config.budget_seconds
    deadline = time.monotonic() + budget
    box: list[Outcome] = []

    def work() -> None:
        try:
            from .pipeline import handle

            box.append(handle(ctx, config, deadline=deadline))
        except Exception as exc:  # noqa: BLE001 - logged, reported as an outcome
            log.warning("postmortem-scribe could not report %s: %s", ctx.occurrence_key(), exc,
                        exc_info=True)
            box.append(Outcome(action="failed", message=f"internal error: {type(exc).__name__}: {exc}"))

    # A worker thread makes the budget a promise: a stage that hangs (a stuck file system, a
    # silent server) cannot hold the task beyond it.  The daemon thread finishes on its own.
    worker = threading.Thread(target=work, name="postmortem-scribe-report", daemon=True)
    worker.start()
    worker.join(budget + _GRACE_SECONDS)
    if box:
        return box[0]
    return Outcome(
        action="failed",
        message=f"reporting did not finish within its {budget:g} s budget; it goes on in the "
        "background and anything stored waits in the outbox for `scribe flush`",
    )


def is_reported(occurrence_key: str, *, config: Config | None = None) -> bool:
    """Whether this occurrence (``FailureContext.occurrence_key()``) was already reported."""
    try:
        from .store import open_store

        config = config or load_config()
        return open_store(config.store_url).is_reported(occurrence_key)
    except Exception:  # noqa: BLE001 - when unsure, let the caller report (dedup catches it)
        log.debug("is_reported failed", exc_info=True)
        return False


def reported_in_run(orchestrator: str, run_id: str, *, config: Config | None = None) -> list[str]:
    """Occurrence keys already reported for one run (e.g. a DAG run or flow run id)."""
    try:
        from .store import open_store

        config = config or load_config()
        return open_store(config.store_url).reported_in_run(orchestrator, run_id)
    except Exception:  # noqa: BLE001
        log.debug("reported_in_run failed", exc_info=True)
        return []


def report_profile(path: str, *, config: Config | None = None) -> None:
    """Remember the shape of an input that a successful run read, to compare on failure."""
    try:
        from . import inputs
        from .build import input_path
        from .store import open_store

        config = config or load_config()
        local = input_path(path)
        profile = inputs.profile_path(local, budget_seconds=config.input_budget_seconds)
        if profile:
            open_store(config.store_url).save_profile(local, profile)
    except Exception:  # noqa: BLE001 - a profile is a nicety, never a failure
        log.debug("report_profile failed for %s", path, exc_info=True)


def report_success(
    pipeline: str,
    task: str | None = None,
    *,
    run_id: str | None = None,
    try_number: int | None = None,
    orchestrator: str = "python",
    inputs: Iterable[str] = (),
    config: Config | None = None,
) -> None:
    """Record that a task succeeded (for flaky detection) and profile its inputs.

    Adapters call it from success hooks; a success on a retry marks the task as flaky.
    Never raises.
    """
    try:
        from .store import open_store

        config = config or load_config()
        open_store(config.store_url).record_success(
            pipeline=pipeline, task=task, run_id=run_id, try_number=try_number,
            orchestrator=orchestrator)
        for path in list(inputs)[:10]:
            report_profile(str(path), config=config)
    except Exception:  # noqa: BLE001
        log.debug("report_success failed", exc_info=True)


def flush(*, config: Config | None = None, deadline: float | None = None) -> DrainResult:
    """Deliver what waits in the outbox (due messages only); never raises."""
    from .publish.outbox import DrainResult

    try:
        from .pipeline import deliver_pending
        from .store import open_store

        config = config or load_config()
        return deliver_pending(open_store(config.store_url), config, deadline=deadline)
    except Exception as exc:  # noqa: BLE001
        log.warning("postmortem-scribe flush failed: %s", exc, exc_info=True)
        return DrainResult(errors=[f"internal error: {type(exc).__name__}: {exc}"])
