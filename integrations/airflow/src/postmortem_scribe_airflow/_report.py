"""The three ways in, as plain functions the listener and the notifier share.

- :func:`report_task_failure`: in the task process, with the live exception.
- :func:`report_unreported`: after a DAG run failed, for failed task instances no in-process
  report covered (hard-killed tasks, workers without the plugin), drafted from their log file.
- :func:`record_success`: after a success, records it (a success after a failed try marks the
  task flaky) and the input files' profiles, so a later draft can say what changed since the
  last good run.

Every function here returns normally whatever happens; the hooks wrap them once more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from . import _settings
from ._capture import TaskFacts, facts_from_ti, read_log_for, to_failure_context
from ._guard import call_bounded, start_background

log = logging.getLogger("postmortem_scribe.airflow")

# Time allowed for reading the Airflow Variable and connection before the core's budget starts.
_LOOKUP_SECONDS = 10.0


def _core() -> Any:
    import postmortem_scribe

    return postmortem_scribe


def _timeout(config: Any) -> float:
    return float(getattr(config, "budget_seconds", 30.0)) + _settings.option_float(
        "timeout_margin_seconds")


def _deliver(ctx: Any, settings: _settings.Settings, what: str) -> Any:
    """Hand one FailureContext to the core, bounded in time; returns its Outcome or ``None``."""
    core = _core()
    report = getattr(core, "report_context", None)
    if report is None:
        log.warning("postmortem-scribe: this core has no report_context(); upgrade "
                    "postmortem-scribe to match postmortem-scribe-airflow.")
        return None
    outcome = call_bounded(lambda: report(ctx, config=settings.config),
                           timeout=_timeout(settings.config), what=what)
    if outcome is not None:
        action = getattr(outcome, "action", "?")
        where = getattr(outcome, "issue_url", None) or getattr(outcome, "path", None) or ""
        if action == "failed":
            log.warning("postmortem-scribe: %s could not be reported: %s", what,
                        getattr(outcome, "message", ""))
        else:
            log.info("postmortem-scribe: %s -> %s %s %s", what, action,
                     getattr(outcome, "incident", "") or "", where)
    return outcome


def _already_reported(key: str, settings: _settings.Settings) -> bool:
    check = getattr(_core(), "is_reported", None)
    if check is None:
        return False
    result = call_bounded(lambda: bool(check(key, config=settings.config)), timeout=10.0,
                          what=f"checking whether {key} was reported")
    return bool(result)


def report_task_failure(ti: Any, *, error: Any, detected_by: str,
                        context: Mapping[str, Any] | None = None,
                        config: Any = None, overrides: Mapping[str, Any] | None = None,
                        extra_inputs: Iterable[str] = (), notes: Iterable[str] = (),
                        config_variable: str | None = None,
                        github_conn_id: str | None = None,
                        settings: _settings.Settings | None = None) -> Any:
    """Report one failed try seen in the task process (or by the scheduler with an error text).

    In the task process the report runs here, bounded (the process ends right after).  On the
    scheduler or API server (an ORM task instance: the scheduler saw the executor report a
    failure the task never reported itself) the facts are read now and the report runs in the
    background, so the scheduling loop does not wait for it.
    """
    exception = error if isinstance(error, BaseException) else None
    error_text = None if exception is not None else (str(error) if error else None)
    extra = list(extra_inputs)
    note_list = list(notes)

    def load() -> _settings.Settings:
        if settings is not None:
            return settings
        return _settings.load_settings(config=config, overrides=overrides,
                                       config_variable=config_variable,
                                       github_conn_id=github_conn_id)

    def run(facts: TaskFacts, settings: _settings.Settings) -> Any:
        cfg = settings.config
        task_log = read_log_for(facts, getattr(cfg, "log_max_bytes", 64 * 1024))
        ctx = to_failure_context(facts, detected_by=detected_by, exception=exception,
                                 error_text=error_text, task_log=task_log, notes=note_list,
                                 secrets=settings.secrets, extra_inputs=extra)
        return _deliver(ctx, settings, f"report of {ctx.occurrence_key()}")

    from postmortem_scribe.config import load_config

    if in_task_process(ti, error):
        def in_process() -> Any:
            resolved = load()
            facts = facts_from_ti(ti, context=context,
                                  input_keys=getattr(resolved.config, "input_keys", ()))
            _fill_last_success(facts, context)
            return run(facts, resolved)

        # The whole of it is bounded, the Variable and connection lookups included: on Airflow 3
        # they are requests to the API server, retried with back-off when it is unreachable.
        return call_bounded(in_process, timeout=default_bound(), what="the failure report")

    # Server side: read the ORM row now, inside the caller's session (it must not cross
    # threads); the Variable and connection lookups wait for the background thread.
    snapshot = facts_from_ti(ti, context=None, input_keys=load_config().input_keys)
    start_background(lambda: run(snapshot, load()),
                     what=f"report of {snapshot.occurrence_key()}")
    return None


def default_bound() -> float:
    """How long a hook waits for one report: the core's budget, a margin and the lookups."""
    from postmortem_scribe.config import load_config

    return _timeout(load_config()) + _LOOKUP_SECONDS


