"""PostmortemNotifier on tasks and DAGs, alone and together with the plugin's listener."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import drafts, run_dag, write_dag

DAG_FILE = '''
from __future__ import annotations

import csv
import datetime

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator

from postmortem_scribe_airflow import PostmortemNotifier


def load_orders(path):
    with open(path, newline="") as fh:
        return sum(float(row["amount"]) for row in csv.DictReader(fh))


with DAG("{dag_id}", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False,
         on_failure_callback={dag_callback}):
    PythonOperator(task_id="load_orders", python_callable=load_orders,
                   op_args=["{csv}"],  # positional: no key names it, so only the notifier can
                   on_failure_callback={task_callback})
'''

TASK_NOTIFIER = ('PostmortemNotifier(lead="alice", inputs=["{csv}"], '
                 'notes=["nightly load for {{{{ dag.dag_id }}}}"])')


@pytest.fixture()
def listener_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin stays installed but silent: only the notifier reports."""
    monkeypatch.setenv("AIRFLOW__POSTMORTEM_SCRIBE__ENABLED", "False")


def _dag(dag_id: str, csv: Path, *, task_callback: str = "None",
         dag_callback: str = "None") -> Path:
    return write_dag(dag_id, DAG_FILE.format(
        dag_id=dag_id, csv=csv, task_callback=task_callback.format(csv=csv),
        dag_callback=dag_callback.format(csv=csv)))


def test_task_notifier_alone_drafts_with_its_rendered_fields(
        scribe_env: Path, malformed_csv: Path, listener_off: None) -> None:
    dag_run = run_dag("orders_notified", _dag("orders_notified", malformed_csv,
                                              task_callback=TASK_NOTIFIER))

    assert dag_run.state == "failed"
    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    assert "orders_notified" in text and "load_orders" in text
    assert "ValueError" in text
    assert "alice" in text  # the lead given to the notifier is the assignee
    assert "nightly load for orders_notified" in text  # templated note, rendered
    assert str(malformed_csv) in text  # the templated extra input


def test_listener_and_notifier_together_give_one_report(
        scribe_env: Path, malformed_csv: Path) -> None:
    run_dag("orders_both", _dag("orders_both", malformed_csv, task_callback=TASK_NOTIFIER))

    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    # The notifier runs first (Airflow calls task callbacks before listeners), so its lead and
    # notes are in the one draft; the listener's report of the same try is a duplicate.
    assert "alice" in text
    assert "---\n\n### Comment" not in text


def test_dag_level_notifier_alone_drafts_the_failed_task(
        scribe_env: Path, malformed_csv: Path, listener_off: None) -> None:
    dag_run = run_dag("orders_dag_cb", _dag("orders_dag_cb", malformed_csv,
                                            dag_callback='PostmortemNotifier(lead="bob")'))

    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    # Airflow gives a DAG callback no exception: the draft names the failed task and its try,
    # and says plainly that the cause is not known from here.
    assert "orders_dag_cb" in text and "load_orders" in text
    assert dag_run.run_id in text
    assert "bob" in text


def test_task_and_dag_level_notifiers_give_one_report(
        scribe_env: Path, malformed_csv: Path, listener_off: None) -> None:
    run_dag("orders_two_cb", _dag("orders_two_cb", malformed_csv, task_callback=TASK_NOTIFIER,
                                  dag_callback="PostmortemNotifier()"))

    files = drafts(scribe_env)
    assert len(files) == 1, files
    assert "ValueError" in next(iter(files.values()))  # the task-level report, with the exception


def test_a_broken_template_does_not_cost_the_report(
        scribe_env: Path, malformed_csv: Path, listener_off: None) -> None:
    broken = 'PostmortemNotifier(notes=["owner is {{{{ no_such_thing.attr }}}}"])'
    dag_run = run_dag("orders_bad_tpl", _dag("orders_bad_tpl", malformed_csv,
                                             task_callback=broken))

    assert dag_run.state == "failed"
    files = drafts(scribe_env)
    assert len(files) == 1, files
    assert "ValueError" in next(iter(files.values()))
