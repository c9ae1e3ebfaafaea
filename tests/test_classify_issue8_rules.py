"""Rules added for issue 8 from the tune half of the corpus: upstream and infrastructure
failures that were called code_bug before."""

from __future__ import annotations

from postmortem_scribe.classify import classify, classify_text
from postmortem_scribe.records import ExceptionInfo, FailureRecord, Frame


def test_a_prefect_result_left_pending_by_an_upstream_is_upstream():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/flows/orders.py", line 16, in orders_etl\n'
        "    return out.result()\n"
        '  File "/srv/venv/lib/python3.11/site-packages/prefect/futures.py", line 277, in result\n'
        "    _result = self._final_state.result(\n"
        "prefect.exceptions.UnfinishedRun: Run is in PENDING state, its result is not available.\n"
    )
    cls, _ = classify_text(text)
    assert cls.category == "upstream"
    assert cls.evidence[0].rule == "prefect-unfinished-pending"


def test_airflow_dependency_checks_and_remote_runs_are_upstream():
    for text in (
        "[2016-02-08 16:01:07,745] {models.py:920} WARNING - Dependencies not met yet",
        "dependency 'Trigger Rule' FAILED: Task's trigger rule 'all_success' requires all upstream "
        "tasks to have succeeded, but found 1 non-success(es).",
        "airflow.exceptions.AirflowException: EMR Serverless job failed. Final state is FAILED.",
    ):
        cls, _ = classify_text(text)
        assert cls.category == "upstream", text


def test_dagsters_please_file_an_issue_boilerplate_is_not_a_tool_bug():
    cls, _ = classify_text(
        "An unexpected exception was thrown. Please file an issue.\n\n"
        "dagster_databricks.databricks.DatabricksError: Run `1` failed with result state: `FAILED`. "
        "Message: Task t failed with message: Workload failed. This caused all downstream tasks to get skipped..")
    assert cls.category == "upstream"
    assert "tool-internal-failure" not in {e.rule for e in cls.evidence}


def test_a_heartbeat_refused_with_409_is_infrastructure_not_an_api_error():
    cls, _ = classify_text(
        '[2025-04-09T15:01:03.554+0000] INFO: 10.0.0.1:55526 - "PUT /execution/task-instances/'
        '01961b10-b167-787d-af59-2d67f4e19652/heartbeat HTTP/1.1" 409 Conflict')
    assert cls.category == "infrastructure"


def test_file_not_found_while_starting_a_subprocess_is_a_missing_program():
    def record(frames):
        return FailureRecord(pipeline="etl", task="t", orchestrator="airflow", occurrence_key="k",
                             exceptions=[ExceptionInfo(type="FileNotFoundError",
                                                       message="[Errno 2] No such file or directory: 'dbt'",
                                                       frames=frames)])
    subprocess_frames = [
        Frame(filename="/opt/dags/run.py", lineno=3, function="run_dbt", in_app=True),
        Frame(filename="/usr/lib/python3.11/subprocess.py", lineno=1950, function="_execute_child"),
    ]
    assert classify(record(subprocess_frames)).category == "config_env"
    # A data file that is missing is still data_missing.
    data = record([Frame(filename="/opt/dags/run.py", lineno=3, function="load", in_app=True)])
    data.exceptions[0].message = "[Errno 2] No such file or directory: '/data/in/orders.csv'"
    assert classify(data).category == "data_missing"
