"""Every difference between Airflow releases that this adapter cares about, in one place.

The rest of the package imports host objects only from here.  Airflow 3 moved the authoring
interface to ``airflow.sdk`` and split the listener machinery in two (a task-side manager in the
task SDK and a scheduler-side one in core); 2.10/2.11 keep everything under ``airflow``.  Each
helper below tries the Airflow 3 path first and falls back to the 2.x one, so that one wheel
serves both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("postmortem_scribe.airflow")

__all__ = [
    "AIRFLOW_V_3_0_PLUS", "AIRFLOW_V_3_1_PLUS", "AIRFLOW_V_3_3_PLUS", "AIRFLOW_VERSION",
    "AirflowPlugin", "BaseNotifier", "FAILED", "LISTENER_RUNS_BEFORE_TASK_CALLBACKS",
    "MANUAL_MARK_PREFIXES", "base_url", "conf_get",
    "dag_of", "failed_task_instances", "get_connection", "get_variable", "hookimpl",
    "log_template", "logs_are_json", "masked_values", "orm_session_of", "redact", "run_url",
    "state_name", "task_of",
]


def _airflow_version() -> tuple[int, int, int]:
    from airflow import __version__

    parts = re.findall(r"\d+", __version__)[:3]
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0], nums[1], nums[2]


AIRFLOW_VERSION: tuple[int, int, int] = _airflow_version()
AIRFLOW_V_3_0_PLUS: bool = AIRFLOW_VERSION >= (3, 0, 0)
AIRFLOW_V_3_1_PLUS: bool = AIRFLOW_VERSION >= (3, 1, 0)
AIRFLOW_V_3_3_PLUS: bool = AIRFLOW_VERSION >= (3, 3, 0)

# Airflow 2.x calls listeners' on_task_instance_failed from inside handle_failure, *before* the
# task's on_failure_callback runs; Airflow 3's task runner runs the callback first.
LISTENER_RUNS_BEFORE_TASK_CALLBACKS: bool = not AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import BaseNotifier
    from airflow.sdk.plugins_manager import AirflowPlugin
else:  # pragma: no cover - Airflow 2.10/2.11
    from airflow.notifications.basenotifier import BaseNotifier  # type: ignore[no-redef]
    from airflow.plugins_manager import AirflowPlugin  # type: ignore[no-redef]

# Both Airflow 3 listener managers (task SDK and core) are pluggy managers for the project name
# "airflow", and pluggy recognises an implementation by that name only, so one marker serves
# both.  The task SDK's marker is tried first because a worker may have the SDK without core.
try:
    from airflow.sdk._shared.listeners import hookimpl
except ImportError:  # pragma: no cover - Airflow 2.10/2.11
    from airflow.listeners import hookimpl  # type: ignore[no-redef]

FAILED = "failed"
SUCCESS = "success"

MANUAL_MARK_PREFIXES = (
    # Airflow 3 API server, when a person marks a task instance / DAG run failed in the UI.
    "TaskInstance's state was manually set",
    "Dag Run's state was manually set",
    "DagRun's state was manually set",
)


def state_name(state: Any) -> str | None:
    """``TaskInstanceState.FAILED`` (either enum, 2.x or 3.x), ``"failed"`` → ``"failed"``."""
    if state is None:
        return None
    value = getattr(state, "value", state)
    return str(value).lower()


def conf_get(section: str, key: str, fallback: str | None = None) -> str | None:
    """Read Airflow configuration (airflow.cfg or ``AIRFLOW__SECTION__KEY``); never raises."""
    try:
        from airflow.configuration import conf
    except Exception:  # pragma: no cover - task-SDK-only installs
        try:
            from airflow.sdk.configuration import conf  # type: ignore[no-redef]
        except Exception:
            return fallback
    try:
        value = conf.get(section, key, fallback=fallback)
    except Exception:
        return fallback
    return fallback if value is None else str(value)


def base_url() -> str:
    """The UI's base URL: ``[api] base_url`` on Airflow 3, ``[webserver] base_url`` on 2.x."""
    if AIRFLOW_V_3_0_PLUS:
        url = conf_get("api", "base_url") or "http://localhost:8080/"
    else:  # pragma: no cover
        url = conf_get("webserver", "base_url") or "http://localhost:8080/"
    return url.rstrip("/")


def run_url(dag_id: str, run_id: str | None, task_id: str | None, map_index: int | None,
            try_number: int | None) -> str | None:
    """Link to the task instance (or the run) in the Airflow UI of this release."""
    from urllib.parse import quote

    if not run_id:
        return None
    base = base_url()
    if AIRFLOW_V_3_0_PLUS:
        url = f"{base}/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}"
        if task_id:
            url += f"/tasks/{quote(task_id)}"
            if map_index is not None and map_index >= 0:
                url += f"/mapped/{map_index}"
            if try_number:
                url += f"?try_number={try_number}"
        return url
    # pragma: no cover - 2.x grid view
    url = f"{base}/dags/{quote(dag_id)}/grid?dag_run_id={quote(run_id, safe='')}"
    if task_id:
        url += f"&task_id={quote(task_id)}&tab=logs"
        if map_index is not None and map_index >= 0:
            url += f"&map_index={map_index}"
    return url


def log_template() -> tuple[str, str]:
    """``(base_log_folder, log_filename_template)`` from the configuration."""
    folder = conf_get("logging", "base_log_folder") or ""
    template = conf_get("logging", "log_filename_template") or (
        "dag_id={{ ti.dag_id }}/run_id={{ ti.run_id }}/task_id={{ ti.task_id }}/"
        "{% if ti.map_index >= 0 %}map_index={{ ti.map_index }}/{% endif %}"
        "attempt={{ try_number|default(ti.try_number) }}.log"
    )
    return folder, template


