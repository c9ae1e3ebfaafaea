"""Turn Airflow objects into the core's host-free :class:`FailureContext`.

Three kinds of task instance reach this module: the task SDK's ``RuntimeTaskInstance`` (in the
task process: listener and task-level notifier), the ORM ``TaskInstance`` (in the scheduler: the
DAG-run-failed path), and 2.x's ORM ``TaskInstance`` everywhere.  Only attributes they share are
read, each through ``getattr`` so a missing one is a missing fact rather than a crash.  Nothing
Airflow-typed survives past :class:`TaskFacts`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlparse

from . import version_compat as compat
from ._logs import TaskLog, read_task_log, render_log_path

_MAX_INPUTS = 20


@dataclass
class TaskFacts:
    """A plain snapshot of one task instance and its task, safe to hand to another thread."""

    dag_id: str
    task_id: str | None
    run_id: str | None
    try_number: int | None = None
    max_tries: int | None = None
    """Total tries allowed (Airflow's ``max_tries`` counts retries, so this is that plus one)."""
    map_index: int | None = None
    state: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    run_url: str | None = None
    inputs: list[str] = field(default_factory=list)
    log_path: str | None = None
    last_success_at: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def occurrence_key(self) -> str:
        """The ``FailureContext.occurrence_key()`` of the context built from these facts."""
        return to_failure_context(self, detected_by="").occurrence_key()


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    try:
        return value.isoformat()
    except Exception:  # noqa: BLE001
        text = str(value)
        return text or None


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _safe_attr(obj: Any, name: str) -> Any:
    """``getattr`` that treats any error (lazy ORM loads on detached rows ...) as absent."""
    if obj is None:
        return None
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001
        return None


def facts_from_ti(ti: Any, *, dag: Any = None, dag_run: Any = None,
                  context: Mapping[str, Any] | None = None,
                  input_keys: Iterable[str] = ()) -> TaskFacts:
    """Snapshot a task instance (any of the three kinds) and what its task declares."""
    dag = dag if dag is not None else compat.dag_of(dag_run, ti)
    task = compat.task_of(ti, dag)
    dag_id = str(_safe_attr(ti, "dag_id") or _safe_attr(dag, "dag_id") or "unknown-dag")
    task_id = _safe_attr(ti, "task_id")
    run_id = _safe_attr(ti, "run_id") or _safe_attr(dag_run, "run_id")
    map_index = _int(_safe_attr(ti, "map_index"))
    if map_index is not None and map_index < 0:
        map_index = None
    try_number = _int(_safe_attr(ti, "try_number"))
    max_tries = _int(_safe_attr(ti, "max_tries"))
    if max_tries is None:
        max_tries = _int(_safe_attr(task, "retries"))
    facts = TaskFacts(
        dag_id=dag_id,
        task_id=str(task_id) if task_id is not None else None,
        run_id=str(run_id) if run_id is not None else None,
        try_number=try_number,
        max_tries=None if max_tries is None else max_tries + 1,
        map_index=map_index,
        state=compat.state_name(_safe_attr(ti, "state")),
        started_at=_iso(_safe_attr(ti, "start_date")),
        ended_at=_iso(_safe_attr(ti, "end_date")),
        owner=_owner(task, dag),
        tags=sorted(str(t) for t in (_safe_attr(dag, "tags") or [])),
    )
    facts.run_url = compat.run_url(dag_id, facts.run_id, facts.task_id, map_index, try_number)
    for key in ("hostname", "queue", "pool", "executor", "operator"):
        value = _safe_attr(ti, key)
        if value:
            facts.extra[key] = str(value)
    if "operator" not in facts.extra and task is not None:
        facts.extra["operator"] = type(task).__name__
    facts.extra["airflow_version"] = ".".join(str(p) for p in compat.AIRFLOW_VERSION)
    logical = _safe_attr(dag_run, "logical_date") or _safe_attr(dag_run, "run_after")
    if logical is None and context is not None:
        logical = context.get("logical_date")
    if facts.run_id and facts.task_id:
        facts.log_path = render_log_path(
            dag_id=dag_id, run_id=facts.run_id, task_id=facts.task_id, map_index=map_index,
            try_number=try_number, logical_date=_iso(logical),
        )
    facts.inputs = input_paths(task, context=context, input_keys=input_keys)
    return facts


def _owner(task: Any, dag: Any) -> str | None:
    owner = _safe_attr(task, "owner") or _safe_attr(dag, "owner")
    if not owner:
        return None
    owner = str(owner)
    # "airflow" is BaseOperator's default: it names no person, so routing should not match it.
    return None if owner == "airflow" else owner


def input_paths(task: Any, *, context: Mapping[str, Any] | None = None,
                input_keys: Iterable[str] = ()) -> list[str]:
    """The task's input files: ``file://`` inlets, then op_kwargs / templates_dict / params
    values under the configured keys or any key ending in ``_path``.

    Values still holding Jinja (``{{ ds }}``, seen on the scheduler where fields are not
    rendered) and URIs of other schemes (``s3://``) are skipped: neither names a local file.
    """
    keys = {k.lower() for k in input_keys}
    found: list[str] = []

    def add(value: Any) -> None:
        path = _as_path(value)
        if path and path not in found and len(found) < _MAX_INPUTS:
            found.append(path)

    inlets = list(_safe_attr(task, "inlets") or [])
    if context is not None:
        inlets.extend(context.get("inlets") or [])
    for inlet in inlets:
        uri = _safe_attr(inlet, "uri") if not isinstance(inlet, str) else inlet
        if isinstance(uri, str) and (uri.startswith("file://") or uri.startswith("/")):
            add(uri)

    def wanted(key: Any) -> bool:
        k = str(key).lower()
        return k in keys or k.endswith("_path")

    def scan(mapping: Any) -> None:
        if not isinstance(mapping, Mapping):
            try:
                mapping = dict(mapping)  # ParamsDict and friends
            except Exception:  # noqa: BLE001
                return
        for key in list(mapping.keys()):
            if not wanted(key):
                continue
            try:
                value = mapping[key]
            except Exception:  # noqa: BLE001
                continue
            value = getattr(value, "value", value)  # Param objects on the scheduler
            if isinstance(value, (list, tuple)):
                for item in value:
                    add(item)
            else:
                add(value)

    scan(_safe_attr(task, "op_kwargs") or {})
    scan(_safe_attr(task, "templates_dict") or {})
    if context is not None:
        scan(context.get("templates_dict") or {})
        # op_kwargs are merged into the context by PythonOperator; only configured keys match.
        scan({k: v for k, v in context.items() if k not in ("params", "templates_dict")})
        scan(context.get("params") or {})
    scan(_safe_attr(task, "params") or {})
    return found


def _as_path(value: Any) -> str | None:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or "{{" in value or "{%" in value or "\n" in value:
        return None
    if value.startswith("file://"):
        return unquote(urlparse(value).path) or None
    if "://" in value:
        return None
    return value


def to_failure_context(facts: TaskFacts, *, detected_by: str,
                       exception: BaseException | None = None, error_text: str | None = None,
                       task_log: TaskLog | None = None,
                       notes: Iterable[str] = (), secrets: Iterable[str] = (),
                       extra_inputs: Iterable[str] = (), state: str | None = None) -> Any:
    """Build the core's FailureContext; Airflow's masker is applied to every text we add.

    The log goes to the core by path: it reads the file backwards within its byte budget and
    renders Airflow 3's JSON lines itself.  The secrets Airflow's masker knows travel in
    ``secrets`` so the core scrubs them from the log excerpt and the exception too.
    """
    from postmortem_scribe.records import FailureContext

    inputs = list(facts.inputs)
    for path in extra_inputs:
        p = _as_path(path)
        if p and p not in inputs:
            inputs.append(p)
    all_notes = list(notes)
    log_path = facts.log_path
    if task_log is not None:
        log_path = task_log.path
        all_notes.extend(n for n in task_log.evidence() if n not in all_notes)
        if task_log.problem:
            all_notes.append(task_log.problem)
    if log_path and not os.path.exists(log_path):
        # dag.test() and remote-only logging write no local file; do not send the core to one.
        log_path = None
    return FailureContext(
        pipeline=facts.dag_id,
        task=facts.task_id,
        orchestrator="airflow",
        run_id=facts.run_id,
        try_number=facts.try_number,
        max_tries=facts.max_tries,
        map_index=facts.map_index,
        state=state or facts.state or "failed",
        started_at=facts.started_at,
        ended_at=facts.ended_at,
        owner=facts.owner,
        tags=list(facts.tags),
        run_url=facts.run_url,
        exception=exception,
        error_text=compat.redact(error_text) if error_text else None,
        log_path=log_path,
        inputs=inputs,
        secrets=list(secrets),
        detected_by=detected_by,
        notes=compat.redact(all_notes) if all_notes else [],
        last_success_at=facts.last_success_at,
        extra=dict(facts.extra),
    )


def read_log_for(facts: TaskFacts, max_bytes: int) -> TaskLog | None:
    """The facts' rendered log file, read by its tail; ``None`` when there is none."""
    return read_task_log(facts.log_path, max_bytes=max_bytes)
