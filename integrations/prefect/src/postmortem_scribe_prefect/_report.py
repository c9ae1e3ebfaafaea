"""From a Prefect run to a :class:`~postmortem_scribe.records.FailureContext`, and to the core.

Shared by the in-process hooks and the out-of-process watcher, so that both describe the same
failure with the same occurrence key.  The identity rules, which make "a failing task that
fails its flow" one incident rather than two:

- ``run_id`` is always a **flow run id**: a task failure is reported under the flow run it ran
  in (as an Airflow task is reported under its DAG run), with ``task`` naming the task; a task
  run outside any flow uses its own task run id.
- ``try_number`` is the failing run's ``run_count`` (the last try, after retries).
- Before reporting a flow run, we ask whether anything was already reported for it *or for any
  of its subflow runs* (in this process, then in the store with
  :func:`postmortem_scribe.reported_in_run`).  If so, the flow run failed because of that
  failure and is not reported again.  A failed subflow is therefore one incident too: the
  child reports (or its task does), and every parent up the chain finds it.
- When a flow run fails and no task hook reported, the failing task run is looked up in the API
  and named in the draft, so hooks on the flow alone and the watcher give the same key.

Everything here is best effort: each step that cannot be done becomes a note or a missing
field, never an exception into the caller.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from postmortem_scribe import Config, FailureContext, Outcome, load_config

from . import _compat, _logbuffer
from ._logbuffer import format_line

log = logging.getLogger("postmortem_scribe_prefect")

ORCHESTRATOR = "prefect"
_SUBFLOW_DEPTH = 5
_TRACEBACK_HEAD = "Traceback (most recent call last)"


# --------------------------------------------------------------------------------------------
# Settings of the adapter itself (the core's Config has the rest)
# --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    """Adapter settings, from ``SCRIBE_PREFECT_*`` environment variables.

    Attributes:
        secret_block: Name of the Prefect Secret block holding the GitHub token
            (``SCRIBE_PREFECT_SECRET_BLOCK``, default ``github-token``; empty disables it).
        hook_timeout: Most seconds a failure hook may hold the run
            (``SCRIBE_PREFECT_HOOK_TIMEOUT``); default the core's ``budget_seconds`` plus
            10 s for reading logs from the API.
        profile_timeout: Most seconds a completion hook waits for input profiles
            (``SCRIBE_PREFECT_PROFILE_TIMEOUT``, default 2).
        log_limit: Most log records read from the API per run (``SCRIBE_PREFECT_LOG_LIMIT``).
        report_tasks: Whether task hooks report (``SCRIBE_PREFECT_REPORT_TASKS``, default on);
            when off, the flow hook reports and names the failing task itself.
    """

    secret_block: str = "github-token"
    hook_timeout: float | None = None
    profile_timeout: float = 2.0
    log_limit: int = 1000
    report_tasks: bool = True
    problems: list[str] = field(default_factory=list)

    def timeout_for(self, config: Config) -> float:
        """Seconds a failure hook may take: the setting, else the core budget plus log reading."""
        if self.hook_timeout is not None:
            return self.hook_timeout
        return float(config.budget_seconds) + 10.0


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read :class:`Settings` from the environment; bad values fall back to defaults."""
    env = os.environ if env is None else env
    settings = Settings()
    if "SCRIBE_PREFECT_SECRET_BLOCK" in env:
        settings.secret_block = env["SCRIBE_PREFECT_SECRET_BLOCK"].strip()
    for var, attr, kind in (
        ("SCRIBE_PREFECT_HOOK_TIMEOUT", "hook_timeout", float),
        ("SCRIBE_PREFECT_PROFILE_TIMEOUT", "profile_timeout", float),
        ("SCRIBE_PREFECT_LOG_LIMIT", "log_limit", int),
    ):
        raw = env.get(var)
        if raw:
            try:
                value = kind(raw)
                if value < 0:
                    raise ValueError
                setattr(settings, attr, value)
            except ValueError:
                settings.problems.append(
                    f"{var}={raw!r} is not a non-negative number; using the default."
                )
    raw = env.get("SCRIBE_PREFECT_REPORT_TASKS")
    if raw:
        settings.report_tasks = raw.strip().lower() not in ("0", "false", "no", "off")
    return settings


