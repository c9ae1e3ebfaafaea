"""``PostmortemNotifier``: the per-DAG way in, for ``on_failure_callback`` of tasks and DAGs."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from . import _report, _settings
from ._capture import TaskFacts, facts_from_ti
from ._guard import call_bounded, never_raise
from .version_compat import BaseNotifier, failed_task_instances, orm_session_of

log = logging.getLogger("postmortem_scribe.airflow")


class PostmortemNotifier(BaseNotifier):
    """Open a post-mortem draft for a failed task (or the failed task of a failed DAG run).

    Use it as ``on_failure_callback`` of a task, of ``default_args`` or of the DAG::

        from postmortem_scribe_airflow import PostmortemNotifier

        with DAG(..., on_failure_callback=PostmortemNotifier(lead="alice")):
            PythonOperator(..., on_failure_callback=PostmortemNotifier(
                inputs=["/data/{{ ds }}/orders.csv"], notes=["loads the nightly export"]))

    With the plugin installed as well, one failure still makes one report: both compute the same
    occurrence key (DAG, run, task, try) and the store answers ``duplicate`` to the second.

    At DAG level Airflow passes no exception (and, for a hard-killed task, nothing ran in the task
    process): the notifier drafts each failed task instance not already reported, from its log.

    Args:
        lead: GitHub login to assign, overriding routing rules for this DAG/task.
        stakeholders: GitHub logins to mention.
        labels: extra issue labels.
        inputs: extra input file paths (templated) to inspect besides inlets and op_kwargs.
        notes: extra sentences for the draft (templated).
        config: a core ``Config`` or a mapping in the config file's layout; by default the
            ``SCRIBE_*`` environment and the Airflow Variable are used, as for the plugin.
        config_variable: name of the Airflow Variable holding the JSON config.
        github_conn_id: Airflow connection holding the GitHub token (password field).
        timeout_seconds: upper bound on the time the callback spends; default the core's
            budget plus a margin.
    """

    template_fields: Sequence[str] = ("lead", "stakeholders", "labels", "inputs", "notes")

    def __init__(
        self,
        *,
        lead: str | None = None,
        stakeholders: Sequence[str] = (),
        labels: Sequence[str] = (),
        inputs: Sequence[str] = (),
        notes: Sequence[str] = (),
        config: Any = None,
        config_variable: str | None = None,
        github_conn_id: str | None = None,
        timeout_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.lead = lead
        self.stakeholders = list(stakeholders)
        self.labels = list(labels)
        self.inputs = list(inputs)
        self.notes = list(notes)
        self.config = config
        self.config_variable = config_variable
        self.github_conn_id = github_conn_id
        self.timeout_seconds = timeout_seconds

    def __call__(self, *args: Any) -> None:
        """Render the template fields on a copy and notify; never raises into Airflow.

        BaseNotifier renders in place, which would freeze the first run's values into a
        notifier shared through ``default_args``; a copy keeps each call independent.
        """
        with never_raise("PostmortemNotifier"):
            if len(args) == 1:
                context = args[0]
            else:  # 2.x SLA-miss signature: not a failure
                return
            clone = copy.copy(self)
            for name in self.template_fields:
                setattr(clone, name, copy.deepcopy(getattr(self, name)))
            try:
                clone.render_template_fields(context)
            except Exception:  # noqa: BLE001 - a broken template must not cost the report
                log.warning("postmortem-scribe: PostmortemNotifier templates could not be "
                            "rendered; reporting with them unrendered.", exc_info=True)
            clone.notify(context)

    def notify(self, context: Any) -> None:
        """Report the failure in ``context`` (task-level) or the run's failed tasks (DAG-level)."""
        # ``[postmortem_scribe] enabled`` switches off the plugin's listener only: a notifier is
        # an explicit choice in a DAG file, and removing it is how to switch it off.
        with never_raise("PostmortemNotifier.notify"):
            if "reason" in context:
                self._notify_dag_level(context)
            else:
                self._notify_task_level(context)

    # -- internals -------------------------------------------------------------------------

    def _settings(self) -> _settings.Settings:
        settings = _settings.load_settings(config=self.config,
                                           config_variable=self.config_variable,
                                           github_conn_id=self.github_conn_id)
        self._apply_routing(settings.config)
        return settings

    def _apply_routing(self, cfg: Any) -> None:
        """A lead/stakeholders/labels given here outrank the configured rules: the first rule
        that matches decides, so this one goes first."""
        if not (self.lead or self.stakeholders or self.labels):
            return
        from postmortem_scribe.config import RouteRule

        cfg.routes = [
            RouteRule(name="PostmortemNotifier", lead=self.lead,
                      stakeholders=[s for s in self.stakeholders if s],
                      labels=[s for s in self.labels if s]),
            *cfg.routes,
        ]

    def _notify_task_level(self, context: Mapping[str, Any]) -> None:
        ti = context.get("ti") or context.get("task_instance")
        if ti is None:
            return

        def report() -> Any:
            return _report.report_task_failure(
                ti, error=context.get("exception"), context=context, detected_by="notifier",
                settings=self._settings(), extra_inputs=self.inputs, notes=self.notes,
            )

        # Bounded as a whole: the Variable and connection lookups of _settings() included.
        call_bounded(report, timeout=self.timeout_seconds or _report.default_bound(),
                     what="PostmortemNotifier report")

    def _notify_dag_level(self, context: Mapping[str, Any]) -> None:
        reason = str(context.get("reason") or "")
        dag = context.get("dag")
        dag_run = context.get("dag_run")
        grace = _settings.option_float("dag_run_grace_seconds")
        limit = int(_settings.option_float("max_drafts_per_run"))
        ti = context.get("ti")

        # ORM rows are read here, in the calling thread, not in the worker thread below: 2.x
        # hands an ORM DagRun bound to this thread's session, which another thread must not use
        # (SQLite refuses outright).  Their input keys therefore come from the environment's
        # config, as in the listener's DAG-run path; the Variable is read in the worker.
        from postmortem_scribe.config import load_config

        env_keys = load_config().input_keys
        # 2.x hands an ORM DagRun here, which can list its failed task instances; Airflow 3's
        # DAG processor has no database access, and passes the last failed one as ``ti``.
        orm_snapshots = [facts_from_ti(t, dag=dag, dag_run=dag_run, input_keys=env_keys)
                         for t in failed_task_instances(dag_run)[:limit]]
        ti_snapshot = (facts_from_ti(ti, dag=dag, dag_run=dag_run, input_keys=env_keys)
                       if ti is not None and orm_session_of(ti) is not None else None)
        run_facts = _report.run_level_facts(dag_run, dag, reason)

        def report() -> None:
            settings = self._settings()
            keys = getattr(settings.config, "input_keys", ())
            snapshots: list[TaskFacts] = list(orm_snapshots)
            if ti is not None and (ti_snapshot is not None or getattr(ti, "task_id", None)):
                facts = ti_snapshot or facts_from_ti(ti, dag=dag, dag_run=dag_run,
                                                     input_keys=keys)
                if facts.state in (None, "failed") and all(
                        f.occurrence_key() != facts.occurrence_key() for f in snapshots):
                    snapshots.append(facts)
            if not snapshots and reason != "task_failure":
                snapshots.append(run_facts)
            notes = list(self.notes)
            if reason and reason != "task_failure":
                notes.append(f"Airflow's reason for failing the DAG run: {reason}")
            _report.report_unreported(snapshots, detected_by="dag_notifier", grace_seconds=grace,
                                      settings=settings, extra_inputs=self.inputs, notes=notes)

        # Runs in the DAG processor's callback process, which can afford to wait: the grace
        # period for the task's own report, then one bounded report per failed task.
        bound = self.timeout_seconds or grace + _report.default_bound() * 2
        call_bounded(report, timeout=bound, what="PostmortemNotifier DAG-level report")