def in_task_process(ti: Any, error: Any = None) -> bool:
    """Whether this runs in the task's own process (and may block it briefly, bounded).

    The task SDK's RuntimeTaskInstance lives only in the task process (and under dag.test()).
    2.x has one TaskInstance class everywhere; there only the task process holds the live
    exception, while the scheduler (the executor reported a failure the task never did, e.g.
    a hard kill) passes a message, and its scheduling loop must not wait for the report.
    """
    from . import version_compat as compat

    if type(ti).__name__ == "RuntimeTaskInstance":
        return True
    if compat.AIRFLOW_V_3_0_PLUS:
        return False
    return isinstance(error, BaseException)


def _fill_last_success(facts: TaskFacts, context: Mapping[str, Any] | None) -> None:
    if context is None:
        return
    try:
        # A lazy proxy in Airflow 3 (one API call); absent or None for the first run.
        value = context.get("prev_end_date_success")
        if value is not None:
            facts.last_success_at = value.isoformat()
    except Exception:  # noqa: BLE001
        return


def snapshot_failed(dag_run: Any, limit: int, input_keys: Iterable[str]) -> list[TaskFacts]:
    """Plain facts for each failed task instance of a failed DAG run (at most ``limit``)."""
    from . import version_compat as compat

    keys = list(input_keys)
    facts: list[TaskFacts] = []
    dag = compat.dag_of(dag_run)
    for ti in compat.failed_task_instances(dag_run)[:limit]:
        facts.append(facts_from_ti(ti, dag=dag, dag_run=dag_run, input_keys=keys))
    return facts


def report_unreported(snapshots: list[TaskFacts], *, detected_by: str, grace_seconds: float,
                      settings: _settings.Settings | None = None,
                      extra_inputs: Iterable[str] = (), notes: Iterable[str] = ()) -> list[Any]:
    """Draft, from its log file, each failed task instance no in-process report covered.

    A task whose log shows it was killed by a signal is drafted at once: nothing in its process
    will report it.  Any other waits up to ``grace_seconds`` for the task's own report (which
    has the live exception) and is drafted from the log only if that never comes, e.g. because
    the worker runs without this plugin.  Same occurrence key either way, so the store keeps one.
    """
    if not snapshots:
        return []
    settings = settings or _settings.load_settings()
    cfg = settings.config
    deadline = time.monotonic() + grace_seconds
    outcomes: list[Any] = []
    waiting: list[tuple[TaskFacts, Any]] = []
    for facts in snapshots:
        key = facts.occurrence_key()
        if _already_reported(key, settings):
            # The common case: the task's own hooks reported it.  Also what a scheduler restart
            # replaying DAG-run-failed for old runs lands on.
            log.info("postmortem-scribe: %s was already reported; nothing to add.", key)
            continue
        task_log = read_log_for(facts, getattr(cfg, "log_max_bytes", 64 * 1024))
        if task_log is not None and task_log.signal is not None:
            outcomes.append(_draft_from_log(facts, task_log, settings, detected_by,
                                            extra_inputs, notes))
        else:
            waiting.append((facts, task_log))
    while waiting:
        still: list[tuple[TaskFacts, Any]] = []
        for facts, task_log in waiting:
            if not _already_reported(facts.occurrence_key(), settings):
                still.append((facts, task_log))
        waiting = still
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    for facts, _old_log in waiting:
        # Re-read: the file may have grown while we waited.
        task_log = read_log_for(facts, getattr(cfg, "log_max_bytes", 64 * 1024))
        outcomes.append(_draft_from_log(facts, task_log, settings, detected_by, extra_inputs,
                                        notes))
    return outcomes


