"""Prefect state hooks that turn a failed, timed-out or crashed run into a post-mortem draft.

Use them in decorators, or let :func:`postmortem_scribe_prefect.install` add them::

    from postmortem_scribe_prefect import on_flow_failure, on_task_failure

    @task(on_failure=[on_task_failure])
    def load(path: str): ...

    @flow(on_failure=[on_flow_failure], on_crashed=[on_flow_failure])
    def nightly(input_path: str): ...

How they stay out of the run's way:

- Prefect calls flow hooks by keyword from its runner (``flow=, flow_run=, state=``) and
  positionally from its engines, so the parameter names are exactly those.
- Each hook is a plain function.  Called with no running event loop (sync flows, the runner's
  thread) it does the work and returns ``None``; called inside an event loop (async flows and
  tasks) it returns a coroutine, which Prefect awaits, so the loop is never blocked.
- The work runs in a daemon thread and the hook waits for it at most
  :attr:`Settings.hook_timeout <postmortem_scribe_prefect._report.Settings>` seconds, because
  Prefect has no hook timeout of its own.
- Nothing raises out of a hook, and nothing here sets a state: hooks run after Prefect has
  stored the final state, and the run's state is what it was.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from . import _compat, _logbuffer
from ._bounded import run_bounded, run_bounded_async
from ._report import (
    CLAIMED_RUNS,
    COVERED_RUNS,
    REPORTED_KEYS,
    HookFacts,
    Reporter,
    Settings,
    is_reported,
    live_exception,
    load_core_config,
    load_settings,
    path_parameters,
)

log = logging.getLogger("postmortem_scribe_prefect")

__all__ = [
    "on_flow_completion",
    "on_flow_crashed",
    "on_flow_failure",
    "on_task_completion",
    "on_task_failure",
]

# Attached at import so that lines logged before a failure are there when it happens; used
# only when the API has no logs for the run.
_logbuffer.attach()


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def _dispatch(job: Any, timeout: float, name: str) -> Any:
    """Run ``job`` bounded: blocking here without a loop, as a coroutine inside one."""
    ctx = _compat.worker_context()
    if _in_event_loop():
        return run_bounded_async(job, ctx, timeout, name)
    run_bounded(job, ctx, timeout, name)
    return None


def _run_logger(flow_run: Any) -> Any:
    """The logger of the run whose hook is running, so our one line shows in Prefect's UI.

    Our worker thread runs in a copy of the hook's context, where ``get_run_logger`` finds
    the flow or task run; the runner's crash hooks have no run context, hence the fallback.
    """
    try:
        from prefect import get_run_logger

        return get_run_logger()
    except Exception:  # noqa: BLE001
        pass
    try:
        from prefect.logging.loggers import flow_run_logger

        if flow_run is not None:
            return flow_run_logger(flow_run)
    except Exception:  # noqa: BLE001
        pass
    return log


def _say(logger: Any, outcome: Any) -> None:
    try:
        where = outcome.issue_url or outcome.path or ""
        logger.info(
            "postmortem-scribe: %s%s%s", outcome.action,
            f" {where}" if where else "", f" - {outcome.message}" if outcome.message else "",
        )
    except Exception:  # noqa: BLE001
        pass


# --------------------------------------------------------------------------------------------
# Failure hooks
# --------------------------------------------------------------------------------------------


def _failure_job(facts: HookFacts, settings: Settings) -> tuple[Callable[[], None], float]:
    """The work of one failure hook, to run in our thread, and how long the hook may wait."""
    config = load_core_config()

    def job() -> None:
        # This runs in our daemon thread, where no event loop runs: the state's result and the
        # log flush both take their synchronous paths here, whatever kind of flow it was.
        exception, problem = live_exception(facts.state)
        if exception is not None and exception.__traceback__ is None:
            exception = None  # e.g. a CrashedRun rebuilt from the API: the text says more
        flush_problem = _compat.flush_api_logs()
        logger = _run_logger(facts.flow_run)
        outcome = asyncio.run(_report_async(facts, exception, config, settings, logger,
                                            [p for p in (problem, flush_problem) if p]))
        if outcome is not None:
            _say(logger, outcome)

    return job, settings.timeout_for(config)


async def _report_async(facts: HookFacts, exception: BaseException | None, config: Any,
                        settings: Settings, logger: Any, problems: list[str]) -> Any:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        reporter = Reporter(client, config, settings)
        reporter.notes.extend(problems)
        reporter.logger = logger
        flow_run = facts.flow_run
        if facts.kind == "task" and flow_run is None and facts.task_run.flow_run_id:
            try:
                flow_run = await client.read_flow_run(facts.task_run.flow_run_id)
            except Exception:  # noqa: BLE001
                flow_run = None
        if facts.kind == "flow":
            ctx = await reporter.flow_context(
                flow_run, facts.state, flow_name=facts.flow_name, exception=exception,
                detected_by=facts.detected_by,
            )
        else:
            ctx = await reporter.task_context(
                facts.task_run, facts.state, flow_run=flow_run, flow_name=facts.flow_name,
                task_name=facts.task_name, exception=exception, task_params=facts.task_params,
                detected_by=facts.detected_by,
            )
        if ctx is None:
            return None
        if await asyncio.to_thread(is_reported, ctx.occurrence_key(), config):
            logger.info("postmortem-scribe: %s was already reported", ctx.occurrence_key())
            return None
        return await reporter.finish(ctx)


def on_flow_failure(flow: Any, flow_run: Any, state: Any) -> Any:
    """Flow ``on_failure`` / ``on_crashed`` hook: drafts a post-mortem for this flow run.

    Not reported again when a task or subflow of the run was already reported: the flow failed
    because of it, and that is one incident.  Returns ``None``, or a coroutine inside an
    event loop (Prefect awaits it).  Never raises.
    """
    try:
        settings = load_settings()
        facts = HookFacts(kind="flow", flow_run=flow_run, state=state,
                          flow_name=getattr(flow, "name", None))
        # Claimed now, in the engine's thread, so that the parent's hook (which runs next)
        # knows this subflow is being reported even if our worker is still busy.
        CLAIMED_RUNS.add(str(flow_run.id))
        job, timeout = _failure_job(facts, settings)
        return _dispatch(job, timeout, f"postmortem-scribe report for flow run {flow_run.id}")
    except Exception:  # noqa: BLE001 - a hook must never fail the host
        log.warning("postmortem-scribe: flow hook failed", exc_info=True)
        return None


on_flow_crashed = on_flow_failure
"""Alias of :func:`on_flow_failure` for ``on_crashed=[...]``: the same hook handles both."""


def on_task_failure(task: Any, task_run: Any, state: Any) -> Any:
    """Task ``on_failure`` hook: drafts a post-mortem for the task's final failure.

    Prefect calls it once, after the last retry.  The task's path parameters (which only exist
    in the task's context, never in the API) are inspected as its inputs.  Never raises.
    """
    try:
        settings = load_settings()
        if not settings.report_tasks:
            return None
        flow_name = _compat.current_flow_name()
        task_name = getattr(task, "name", None)
        quick_key = "|".join(["prefect", flow_name or "", str(task_run.flow_run_id or task_run.id),
                              task_name or "", "", str(task_run.run_count or "")])
        if quick_key in REPORTED_KEYS:  # e.g. the 2nd..50th failed run of one mapped task
            return None
        facts = HookFacts(kind="task", task_run=task_run, state=state, flow_name=flow_name,
                          task_name=task_name, task_params=_compat.task_run_parameters())
        if task_run.flow_run_id:
            # The flow's own hook runs next: it must see that this failure is being reported,
            # even when our worker is still busy after the hook's timeout.
            COVERED_RUNS.add(str(task_run.flow_run_id))
        job, timeout = _failure_job(facts, settings)
        return _dispatch(job, timeout, f"postmortem-scribe report for task run {task_run.id}")
    except Exception:  # noqa: BLE001
        log.warning("postmortem-scribe: task hook failed", exc_info=True)
        return None


# --------------------------------------------------------------------------------------------
# Completion hooks: profiles of inputs that worked, to say what changed when one fails
# --------------------------------------------------------------------------------------------

_PROFILED: set[tuple[str, int, int]] = set()
_PROFILED_LOCK = threading.Lock()


def _new_paths(paths: list[str]) -> list[str]:
    """Paths whose current (size, mtime) this process has not profiled yet."""
    fresh = []
    for path in paths:
        local = path[7:] if path.startswith("file://") else path
        try:
            st = os.stat(local)
        except OSError:
            continue
        key = (local, st.st_size, int(st.st_mtime_ns))
        with _PROFILED_LOCK:
            if key in _PROFILED:
                continue
            _PROFILED.add(key)
            if len(_PROFILED) > 4096:
                _PROFILED.clear()
        fresh.append(path)
    return fresh


def _succeeded(params: Any, what: str, *, pipeline: str | None, task: str | None,
               run_id: str | None, try_number: int | None) -> Any:
    """Record the success (flaky detection: a task that fails and passes in turn) and profile
    the inputs whose size or mtime this process has not seen yet."""
    try:
        import postmortem_scribe

        config = load_core_config()
        paths = _new_paths(path_parameters(params, config))
        report_success = getattr(postmortem_scribe, "report_success", None)
        report_profile = getattr(postmortem_scribe, "report_profile", None)
        if report_success is None and (report_profile is None or not paths):
            return None
        settings = load_settings()

        def job() -> None:
            if report_success is not None and pipeline:
                report_success(pipeline, task, run_id=run_id, try_number=try_number,
                               orchestrator="prefect", inputs=paths, config=config)
            elif report_profile is not None:
                for path in paths:
                    report_profile(path, config=config)

        return _dispatch(job, settings.profile_timeout, f"postmortem-scribe success of {what}")
    except Exception:  # noqa: BLE001
        log.debug("postmortem-scribe: completion hook failed", exc_info=True)
        return None


def on_flow_completion(flow: Any, flow_run: Any, state: Any) -> Any:
    """Flow ``on_completion`` hook: records the success and a profile of each input file.

    A later failure's draft then says what changed in the file since it last worked, and a flow
    that alternates between failing and passing is labelled flaky.  Cheap when there are no
    path parameters; bounded when there are; never raises.
    """
    return _succeeded(getattr(flow_run, "parameters", None), f"flow run {flow_run.id}",
                      pipeline=getattr(flow, "name", None), task=None,
                      run_id=str(flow_run.id), try_number=getattr(flow_run, "run_count", None))


def on_task_completion(task: Any, task_run: Any, state: Any) -> Any:
    """Task ``on_completion`` hook: records the success and a profile of each input file."""
    return _succeeded(_compat.task_run_parameters(), f"task run {task_run.id}",
                      pipeline=_compat.current_flow_name(), task=getattr(task, "name", None),
                      run_id=str(task_run.flow_run_id or task_run.id),
                      try_number=getattr(task_run, "run_count", None))
