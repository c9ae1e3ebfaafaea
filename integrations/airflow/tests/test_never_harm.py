"""Whatever goes wrong inside postmortem-scribe, the task's outcome is Airflow's alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_dag, write_dag

DAG_FILE = '''
from __future__ import annotations

import datetime

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator

from postmortem_scribe_airflow import PostmortemNotifier


def work(input_path):
    {body}


with DAG("{dag_id}", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False,
         on_failure_callback=PostmortemNotifier()):
    PythonOperator(task_id="work", python_callable=work, op_kwargs={{"input_path": "{csv}"}},
                   on_failure_callback=PostmortemNotifier())
'''


@pytest.fixture()
def broken_scribe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that cannot be opened and an output directory that cannot be written."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    monkeypatch.setenv("SCRIBE_STORE_URL", f"sqlite:///{blocker / 'store.db'}")
    monkeypatch.setenv("SCRIBE_OUTPUT_DIR", str(blocker / "drafts"))
    monkeypatch.setenv("AIRFLOW__POSTMORTEM_SCRIBE__DAG_RUN_GRACE_SECONDS", "1")


def _ti_states(dag_run: object) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(dag_id=dag_run.dag_id,  # type: ignore[attr-defined]
                                                     run_id=dag_run.run_id).all()  # type: ignore[attr-defined]
        return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in rows}


def test_a_failing_task_fails_as_before_when_reporting_cannot_work(
        broken_scribe: None, malformed_csv: Path) -> None:
    path = write_dag("harm_fail", DAG_FILE.format(
        dag_id="harm_fail", csv=malformed_csv, body='raise ValueError("the real error")'))
    dag_run = run_dag("harm_fail", path)

    assert dag_run.state == "failed"
    assert _ti_states(dag_run) == {"work": "failed"}


def test_a_successful_task_succeeds_as_before_when_reporting_cannot_work(
        broken_scribe: None, malformed_csv: Path) -> None:
    path = write_dag("harm_ok", DAG_FILE.format(
        dag_id="harm_ok", csv=malformed_csv, body="return 42"))
    dag_run = run_dag("harm_ok", path)

    assert dag_run.state == "success"
    assert _ti_states(dag_run) == {"work": "success"}
