"""The plugin alone: installed, no DAG edited, every failing task gets exactly one draft."""

from __future__ import annotations

from pathlib import Path

from conftest import drafts, run_dag, write_dag

LOADER = '''
from __future__ import annotations

import csv
import datetime

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator


def load_orders(input_path):
    total = 0.0
    with open(input_path, newline="") as fh:
        for row in csv.DictReader(fh):
            total += float(row["amount"])
    return total


with DAG(
    "{dag_id}",
    schedule=None,
    start_date=datetime.datetime(2024, 1, 1),
    catchup=False,
    tags=["sales", "nightly"],
    default_args={{"owner": "data-eng"}},
):
    PythonOperator(
        task_id="load_orders",
        python_callable=load_orders,
        op_kwargs={{"input_path": "{csv}"}},
        retries={retries},
        retry_delay=datetime.timedelta(seconds=0),
    )
'''


def test_failing_task_opens_one_draft_with_everything_on_call_needs(
        scribe_env: Path, malformed_csv: Path) -> None:
    path = write_dag("orders_plugin", LOADER.format(dag_id="orders_plugin", csv=malformed_csv,
                                                    retries=0))
    dag_run = run_dag("orders_plugin", path)

    assert dag_run.state == "failed"  # the task's own failure, untouched
    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    assert "orders_plugin" in text  # DAG
    assert "load_orders" in text  # task
    assert dag_run.run_id in text  # run
    assert "ValueError" in text and "could not convert string to float" in text  # exception
    assert str(malformed_csv) in text  # input file found from op_kwargs, no DAG edit
    assert "try 1 of 1" in text  # try and max tries
    assert "line 4 (record 3) has 5 fields but the header has 4" in text  # the input's diagnosis
    assert "data-eng" in text  # owner
    assert "sales" in text  # tags


def test_retries_give_exactly_one_draft_for_the_last_try(
        scribe_env: Path, malformed_csv: Path) -> None:
    path = write_dag("orders_retries", LOADER.format(dag_id="orders_retries", csv=malformed_csv,
                                                     retries=2))
    dag_run = run_dag("orders_retries", path)

    assert dag_run.state == "failed"
    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    # Tries 1 and 2 went up_for_retry; only the final, third try is drafted.
    assert "try 3 of 3" in text
    assert "try 1 of 3" not in text and "### Comment" not in text


def test_a_task_failure_that_fails_its_dag_run_is_one_incident(
        scribe_env: Path, malformed_csv: Path) -> None:
    """The task hook reports; the DAG-run-failed hook finds that report and adds nothing,
    including when the scheduler replays DAG-run-failed after a restart."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    from postmortem_scribe_airflow import wait_for_pending
    from postmortem_scribe_airflow.listener import listener

    path = write_dag("orders_once", LOADER.format(dag_id="orders_once", csv=malformed_csv,
                                                  retries=0))
    dag_run = run_dag("orders_once", path)
    first = drafts(scribe_env)
    assert len(first) == 1

    # A scheduler restart replays on_dag_run_failed for old runs, in its own session.
    for _ in range(2):
        with create_session() as session:
            replayed = session.query(DagRun).filter_by(dag_id="orders_once",
                                                       run_id=dag_run.run_id).one()
            listener.on_dag_run_failed(dag_run=replayed, msg="task_failure")
        assert wait_for_pending(timeout=60)

    assert drafts(scribe_env) == first


def test_two_runs_of_the_same_failure_are_one_incident_with_a_repeat(
        scribe_env: Path, malformed_csv: Path) -> None:
    path = write_dag("orders_repeat", LOADER.format(dag_id="orders_repeat", csv=malformed_csv,
                                                    retries=0))
    run_dag("orders_repeat", path)
    second = run_dag("orders_repeat", path)

    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    assert second.run_id in text  # the repeat is recorded on the same incident


def test_a_successful_task_is_left_alone(scribe_env: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("order_id,customer,amount,currency\n1,A,1.0,EUR\n", encoding="utf-8")
    path = write_dag("orders_ok", LOADER.format(dag_id="orders_ok", csv=good, retries=0))
    dag_run = run_dag("orders_ok", path)

    assert dag_run.state == "success"
    assert drafts(scribe_env) == {}



FLAKY = '''
from __future__ import annotations

import datetime
from pathlib import Path

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator

MARK = Path("{mark}")


def sometimes():
    if not MARK.exists():
        MARK.write_text("failed once")
        raise ConnectionResetError("connection reset by peer")
    return "ok"


with DAG("{dag_id}", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    PythonOperator(task_id="fetch", python_callable=sometimes, retries=1,
                   retry_delay=datetime.timedelta(seconds=0))
'''


def test_a_task_that_succeeds_on_retry_gets_no_draft(scribe_env: Path, tmp_path: Path) -> None:
    path = write_dag("flaky_fetch", FLAKY.format(dag_id="flaky_fetch", mark=tmp_path / "mark"))
    dag_run = run_dag("flaky_fetch", path)

    assert dag_run.state == "success"
    assert drafts(scribe_env) == {}  # try 1 was up_for_retry, try 2 succeeded


MAPPED = '''
from __future__ import annotations

import datetime

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator


def load(input_path):
    if input_path.endswith("b.csv"):
        raise ValueError(f"cannot parse {{input_path}}")
    return input_path


with DAG("{dag_id}", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    PythonOperator.partial(task_id="load", python_callable=load).expand(
        op_kwargs=[{{"input_path": "/data/a.csv"}}, {{"input_path": "/data/b.csv"}},
                   {{"input_path": "/data/c.csv"}}])
'''


def test_a_failing_mapped_task_instance_is_drafted_once_with_its_own_input(
        scribe_env: Path) -> None:
    path = write_dag("mapped_load", MAPPED.format(dag_id="mapped_load"))
    dag_run = run_dag("mapped_load", path)

    assert dag_run.state == "failed"
    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    assert "cannot parse /data/b.csv" in text
    assert "/data/b.csv" in text and "/data/a.csv" not in text  # the failing instance's input