def run_level_facts(dag_run: Any, dag: Any, reason: str) -> TaskFacts:
    """Facts for a DAG run that failed with no failed task (``dagrun_timeout``, deadlock)."""
    from . import version_compat as compat

    dag = dag if dag is not None else compat.dag_of(dag_run)
    dag_id = str(getattr(dag_run, "dag_id", None) or getattr(dag, "dag_id", None) or "unknown-dag")
    run_id = getattr(dag_run, "run_id", None)
    owner = getattr(dag, "owner", None)
    return TaskFacts(
        dag_id=dag_id, task_id=None, run_id=run_id,
        state="timed_out" if "time" in reason else "failed",
        started_at=getattr(getattr(dag_run, "start_date", None), "isoformat", lambda: None)(),
        ended_at=getattr(getattr(dag_run, "end_date", None), "isoformat", lambda: None)(),
        owner=None if owner in (None, "airflow") else str(owner),
        tags=sorted(str(t) for t in (getattr(dag, "tags", None) or [])),
        run_url=compat.run_url(dag_id, run_id, None, None, None),
        extra={"reason": reason} if reason else {},
    )


def _draft_from_log(facts: TaskFacts, task_log: Any, settings: _settings.Settings,
                    detected_by: str, extra_inputs: Iterable[str], notes: Iterable[str]) -> Any:
    all_notes = list(notes)
    state = None
    if facts.task_id is None:
        reason = facts.extra.get("reason", "")
        error_text = (f"The DAG run {facts.run_id} of {facts.dag_id} failed "
                      f"({reason or 'no reason given'}) "
                      "without a failed task: "
                      + ("it ran longer than its dagrun_timeout." if "time" in reason else
                         "its remaining tasks could not be scheduled." if "deadlock" in reason else
                         "see the run in Airflow."))
    elif task_log is None:
        # Worded with care: this text is classified, and "not found" would read as missing data.
        all_notes.append(
            "the task's own failure report never arrived, and its log is not on this machine "
            f"(expected at {facts.log_path or 'an unknown path'}): the worker may have been lost, "
            "or logs are kept remotely only"
        )
        error_text = ("Airflow marked the task instance failed and no report came from the task "
                      "process; its log could not be read here, so the cause is unknown")
    else:
        # The core reads the error (structured error_detail, or the supervisor's signal line)
        # from the log itself; an error_text here would stop it from looking there.
        error_text = None
        if task_log.signal is not None:
            state = "killed"
        elif not task_log.task_reported_failure:
            all_notes.append("the log does not show the task runner catching an error; the "
                             "task process may have died without a trace")
    ctx = to_failure_context(facts, detected_by=detected_by, error_text=error_text,
                             task_log=task_log, notes=all_notes, secrets=settings.secrets,
                             extra_inputs=extra_inputs, state=state)
    return _deliver(ctx, settings, f"report of {ctx.occurrence_key()} from its log")


def record_success(ti: Any, context: Mapping[str, Any] | None = None) -> None:
    """Tell the core a task succeeded (a success after a failed try marks the task flaky) and
    profile its input files for "what changed since the last success"."""
    core = _core()
    report_success = getattr(core, "report_success", None)
    report_profile = getattr(core, "report_profile", None)
    if report_success is None and report_profile is None:
        return
    settings = _settings.load_settings(need_token=False)
    cfg = settings.config
    facts = facts_from_ti(ti, context=context, input_keys=getattr(cfg, "input_keys", ()))
    budget = float(getattr(cfg, "input_budget_seconds", 3.0)) * max(1, len(facts.inputs)) + 5.0

    def run() -> None:
        if report_success is not None:
            report_success(facts.dag_id, facts.task_id, run_id=facts.run_id,
                           try_number=facts.try_number, orchestrator="airflow",
                           inputs=facts.inputs, config=cfg)
        else:  # an older core: profiles only
            for path in facts.inputs:
                report_profile(path, config=cfg)

    call_bounded(run, timeout=budget, what=f"success of {facts.dag_id}.{facts.task_id}")
