"""Every Prefect version quirk the adapter depends on, in one place.

Written against Prefect 3.9 (observed behaviour is in the project's notes on Prefect); the 2.x
branches follow 2.x's source and are best effort.  Nothing here raises for a missing attribute:
callers get ``None`` or an empty list and say so in the draft.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import prefect

log = logging.getLogger("postmortem_scribe_prefect")


def _version_tuple(text: str) -> tuple[int, int]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    while len(parts) < 2:
        parts.append(0)
    return parts[0], parts[1]


PREFECT_VERSION: str = getattr(prefect, "__version__", "0")
PREFECT_3_PLUS: bool = _version_tuple(PREFECT_VERSION) >= (3, 0)


# --------------------------------------------------------------------------------------------
# Hook lists
# --------------------------------------------------------------------------------------------


def hook_list(obj: Any, kind: str) -> list[Any] | None:
    """The live list of ``kind`` hooks (``on_failure``, ``on_crashed``, ``on_completion``).

    3.x keeps them in ``<kind>_hooks`` (``flow.on_failure`` is a decorator method there);
    2.x keeps them in the plain attribute ``<kind>``, which may be ``None``.
    """
    if PREFECT_3_PLUS:
        hooks = getattr(obj, f"{kind}_hooks", None)
        if hooks is None and hasattr(obj, f"{kind}_hooks"):
            hooks = []
            setattr(obj, f"{kind}_hooks", hooks)
        return hooks if isinstance(hooks, list) else None
    hooks = getattr(obj, kind, None)
    if hooks is None and hasattr(obj, kind) and not callable(hooks):
        hooks = []
        setattr(obj, kind, hooks)
    return hooks if isinstance(hooks, list) else None


# --------------------------------------------------------------------------------------------
# Threads and contexts
# --------------------------------------------------------------------------------------------


def worker_context() -> contextvars.Context:
    """A copy of the caller's context, for our worker thread, without the engine's API clients.

    Copying keeps settings such as a temporary ``PREFECT_API_URL`` (which live in a context
    variable); clearing the client contexts stops ``get_client()`` from handing our thread the
    engine's own client, which the engine may close while we still use it.
    """
    ctx = contextvars.copy_context()

    def clear() -> None:
        from prefect import context as pctx

        for name in ("SyncClientContext", "AsyncClientContext"):
            model = getattr(pctx, name, None)
            var = getattr(model, "__var__", None)
            if isinstance(var, contextvars.ContextVar):
                var.set(None)

    try:
        ctx.run(clear)
    except Exception:  # noqa: BLE001 - a 2.x layout without these contexts
        log.debug("could not clear Prefect client contexts", exc_info=True)
    return ctx


def task_run_parameters() -> dict[str, Any]:
    """The parameter values of the task run whose hook is running (empty outside one).

    The API never stores task parameter values; inside a task hook they are only in the
    ``TaskRunContext``, so this must be called in the hook's own thread.
    """
    try:
        from prefect.context import TaskRunContext

        ctx = TaskRunContext.get()
        params = getattr(ctx, "parameters", None) if ctx is not None else None
        return dict(params) if isinstance(params, dict) else {}
    except Exception:  # noqa: BLE001
        return {}


def current_flow_name() -> str | None:
    """The name of the flow whose run context is active, e.g. inside a task hook."""
    try:
        from prefect.context import FlowRunContext

        ctx = FlowRunContext.get()
        flow = getattr(ctx, "flow", None) if ctx is not None else None
        return getattr(flow, "name", None)
    except Exception:  # noqa: BLE001
        return None


def state_result(state: Any) -> Any:
    """``state.result(raise_on_failure=False)``, synchronously, in a thread with no event loop.

    3.x picks the async implementation when a run context of an async flow or task is active,
    even in a thread with no loop (our worker runs in a copy of the hook's context), so force
    the sync path; 2.x has no ``_sync`` and may hand back a coroutine, which we run here.
    """
    import asyncio

    if PREFECT_3_PLUS:
        try:
            result = state.result(raise_on_failure=False, _sync=True)
        except TypeError:
            result = state.result(raise_on_failure=False)
    else:
        result = state.result(raise_on_failure=False, fetch=True)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result


# --------------------------------------------------------------------------------------------
# Logs
# --------------------------------------------------------------------------------------------


def flush_api_logs() -> str | None:
    """Send the logs still queued for the API; returns a problem in words, or ``None``.

    Logs reach the API in batches (every 2 s by default), so when a hook runs, none of the
    failing run's last lines (the traceback among them) are there yet.  Must run in a thread
    with no running event loop: a sync flush inside a loop only schedules the send.
    """
    try:
        from prefect.logging.handlers import APILogHandler, APILogWorker

        # In 3.x `APILogHandler().flush()` drains every queue service of the process (the
        # registry is shared), the events worker too, which then logs "Still processing
        # items" warnings into the user's run.  Drain only the log workers when we can.
        instances = getattr(APILogWorker, "_instances", None)
        drain = getattr(APILogWorker, "_drain", None)
        if isinstance(instances, dict) and drain is not None:
            import concurrent.futures

            workers = [w for w in list(instances.values()) if isinstance(w, APILogWorker)]
            futures = [w._drain(at_exit=False) for w in workers]
            concurrent.futures.wait(futures, timeout=5)
            return None
        # 2.x (a classmethod) and any other layout: the public flush.
        APILogHandler().flush()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"could not flush Prefect's API log handler ({type(exc).__name__}: {exc})"


_API_PAGE = 200  # the server's default (and maximum) page size, PREFECT_API_DEFAULT_LIMIT


async def read_logs(client: Any, flow_run_id: Any, limit: int, *, task_run_id: Any = None
                    ) -> list[Any]:
    """The newest ``limit`` log records of one flow run (its tasks included), oldest first.

    With ``task_run_id`` (and ``flow_run_id`` ``None``): those of one task run outside a flow.
    """
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterTaskRunId
    from prefect.client.schemas.sorting import LogSort

    if flow_run_id is not None:
        log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    else:
        log_filter = LogFilter(task_run_id=LogFilterTaskRunId(any_=[task_run_id]))
    newest_first: list[Any] = []
    while len(newest_first) < limit:
        page = min(_API_PAGE, limit - len(newest_first))
        batch = await client.read_logs(
            log_filter=log_filter,
            limit=page,
            offset=len(newest_first),
            sort=LogSort.TIMESTAMP_DESC,
        )
        newest_first.extend(batch)
        if len(batch) < page:
            break
    return list(reversed(newest_first))


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


async def read_task_runs(
    client: Any, flow_run_id: Any, *, failed_only: bool = False, ids: list[Any] | None = None,
    limit: int = 200,
) -> list[Any]:
    """Task runs of one flow run: the failed or crashed ones only, or those with ``ids``."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterId,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    failed = TaskRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
    task_filter = TaskRunFilter(
        state=TaskRunFilterState(type=failed) if failed_only else None,
        id=TaskRunFilterId(any_=list(ids)) if ids else None,
    )
    return list(
        await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            task_run_filter=task_filter,
            limit=limit,
        )
    )


