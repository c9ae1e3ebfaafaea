"""Follow the Prefect API's events and draft the failures no in-process hook reported.

A process killed by SIGKILL (the kernel's OOM killer, an operator, a lost node) runs no hook of
its own; Prefect's runner or worker then marks the flow run Crashed, and the server emits a
``prefect.flow-run.Crashed`` event.  The watcher is a small long-running process, deployed
beside the Prefect server or a worker, that turns such events into drafts.

For each ``prefect.flow-run.Failed`` / ``prefect.flow-run.Crashed`` /
``prefect.task-run.Failed`` event it:

1. waits ``grace_seconds`` after the event, so that an in-process hook (which runs after the
   state is stored, i.e. after the event) has time to report, and the run's last log batch
   (sent every 2 s) reaches the API; then waits until the run's log count stops changing;
2. skips the run when anything was already reported for it or its subflows (the store is
   shared with the hooks: ``SCRIBE_STORE_URL``), or when the run is no longer failed
   (e.g. a retry started);
3. otherwise builds the failure from the API (state message, logs with the traceback, flow
   parameters that name input files) and reports it with ``detected_by="watcher"``.

On connect the events stream replays about a minute of past events, and a reconnect replays
again.  Events are deduplicated in memory by run and run count, and every report is checked
against the store, so a replay, a restart or a second watcher never drafts twice.  On each
(re)connection the watcher also asks the API for runs that failed while it was away
(``catch_up_seconds`` on start).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import _compat
from ._report import (
    REPORTED_KEYS,
    Reporter,
    Settings,
    _Seen,
    is_reported,
    load_core_config,
    load_settings,
)

log = logging.getLogger("postmortem_scribe_prefect.watcher")

__all__ = ["WatchStats", "Watcher", "watch"]

EVENT_NAMES = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.task-run.Failed")
_FAILED_TYPES = ("FAILED", "CRASHED")
_MAX_ATTEMPTS = 3


@dataclass
class WatchStats:
    """What one :meth:`Watcher.run` did, for logs and tests."""

    connections: int = 0
    events: int = 0
    replayed_or_repeated: int = 0
    drafted: int = 0
    skipped: int = 0
    errors: int = 0
    outcomes: list[str] = field(default_factory=list)


@dataclass(order=True)
class _Item:
    due: float
    kind: str = field(compare=False)
    run_id: str = field(compare=False)
    attempts: int = field(default=0, compare=False)


def _state_type(obj: Any) -> str:
    state = getattr(obj, "state", None)
    kind = getattr(state, "type", None) if state is not None else getattr(obj, "state_type", None)
    return str(getattr(kind, "value", kind) or "").upper()


class Watcher:
    """Follows failure events of one Prefect API and reports the ones nobody reported.

    Args:
        grace_seconds: Wait after each event before looking at the run (default 10).
        settle_seconds: Then wait up to this long for the run's log count to stop changing.
        catch_up_seconds: On start, also look at runs that ended failed this long ago.
        exit_after: Stop listening after this many seconds and finish what was received
            (``None``: run until cancelled).  For tests and cron-style runs.
        flows: Only these flows (names or globs such as ``nightly-*``); default all.
        settings: Adapter settings (default from the environment).
    """

    def __init__(
        self,
        *,
        grace_seconds: float = 10.0,
        settle_seconds: float = 6.0,
        catch_up_seconds: float = 600.0,
        exit_after: float | None = None,
        flows: list[str] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.grace_seconds = max(0.0, grace_seconds)
        self.settle_seconds = max(0.0, settle_seconds)
        self.catch_up_seconds = max(0.0, catch_up_seconds)
        self.exit_after = exit_after
        self.flows = [f for f in (flows or []) if f]
        self.settings = settings or load_settings()
        self.stats = WatchStats()
        self._seen = _Seen(size=20000)
        self._queue: asyncio.PriorityQueue[_Item] | None = None
        self._connected_until: datetime | None = None

    # --- receiving ------------------------------------------------------------------------

    def _accept(self, kind: str, run_id: str, run_count: Any, occurred: datetime | None) -> None:
        key = f"{kind}:{run_id}:{run_count or ''}"
        if key in self._seen:
            self.stats.replayed_or_repeated += 1
            return
        self._seen.add(key)
        delay = self.grace_seconds
        if occurred is not None:
            age = (datetime.now(timezone.utc) - occurred).total_seconds()
            delay = max(0.0, self.grace_seconds - max(0.0, age))
        assert self._queue is not None
        self._queue.put_nowait(_Item(time.monotonic() + delay, kind, run_id))

    def _on_event(self, event: Any) -> None:
        self.stats.events += 1
        resource = getattr(event, "resource", None)
        rid = str(getattr(resource, "id", "") or "")
        if rid.startswith("prefect.flow-run."):
            kind, run_id = "flow", rid[len("prefect.flow-run."):]
        elif rid.startswith("prefect.task-run."):
            kind, run_id = "task", rid[len("prefect.task-run."):]
        else:
            return
        run_count = None
        try:
            run_count = resource.get("prefect.run-count")
        except Exception:  # noqa: BLE001
            pass
        occurred = getattr(event, "occurred", None)
        self._accept(kind, run_id, run_count, occurred)

    async def _catch_up(self, client: Any, since: datetime) -> None:
        """Queue flow runs that ended failed since ``since`` (missed while disconnected)."""
        try:
            runs = await _compat.recent_failed_flow_runs(client, since)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not list recent failed flow runs: %s", exc)
            return
        for run in runs:
            self._accept("flow", str(run.id), getattr(run, "run_count", None),
                         getattr(run, "end_time", None))

    async def _follow(self, client: Any, stop_at: float | None) -> None:
        from prefect.events.clients import get_events_subscriber
        from prefect.events.filters import EventFilter, EventNameFilter

        backoff = 1.0
        first = True
        while stop_at is None or time.monotonic() < stop_at:
            try:
                event_filter = EventFilter(event=EventNameFilter(name=list(EVENT_NAMES)))
                subscriber = get_events_subscriber(filter=event_filter, reconnection_attempts=3)
                async with subscriber as sub:
                    self.stats.connections += 1
                    backoff = 1.0
                    now = datetime.now(timezone.utc)
                    since = (now - timedelta(seconds=self.catch_up_seconds) if first
                             else (self._connected_until or now) - timedelta(minutes=1))
                    first = False
                    log.info("connected to the Prefect events stream; catching up since %s",
                             since.isoformat(timespec="seconds"))
                    await self._catch_up(client, since)
                    while True:
                        self._connected_until = datetime.now(timezone.utc)
                        remaining = None if stop_at is None else stop_at - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            return
                        try:
                            event = await asyncio.wait_for(sub.__anext__(),
                                                           timeout=min(remaining or 5.0, 5.0))
                        except asyncio.TimeoutError:
                            continue
                        except StopAsyncIteration:
                            log.info("the events stream closed; reconnecting")
                            break
                        self._on_event(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a server restart must not end the watch
                self.stats.errors += 1
                log.warning("events stream failed (%s: %s); reconnecting in %.0f s",
                            type(exc).__name__, exc, backoff)
            if stop_at is not None and time.monotonic() + backoff >= stop_at:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    # --- handling ---------------------------------------------------------------------------

    async def _settle_logs(self, client: Any, flow_run_id: Any) -> None:
        """Wait (bounded) until the run's log count stops changing: the last batch is in."""
        if self.settle_seconds <= 0:
            return
        deadline = time.monotonic() + self.settle_seconds
        last = -1
        while time.monotonic() < deadline:
            try:
                count = len(await _compat.read_logs(client, flow_run_id, self.settings.log_limit))
            except Exception:  # noqa: BLE001
                return
            if count == last:
                return
            last = count
            await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    async def _watched(self, client: Any, flow_run: Any) -> bool:
        if not self.flows:
            return True
        try:
            name = (await client.read_flow(flow_run.flow_id)).name
        except Exception:  # noqa: BLE001 - unknown flow: better a draft than a silent miss
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.flows)

    async def _handle(self, client: Any, item: _Item) -> str:
        reporter = Reporter(client, load_core_config(), self.settings)
        if item.kind == "flow":
            flow_run = await client.read_flow_run(item.run_id)
            if not await self._watched(client, flow_run):
                return f"flow run {item.run_id} is not of a watched flow; nothing to do"
            if _state_type(flow_run) not in _FAILED_TYPES:
                return f"flow run {item.run_id} is {flow_run.state.name} now; nothing to do"
            await self._settle_logs(client, flow_run.id)
            ctx = await reporter.flow_context(flow_run, flow_run.state, flow_name=None,
                                              exception=None, detected_by="watcher")
            if ctx is None:
                return f"flow run {item.run_id} was already reported"
        else:
            task_run = await client.read_task_run(item.run_id)
            if _state_type(task_run) not in _FAILED_TYPES:
                return f"task run {item.run_id} is {task_run.state.name} now; nothing to do"
            flow_run = None
            if task_run.flow_run_id:
                flow_run = await client.read_flow_run(task_run.flow_run_id)
                if not await self._watched(client, flow_run):
                    return f"task run {item.run_id} is not of a watched flow; nothing to do"
                reason = await reporter.covered_by(flow_run.id)
                if reason:
                    return f"task run {item.run_id} not drafted separately: {reason}"
                await self._settle_logs(client, flow_run.id)
            ctx = await reporter.task_context(
                task_run, task_run.state, flow_run=flow_run, flow_name=None, task_name=None,
                exception=None, task_params={}, detected_by="watcher",
            )
        key = ctx.occurrence_key()
        if await asyncio.to_thread(is_reported, key, reporter.config):
            REPORTED_KEYS.add(key)
            return f"{key} was already reported"
        outcome = await reporter.finish(ctx)
        if outcome.action in ("opened", "commented", "regression", "queued", "recorded"):
            self.stats.drafted += 1
        where = outcome.issue_url or outcome.path or ""
        return f"{key}: {outcome.action} {where} {outcome.message}".strip()

    async def _consume(self, client: Any, stop: asyncio.Event) -> None:
        assert self._queue is not None
        while True:
            if stop.is_set() and self._queue.empty():
                return
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except asyncio.TimeoutError:
                continue
            wait = item.due - time.monotonic()
            if wait > 0:
                # Items are ordered by due time; a sooner one may arrive while we sleep.
                self._queue.put_nowait(item)
                await asyncio.sleep(min(wait, 0.5))
                continue
            try:
                message = await self._handle(client, item)
                if any(w in message for w in ("already reported", "nothing to do", "not drafted")):
                    self.stats.skipped += 1
                self.stats.outcomes.append(message)
                log.info("%s", message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad run must not stop the watch
                self.stats.errors += 1
                if item.attempts + 1 < _MAX_ATTEMPTS:
                    log.warning("could not handle %s run %s (%s: %s); trying again in 5 s",
                                item.kind, item.run_id, type(exc).__name__, exc)
                    self._queue.put_nowait(_Item(time.monotonic() + 5.0, item.kind, item.run_id,
                                                 item.attempts + 1))
                else:
                    log.error("gave up on %s run %s: %s: %s", item.kind, item.run_id,
                              type(exc).__name__, exc)

    async def run(self) -> WatchStats:
        """Watch until cancelled, or for ``exit_after`` seconds then drain; returns the stats."""
        from prefect.client.orchestration import get_client

        self._queue = asyncio.PriorityQueue()
        stop = asyncio.Event()
        stop_at = None if self.exit_after is None else time.monotonic() + self.exit_after
        async with get_client() as client:
            consumer = asyncio.create_task(self._consume(client, stop))
            try:
                await self._follow(client, stop_at)
            finally:
                stop.set()
                try:
                    # Received events still get their grace period and handling.
                    await asyncio.wait_for(consumer, timeout=self.grace_seconds
                                           + self.settle_seconds + 120.0)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    consumer.cancel()
        return self.stats


def watch(
    *,
    grace_seconds: float = 10.0,
    settle_seconds: float = 6.0,
    catch_up_seconds: float = 600.0,
    exit_after: float | None = None,
    flows: list[str] | None = None,
) -> WatchStats:
    """Run a :class:`Watcher` in a new event loop (blocking); see the class for arguments."""
    watcher = Watcher(grace_seconds=grace_seconds, settle_seconds=settle_seconds,
                      catch_up_seconds=catch_up_seconds, exit_after=exit_after, flows=flows)
    return asyncio.run(watcher.run())