def logs_are_json() -> bool:
    """Airflow 3's supervisor writes JSON lines; 2.x tasks write formatted text."""
    return AIRFLOW_V_3_0_PLUS


def get_variable(key: str) -> str | None:
    """An Airflow Variable's raw value, or ``None`` when it is not set or cannot be read."""
    if AIRFLOW_V_3_0_PLUS:
        try:
            from airflow.sdk import Variable

            value = Variable.get(key, default=None)
            return None if value is None else str(value)
        except Exception as exc:  # noqa: BLE001 - unreadable means "not configured"
            log.debug("postmortem-scribe: Variable %s not read via the task SDK: %s", key, exc)
    try:
        from airflow.models import Variable as ModelVariable

        value = ModelVariable.get(key, default_var=None)
        return None if value is None else str(value)
    except Exception as exc:  # noqa: BLE001
        log.debug("postmortem-scribe: Variable %s not read: %s", key, exc)
        return None


def get_connection(conn_id: str) -> Any | None:
    """An Airflow Connection, or ``None`` when it does not exist or cannot be read.

    Fetching a connection also registers its password with Airflow's secrets masker, so the
    token is masked in the task log as well as scrubbed from the draft.
    """
    if AIRFLOW_V_3_0_PLUS:
        try:
            from airflow.sdk import Connection

            return Connection.get(conn_id)
        except Exception as exc:  # noqa: BLE001
            log.debug("postmortem-scribe: connection %s not read via the task SDK: %s",
                      conn_id, exc)
    try:
        from airflow.hooks.base import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001
        log.debug("postmortem-scribe: connection %s not read: %s", conn_id, exc)
        return None


def redact(value: Any) -> Any:
    """Apply Airflow's own secrets masker (values and sensitive key names); identity if absent.

    Airflow 3 has two maskers (the task SDK's and core's, one per listener side); a value
    registered with either is masked, so both are applied.
    """
    for path in ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker",
                 "airflow.utils.log.secrets_masker"):
        try:
            module = __import__(path, fromlist=["redact"])
            value = module.redact(value)
        except Exception:  # noqa: BLE001 - absent on this release, or refused the value
            continue
    return value


_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)

# Airflow 3's masker never masks these (nor values under 5 characters); Airflow 2's masks
# whatever it is given, so a connection whose password is "airflow" (its default connections'
# one) would otherwise have every path and name containing "airflow" scrubbed from the draft.
_NEVER_SECRET = frozenset({"airflow"})


def masked_values(limit: int = 500) -> list[str]:
    """The secret values Airflow's masker knows in this process (fetched connection passwords,
    ``mask_secret`` calls, sensitive Variables), so the core can scrub them from *every* field,
    including the live exception's message which ``redact`` never sees.

    The masker stores ``re.escape``'d patterns; escaping only ever adds a backslash, so removing
    one before each character restores the value.
    """
    found: list[str] = []
    for getter in _masker_getters():
        try:
            masker = getter()
        except Exception:  # noqa: BLE001
            continue
        patterns: Iterable[str] = getattr(masker, "patterns", None) or ()
        for pattern in list(patterns)[:limit]:
            value = _UNESCAPE.sub(r"\1", pattern)
            if len(value) > 4 and value.lower() not in _NEVER_SECRET and value not in found:
                found.append(value)
    return found


def _masker_getters() -> list[Any]:
    getters = []
    for path in ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker",
                 "airflow.utils.log.secrets_masker"):
        try:
            module = __import__(path, fromlist=["_secrets_masker"])
            getters.append(module._secrets_masker)
        except Exception:  # noqa: BLE001
            continue
    return getters


def orm_session_of(obj: Any) -> Any | None:
    """The SQLAlchemy session an ORM object (the scheduler's DagRun) is attached to.

    ``dag_run.get_task_instances()`` without a session opens a new one and crashes the scheduler
    with DetachedInstanceError inside ``on_dag_run_failed``, so the listener reuses this one.
    """
    try:
        from sqlalchemy.orm import object_session

        return object_session(obj)
    except Exception:  # noqa: BLE001 - not an ORM object (task SDK models, pydantic)
        return None


def failed_task_instances(dag_run: Any) -> list[Any]:
    """Failed task instances of a finished DAG run, read through the run's own session."""
    getter = getattr(dag_run, "get_task_instances", None)
    if getter is None:
        return []
    session = orm_session_of(dag_run)
    try:
        if session is not None:
            tis = getter(state=[FAILED], session=session)
        else:
            tis = getter(state=[FAILED])
    except TypeError:  # pragma: no cover - older signature without ``state``
        tis = [t for t in getter(session=session) if state_name(t.state) == FAILED]
    return list(tis or [])


def dag_of(dag_run: Any, ti: Any = None) -> Any | None:
    """The DAG (serialized on Airflow 3's scheduler) a run or task instance belongs to."""
    task = getattr(ti, "task", None) if ti is not None else None
    dag = getattr(task, "dag", None) if task is not None else None
    if dag is not None:
        return dag
    try:
        dag = getattr(dag_run, "dag", None)
    except Exception:  # noqa: BLE001
        dag = None
    return dag


def task_of(ti: Any, dag: Any | None) -> Any | None:
    """The task of a task instance: attached on the worker, looked up in the DAG elsewhere."""
    try:
        task = getattr(ti, "task", None)
    except Exception:  # noqa: BLE001 - lazy attribute on a detached ORM row
        task = None
    if task is not None:
        return task
    if dag is not None:
        try:
            return dag.get_task(ti.task_id)
        except Exception:  # noqa: BLE001 - task removed from the DAG since
            return None
    return None