def load_core_config() -> Config:
    """The core configuration; never raises (a broken config must not lose the failure)."""
    try:
        return load_config()
    except Exception as exc:  # noqa: BLE001
        config = Config()
        config.problems.append(f"configuration could not be loaded ({exc}); using defaults.")
        return config


# --------------------------------------------------------------------------------------------
# What this process already reported (hooks run in the same process as the flow)
# --------------------------------------------------------------------------------------------


class _Seen:
    """A bounded, thread-safe set of recent keys."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, key: str) -> None:
        with self._lock:
            self._items[key] = None
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items


COVERED_RUNS = _Seen()
"""Flow run ids for which this process reported a failure (or found one reported).

A task hook adds its flow run here when it *starts* reporting, not when it is done: the flow's
own hook runs right after it and must see the claim even when the task's report is still going
on in the background (a short hook timeout)."""
CLAIMED_RUNS = _Seen()
"""Flow run ids whose own flow hook is reporting them: a parent's hook treats them as covered."""
REPORTED_KEYS = _Seen()
"""Occurrence keys this process reported, to skip repeats (e.g. 50 failed mapped runs) early."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def iso(value: Any) -> str | None:
    """A datetime as ISO 8601, or ``None``."""
    try:
        return value.isoformat() if value is not None else None
    except Exception:  # noqa: BLE001
        return None


def state_name(state: Any) -> str:
    """The core's state word for a Prefect state: ``failed``, ``crashed`` or ``timed_out``."""
    name = str(getattr(state, "name", "") or "")
    kind = str(getattr(getattr(state, "type", None), "value", getattr(state, "type", "")) or "")
    if name == "TimedOut":
        return "timed_out"
    if kind.upper().endswith("CRASHED") or name == "Crashed":
        return "crashed"
    return "failed"


def task_label(run_name: str | None, dynamic_key: str | None, fallback: str | None = None) -> str:
    """The task's name from its run name (``read_csv-2f1`` -> ``read_csv``).

    Prefect names task runs ``<task name>-<dynamic key or its first 3 characters>``; the API
    keeps only the run name, so the watcher recovers the task name this way.
    """
    name = run_name or ""
    key = str(dynamic_key or "")
    if name and key:
        for suffix in (f"-{key}", f"-{key[:3]}"):
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)]
    return name or fallback or "task"


def max_tries(run: Any) -> int | None:
    """Retries allowed plus one, from a run's empirical policy."""
    policy = getattr(run, "empirical_policy", None)
    retries = getattr(policy, "retries", None)
    if retries is None:
        retries = getattr(policy, "max_retries", None)
    try:
        return int(retries) + 1 if retries is not None else None
    except (TypeError, ValueError):
        return None


_OUTPUT_WORDS = re.compile(r"(^|_)(out|output|outputs|dest|destination|target|save|export)(_|$)")


def path_parameters(params: Mapping[str, Any] | None, config: Config) -> list[str]:
    """Parameter values that name input files: keys in ``Config.input_keys`` or ending ``_path``.

    Keys that say they are outputs (``output_path``, ``dest_path`` ...) are left out: inspecting
    a file the run was about to write would blame the wrong thing.
    """
    found: list[str] = []
    if not isinstance(params, Mapping):
        return found
    keys = {k.lower() for k in config.input_keys}
    for key, value in params.items():
        lower = str(key).lower()
        if not (lower in keys or lower.endswith("_path")) or _OUTPUT_WORDS.search(lower):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, os.PathLike):
                item = os.fspath(item)
            if isinstance(item, bytes):
                continue
            if isinstance(item, str) and item.strip() and "\n" not in item and len(item) < 4096:
                found.append(item.strip())
    return list(dict.fromkeys(found))


