"""The listener that hooks every DAG once the package is installed.

Airflow calls it from two places: the task process (``on_task_instance_failed`` /
``on_task_instance_success``, through the task SDK's listener manager) and the scheduler
(``on_dag_run_failed``, through core's).  The hook signatures name only the arguments that both
Airflow 2.10+ and 3.x pass; pluggy hands an implementation only the arguments it names, so the
``session`` that 2.x adds is simply not requested.
"""

from __future__ import annotations

import logging
from typing import Any

from . import _report, _settings
from ._guard import never_raise, start_background
from .version_compat import (
    FAILED,
    LISTENER_RUNS_BEFORE_TASK_CALLBACKS,
    MANUAL_MARK_PREFIXES,
    hookimpl,
    state_name,
)

log = logging.getLogger("postmortem_scribe.airflow")


def _is_manual(message: Any) -> bool:
    """A person marking a task or run failed in the UI is a decision, not a failure to draft."""
    return isinstance(message, str) and message.startswith(MANUAL_MARK_PREFIXES)


class PostmortemListener:
    """The listener :class:`~postmortem_scribe_airflow.plugin.PostmortemScribePlugin` registers.

    - final task failures (state FAILED, not UP_FOR_RETRY) are reported with the live exception;
    - successes are recorded (a success after a failed try marks the task flaky), with profiles
      of the input files for "what changed since the last success";
    - a failed DAG run drafts, from their log files, the failed task instances no in-process
      report covered (hard-killed tasks), in a background thread so the scheduler never waits.
    """

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        """Called for every failed try, in the task process (or the scheduler/API server)."""
        with never_raise("the postmortem-scribe task failure listener"):
            if not _settings.enabled():
                return
            if state_name(getattr(task_instance, "state", None)) != FAILED:
                return  # up_for_retry: the last try will be reported, not this one
            if _is_manual(error):
                return
            if LISTENER_RUNS_BEFORE_TASK_CALLBACKS and _task_has_notifier(task_instance):
                # 2.x: the task's PostmortemNotifier runs moments later in this process, with the
                # lead and notes its DAG gives; reporting first would make its report a duplicate
                # and drop them.  Should it fail, the DAG-run path drafts the task from its log.
                return
            context = _template_context(task_instance)
            _report.report_task_failure(task_instance, error=error, context=context,
                                        detected_by="listener")

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        """Record the success (flaky detection) and its input files' profiles; bounded."""
        with never_raise("the postmortem-scribe success listener"):
            if previous_state is None:
                return  # marked success by a person in the UI: no run, no fresh input
            if not (_settings.enabled() and _settings.option_bool("record_successes")):
                return
            _report.record_success(task_instance, _template_context(task_instance))

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any, msg: Any) -> None:
        """Draft failed task instances that no in-process report covered (hard kills)."""
        with never_raise("the postmortem-scribe DAG run listener"):
            if not _settings.enabled() or _is_manual(msg):
                return
            # Snapshot now, inside the scheduler's session; the ORM rows must not cross threads.
            from postmortem_scribe.config import load_config

            keys = getattr(load_config(), "input_keys", ())
            limit = int(_settings.option_float("max_drafts_per_run"))
            snapshots = _report.snapshot_failed(dag_run, limit, keys)
            if not snapshots:
                if msg in ("task_failure", None, ""):
                    return
                # dagrun_timeout / deadlock: the run failed with no failed task to blame.
                snapshots = [_report.run_level_facts(dag_run, None, str(msg))]
            grace = _settings.option_float("dag_run_grace_seconds")
            start_background(
                lambda: _report.report_unreported(snapshots, detected_by="dag_run_listener",
                                                  grace_seconds=grace),
                what=f"DAG run {getattr(dag_run, 'dag_id', '?')}/{getattr(dag_run, 'run_id', '?')}",
            )


def _task_has_notifier(task_instance: Any) -> bool:
    """Whether the task's own ``on_failure_callback`` includes a :class:`PostmortemNotifier`."""
    try:
        callbacks = getattr(getattr(task_instance, "task", None), "on_failure_callback", None)
    except Exception:  # noqa: BLE001 - a detached row: assume no notifier, report ourselves
        return False
    if callbacks is None:
        return False
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    from .notifier import PostmortemNotifier

    return any(isinstance(cb, PostmortemNotifier) for cb in callbacks)


def _template_context(task_instance: Any) -> Any:
    """The task SDK's cached template context (rendered templates_dict, params, op_kwargs)."""
    getter = getattr(task_instance, "get_template_context", None)
    if getter is None:
        return None
    try:
        # On the ORM TaskInstance (scheduler, API server) this would need a DB session and the
        # full DAG; the task itself is enough there.
        if type(task_instance).__name__ != "RuntimeTaskInstance":
            return None
        return getter()
    except Exception:  # noqa: BLE001
        return None


listener = PostmortemListener()
"""The instance the plugin registers (pluggy registers each object once)."""
