"""An ordinary DAG: nothing in it knows about postmortem-scribe.

Its task sums the amounts of the day's orders export.  The export for 2024-06-01 has a customer
name with an unquoted comma ("Umbrella, Ltd"), which shifts that row by one column, so the task
fails with ``ValueError: could not convert string to float``.  With postmortem-scribe-airflow
installed, that failure becomes a post-mortem draft naming the DAG, the task, the try, the run,
the exception, the log and the malformed row of the input file.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset

EXPORT = Path(__file__).resolve().parent.parent / "data" / "orders_2024-06-01.csv"


def load_orders(input_path: str) -> float:
    """Sum the order amounts of one export."""
    total = 0.0
    with open(input_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            total += float(row["amount"])
    print(f"loaded orders, total {total:.2f}")
    return total


with DAG(
    dag_id="orders_daily",
    schedule=None,
    start_date=datetime.datetime(2024, 6, 1),
    catchup=False,
    tags=["sales"],
    default_args={"owner": "data-eng"},
):
    PythonOperator(
        task_id="load_orders",
        python_callable=load_orders,
        op_kwargs={"input_path": str(EXPORT)},
        inlets=[Asset(name="orders_export", uri=EXPORT.as_uri())],
    )