def secret_parameters(params: Mapping[str, Any] | None) -> list[str]:
    """Values of ``SecretStr`` / ``SecretBytes`` parameters, to scrub from the draft."""
    out: list[str] = []
    if not isinstance(params, Mapping):
        return out
    for value in params.values():
        getter = getattr(value, "get_secret_value", None)
        if callable(getter) and type(value).__name__.startswith("Secret"):
            try:
                secret = getter()
                if isinstance(secret, bytes):
                    secret = secret.decode("utf-8", "replace")
                if isinstance(secret, str) and secret:
                    out.append(secret)
            except Exception:  # noqa: BLE001
                continue
    return out


def owner_from_tags(tags: Iterable[str]) -> str | None:
    """``owner:alice`` (or ``owner=alice``) among the tags names the owner."""
    for tag in tags:
        text = str(tag)
        for sep in (":", "="):
            if text.lower().startswith("owner" + sep) and len(text) > 6:
                return text[6:].strip() or None
    return None


def crash_notes(message: str | None) -> list[str]:
    """Plain-words notes for a Crashed state message from the runner."""
    text = message or ""
    notes: list[str] = []
    match = re.search(r"status code:?\s*(-?\d+)", text)
    if match:
        code = int(match.group(1))
        if code < 0:
            import signal as _signal

            try:
                signame = _signal.Signals(-code).name
            except ValueError:
                signame = f"signal {-code}"
            notes.append(
                f"The flow run's process was killed by {signame} (signal {-code}, exit status "
                f"{code}); Prefect marked the run Crashed. SIGKILL usually means the kernel's "
                "out-of-memory killer or an operator; SIGTERM a shutdown or eviction."
                if code in (-9, -15)
                else f"The flow run's process was killed by {signame} (exit status {code}); "
                "Prefect marked the run Crashed."
            )
        else:
            notes.append(f"The flow run's process exited with status code {code}; Prefect "
                         "marked the run Crashed.")
    elif text:
        notes.append(f"Prefect marked the run Crashed: {text}")
    return notes


def traceback_from_logs(lines: list[str]) -> str | None:
    """The last traceback printed in the log lines, with the line that introduced it."""
    start = None
    for i, line in enumerate(lines):
        if _TRACEBACK_HEAD in line:
            start = i
    if start is None:
        return None
    block = [lines[start - 1]] if start > 0 else []
    for line in lines[start:]:
        if block and len(block) > 1 and re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line):
            break
        block.append(line)
    return "\n".join(block)


_OUR_HOOK_LINE = re.compile(
    r"^(Running hook|Hook) 'on_(flow|task)_(failure|crashed|completion)'|^postmortem-scribe: "
)


def format_api_logs(
    logs: list[Any], names: Mapping[str, str], flow_run_name: str | None
) -> list[str]:
    """API log records as lines shaped like Prefect's console output."""
    lines: list[str] = []
    for record in logs:
        if _OUR_HOOK_LINE.search(str(getattr(record, "message", ""))):
            continue  # Prefect's bookkeeping about our own hooks says nothing about the failure
        task_run_id = getattr(record, "task_run_id", None)
        if task_run_id is not None:
            where = f"Task run {names.get(str(task_run_id), str(task_run_id)[:8])!r}"
        elif str(getattr(record, "name", "")).startswith("prefect.flow_runs") or flow_run_name:
            where = f"Flow run {flow_run_name!r}" if flow_run_name else "Flow run"
        else:
            where = str(getattr(record, "name", "") or "log")
        level = getattr(record, "level", 20)
        level_name = logging.getLevelName(level) if isinstance(level, int) else str(level)
        message = str(getattr(record, "message", ""))
        stamp = getattr(record, "timestamp", None)
        if stamp is None:
            lines.extend(f"{level_name} | {where} - {m}" for m in message.splitlines() or [""])
        else:
            lines.extend(format_line(stamp, level_name, where, message).splitlines())
    return lines