async def read_child_flow_runs(client: Any, flow_run_ids: list[Any], limit: int = 200) -> list[Any]:
    """Subflow runs started by any of ``flow_run_ids``."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    if not flow_run_ids:
        return []
    return list(
        await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=list(flow_run_ids))
            ),
            limit=limit,
        )
    )


async def last_success_at(client: Any, flow_id: Any, deployment_id: Any = None) -> str | None:
    """End time (ISO 8601) of the flow's (or deployment's) newest completed run."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowFilter,
        FlowFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    runs = await client.read_flow_runs(
        flow_filter=FlowFilter(id=FlowFilterId(any_=[flow_id])),
        deployment_filter=(
            DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])) if deployment_id else None
        ),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED]))
        ),
        sort=FlowRunSort.END_TIME_DESC,
        limit=1,
    )
    for run in runs:
        when = run.end_time or run.start_time
        if when is not None:
            return when.isoformat()
    return None


async def recent_failed_flow_runs(client: Any, since: Any, limit: int = 200) -> list[Any]:
    """Flow runs that ended Failed or Crashed after ``since`` (a timezone-aware datetime)."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterEndTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    return list(
        await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
                ),
                end_time=FlowRunFilterEndTime(after_=since),
            ),
            limit=limit,
        )
    )


def ui_url(kind: str, obj_id: Any) -> str | None:
    """Link to a flow run (``kind="flow-run"``) or task run in the Prefect UI, when one is set."""
    try:
        from prefect.utilities.urls import url_for

        return url_for(kind, obj_id=str(obj_id))
    except Exception:  # noqa: BLE001 - 2.x has no url_for; build it from the UI setting
        try:
            from prefect.settings import PREFECT_UI_URL

            base = PREFECT_UI_URL.value()
            return f"{base.rstrip('/')}/runs/{kind}/{obj_id}" if base else None
        except Exception:  # noqa: BLE001
            return None


# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------


async def load_secret(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``, or ``None`` when there is none."""
    from prefect.blocks.system import Secret

    loader = getattr(Secret, "aload", None)
    block = await loader(name) if loader is not None else await Secret.load(name)
    value = block.get()
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