# --------------------------------------------------------------------------------------------
# Token and secrets
# --------------------------------------------------------------------------------------------

_SECRET_CACHE: dict[str, tuple[float, str | None]] = {}
_SECRET_TTL = 300.0


async def token_from_block(name: str) -> tuple[str | None, str | None]:
    """The GitHub token from the Secret block ``name`` (cached 5 min): ``(token, problem)``."""
    if not name:
        return None, None
    cached = _SECRET_CACHE.get(name)
    if cached is not None and time.monotonic() - cached[0] < _SECRET_TTL:
        return cached[1], None
    try:
        value = await _compat.load_secret(name)
    except Exception as exc:  # noqa: BLE001 - no block, no API: the env may still have one
        text = str(exc)
        if "Unable to find block document" in text or "not found" in text.lower():
            _SECRET_CACHE[name] = (time.monotonic(), None)
            return None, None
        return None, f"the Prefect Secret block {name!r} could not be read ({type(exc).__name__})"
    _SECRET_CACHE[name] = (time.monotonic(), value)
    return value, None


def register_secrets(values: Iterable[str]) -> None:
    """Tell the core's scrubber about secret values (when the core offers that)."""
    try:
        from postmortem_scribe import scrub
    except Exception:  # noqa: BLE001
        return
    register = getattr(scrub, "register_secret", None)
    if register is None:
        return
    for value in values:
        if value:
            try:
                register(value, kind="host-secret")
            except Exception:  # noqa: BLE001
                log.debug("register_secret failed", exc_info=True)


async def prepare_config(config: Config, settings: Settings, secrets: list[str]) -> Config:
    """Fill the GitHub token from the Secret block when the environment has none."""
    if config.github_token:
        secrets.append(config.github_token)
        return config
    token, problem = await token_from_block(settings.secret_block)
    if problem:
        config.problems.append(problem)
    if token:
        secrets.append(token)
        config.github_token = token
    return config


# --------------------------------------------------------------------------------------------
# The report itself
# --------------------------------------------------------------------------------------------


@dataclass
class HookFacts:
    """What a hook captured in its own thread, before the work moves to our worker thread."""

    kind: str
    """``flow`` or ``task``."""
    flow_run: Any = None
    task_run: Any = None
    state: Any = None
    flow_name: str | None = None
    task_name: str | None = None
    task_params: dict[str, Any] = field(default_factory=dict)
    detected_by: str = "hook"


def live_exception(state: Any) -> tuple[BaseException | None, str | None]:
    """The exception in a final state, with its traceback; call from a thread with no loop."""
    try:
        result = _compat.state_result(state)
        if isinstance(result, BaseException):
            return result, None
        return None, None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - some states re-raise what they hold
        if exc.__traceback__ is not None and not isinstance(exc, (ImportError, AttributeError)):
            return exc, None
        return None, f"the exception could not be read from the run's state ({type(exc).__name__})"


class Reporter:
    """Builds one failure context from Prefect objects and hands it to the core.

    One instance per report; holds an async API client for its lifetime.
    """

    def __init__(self, client: Any, config: Config, settings: Settings) -> None:
        self.client = client
        self.config = config
        self.settings = settings
        self.notes: list[str] = []
        self.secrets: list[str] = []
        self.logger: Any = log
        """Where to say what was decided; hooks use the run's logger, so it shows in the UI."""

    # --- coverage: was this failure already reported as part of another? -----------------

    async def covered_by(self, flow_run_id: Any) -> str | None:
        """Why ``flow_run_id`` needs no report of its own, or ``None`` when it does.

        True when a failure was already reported for this flow run (a task of it) or for one
        of its subflow runs, at any depth up to :data:`_SUBFLOW_DEPTH`.
        """
        frontier = [flow_run_id]
        seen: set[str] = set()
        for depth in range(_SUBFLOW_DEPTH + 1):
            for run_id in frontier:
                key = str(run_id)
                if key in seen:
                    continue
                seen.add(key)
                if key in COVERED_RUNS or (depth > 0 and key in CLAIMED_RUNS):
                    return f"a failure in flow run {key} was already reported by this process"
                keys = await asyncio.to_thread(self._reported_in_run, key)
                if keys:
                    COVERED_RUNS.add(key)
                    return f"already reported as {keys[0]}"
            try:
                children = await _compat.read_child_flow_runs(self.client, frontier)
            except Exception as exc:  # noqa: BLE001
                log.debug("could not read subflow runs: %s", exc)
                return None
            frontier = [c.id for c in children if str(c.id) not in seen]
            if not frontier:
                return None
        return None

    def _reported_in_run(self, run_id: str) -> list[str]:
        try:
            import postmortem_scribe

            fn = getattr(postmortem_scribe, "reported_in_run", None)
            return list(fn(ORCHESTRATOR, run_id, config=self.config)) if fn else []
        except Exception:  # noqa: BLE001
            return []

    # --- pieces ----------------------------------------------------------------------------

    async def _flow_name(self, flow_run: Any, known: str | None) -> str:
        if known:
            return known
        try:
            flow = await self.client.read_flow(flow_run.flow_id)
            return str(flow.name)
        except Exception:  # noqa: BLE001
            return "unknown-flow"

    async def _logs(self, flow_run: Any) -> list[str] | None:
        lines: list[str] = []
        try:
            records = await _compat.read_logs(self.client, flow_run.id, self.settings.log_limit)
            ids = list(dict.fromkeys(str(r.task_run_id) for r in records if r.task_run_id))[:200]
            names: dict[str, str] = {}
            if ids:
                try:
                    runs = await _compat.read_task_runs(self.client, flow_run.id, ids=ids)
                    names = {str(t.id): str(t.name) for t in runs}
                except Exception:  # noqa: BLE001 - ids stand in for names
                    pass
            lines = format_api_logs(records, names, getattr(flow_run, "name", None))
        except Exception as exc:  # noqa: BLE001
            self.notes.append(
                f"The run's logs could not be read from the Prefect API ({type(exc).__name__}); "
                "the lines kept in process are shown instead."
            )
        if not lines:
            lines = _logbuffer.buffered_lines(flow_run.id)
        return lines or None

    async def _failed_task_runs(self, flow_run_id: Any) -> list[Any]:
        try:
            return await _compat.read_task_runs(self.client, flow_run_id, failed_only=True)
        except Exception as exc:  # noqa: BLE001
            log.debug("could not read task runs: %s", exc)
            return []

    async def _last_success(self, flow_run: Any) -> str | None:
        try:
            return await _compat.last_success_at(
                self.client, flow_run.flow_id, getattr(flow_run, "deployment_id", None)
            )
        except Exception:  # noqa: BLE001
            return None

    def _base_context(self, flow_run: Any, pipeline: str, state: Any) -> FailureContext:
        tags = list(dict.fromkeys(str(t) for t in (getattr(flow_run, "tags", None) or [])))
        extra = {
            "flow_run_name": str(getattr(flow_run, "name", "") or ""),
            "prefect_version": _compat.PREFECT_VERSION,
            "state_name": str(getattr(state, "name", "") or ""),
        }
        if getattr(flow_run, "deployment_id", None):
            extra["deployment_id"] = str(flow_run.deployment_id)
        if getattr(flow_run, "work_pool_name", None):
            extra["work_pool"] = str(flow_run.work_pool_name)
        return FailureContext(
            pipeline=pipeline,
            orchestrator=ORCHESTRATOR,
            run_id=str(flow_run.id),
            state=state_name(state),
            started_at=iso(getattr(flow_run, "start_time", None)),
            ended_at=iso(getattr(state, "timestamp", None)),
            owner=owner_from_tags(tags),
            tags=tags,
            run_url=_compat.ui_url("flow-run", flow_run.id),
            extra={k: v for k, v in extra.items() if v},
        )

    # --- flow runs -------------------------------------------------------------------------

    async def flow_context(
        self,
        flow_run: Any,
        state: Any,
        *,
        flow_name: str | None,
        exception: BaseException | None,
        detected_by: str,
    ) -> FailureContext | None:
        """The context for a failed or crashed flow run, or ``None`` when it is covered."""
        reason = await self.covered_by(flow_run.id)
        if reason:
            COVERED_RUNS.add(str(flow_run.id))
            self.logger.info("postmortem-scribe: no separate draft for this flow run: %s", reason)
            return None
        try:
            # The hook's copy can be stale: the runner's crash hooks get a flow run read before
            # the run started (run_count 0).  The watcher reads the same record, so both give
            # the same occurrence key.
            flow_run = await self.client.read_flow_run(flow_run.id)
        except Exception:  # noqa: BLE001 - the hook's copy will do
            pass
        pipeline = await self._flow_name(flow_run, flow_name)
        ctx = self._base_context(flow_run, pipeline, state)
        ctx.detected_by = detected_by
        failed = await self._failed_task(flow_run.id, await self._failed_task_runs(flow_run.id))
        if failed is not None:
            # The flow failed because this task did and no task hook reported it: name it,
            # with the key a task hook (or the watcher's task event) would have used.
            ctx.task = task_label(failed.name, getattr(failed, "dynamic_key", None))
            ctx.try_number = getattr(failed, "run_count", None) or None
            ctx.max_tries = max_tries(failed)
            ctx.started_at = iso(getattr(failed, "start_time", None)) or ctx.started_at
            ctx.extra["task_run_name"] = str(failed.name)
            ctx.run_url = _compat.ui_url("task-run", failed.id) or ctx.run_url
            for tag in getattr(failed, "tags", None) or []:
                if str(tag) not in ctx.tags:
                    ctx.tags.append(str(tag))
        else:
            ctx.try_number = getattr(flow_run, "run_count", None) or None
            ctx.max_tries = max_tries(flow_run)
        ctx.log_lines = await self._logs(flow_run)
        params = getattr(flow_run, "parameters", None) or {}
        ctx.inputs = path_parameters(params, self.config)
        self.secrets.extend(secret_parameters(params))
        ctx.exception = exception
        if exception is None:
            ctx.error_text = traceback_from_logs(ctx.log_lines or []) or (
                getattr(state, "message", None) or None
            )
        if ctx.state == "crashed":
            ctx.notes.extend(crash_notes(getattr(state, "message", None)))
        ctx.last_success_at = await self._last_success(flow_run)
        self._add_retry_note(ctx)
        return ctx

    async def _failed_task(self, flow_run_id: Any, task_runs: list[Any]) -> Any:
        """The task run that failed last, leaving out the runs that stand for subflows."""
        try:
            children = await _compat.read_child_flow_runs(self.client, [flow_run_id])
        except Exception:  # noqa: BLE001
            children = []
        # A subflow is tracked by a task run in its parent; its own runs report for it.
        trackers = {str(c.parent_task_run_id) for c in children if c.parent_task_run_id}
        candidates = [
            run for run in task_runs
            if str(run.id) not in trackers
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda r: str(r.end_time or r.expected_start_time or ""))

    # --- task runs -------------------------------------------------------------------------

    async def task_context(
        self,
        task_run: Any,
        state: Any,
        *,
        flow_run: Any,
        flow_name: str | None,
        task_name: str | None,
        exception: BaseException | None,
        task_params: Mapping[str, Any],
        detected_by: str,
    ) -> FailureContext:
        """The context for a failed task run (its flow run may be ``None``)."""
        label = task_name or task_label(task_run.name, getattr(task_run, "dynamic_key", None))
        if flow_run is not None:
            pipeline = await self._flow_name(flow_run, flow_name)
            ctx = self._base_context(flow_run, pipeline, state)
            ctx.log_lines = await self._logs(flow_run)
            flow_params = getattr(flow_run, "parameters", None) or {}
            ctx.last_success_at = await self._last_success(flow_run)
        else:
            ctx = FailureContext(
                pipeline=label, orchestrator=ORCHESTRATOR, run_id=str(task_run.id),
                state=state_name(state), ended_at=iso(getattr(state, "timestamp", None)),
            )
            flow_params = {}
            try:
                records = await _compat.read_logs(self.client, None, self.settings.log_limit,
                                                  task_run_id=task_run.id)
                ctx.log_lines = format_api_logs(records, {str(task_run.id): str(task_run.name)},
                                                None) or None
            except Exception:  # noqa: BLE001
                ctx.log_lines = None
        ctx.detected_by = detected_by
        ctx.task = label
        ctx.try_number = getattr(task_run, "run_count", None) or None
        ctx.max_tries = max_tries(task_run)
        ctx.started_at = iso(getattr(task_run, "start_time", None)) or ctx.started_at
        ctx.run_url = _compat.ui_url("task-run", task_run.id) or ctx.run_url
        ctx.extra["task_run_name"] = str(task_run.name)
        for tag in getattr(task_run, "tags", None) or []:
            if str(tag) not in ctx.tags:
                ctx.tags.append(str(tag))
        ctx.owner = owner_from_tags(ctx.tags)
        # The task's own path parameters first: they are what it read.
        ctx.inputs = (path_parameters(task_params, self.config)
                      or path_parameters(flow_params, self.config))
        self.secrets.extend(secret_parameters(task_params))
        self.secrets.extend(secret_parameters(flow_params))
        ctx.exception = exception
        if exception is None:
            ctx.error_text = traceback_from_logs(ctx.log_lines or []) or (
                getattr(state, "message", None) or None
            )
        self._add_retry_note(ctx)
        return ctx

    @staticmethod
    def _add_retry_note(ctx: FailureContext) -> None:
        if ctx.try_number and ctx.try_number > 1:
            ctx.notes.append(
                f"Prefect ran it {ctx.try_number} times"
                + (f" ({ctx.max_tries - 1} retries allowed)" if ctx.max_tries else "")
                + "; this is the last try's failure."
            )

    # --- hand-off ---------------------------------------------------------------------------

    async def finish(self, ctx: FailureContext) -> Outcome:
        """Add secrets and host facts, then run the core pipeline (in a thread: it blocks)."""
        self.config = await prepare_config(self.config, self.settings, self.secrets)
        ctx.secrets = list(dict.fromkeys(s for s in self.secrets if s))
        register_secrets(ctx.secrets)
        ctx.notes.extend(self.notes)
        if ctx.detected_by == "hook":
            ctx.extra.setdefault("hostname", socket.gethostname())
        outcome = await asyncio.to_thread(_report_context, ctx, self.config)
        if ctx.run_id:
            COVERED_RUNS.add(ctx.run_id)
        REPORTED_KEYS.add(ctx.occurrence_key())
        return outcome


def _report_context(ctx: FailureContext, config: Config) -> Outcome:
    import postmortem_scribe

    return postmortem_scribe.report_context(ctx, config=config)


def is_reported(key: str, config: Config) -> bool:
    """Whether the core's store already has this occurrence key (``False`` when unsure)."""
    if key in REPORTED_KEYS:
        return True
    try:
        import postmortem_scribe

        fn = getattr(postmortem_scribe, "is_reported", None)
        return bool(fn(key, config=config)) if fn else False
    except Exception:  # noqa: BLE001
        return False
