"""How much time postmortem-scribe-airflow adds to a failing Airflow task.

Runs inside the Airflow virtualenv (`make bench-airflow`, or
`.venv-airflow/bin/python benchmarks/bench_airflow_overhead.py --rounds 15`).

One process, one DAG whose task fails on a malformed CSV, run with ``dag.test()`` over and over,
interleaving three variants so that drift (caches, disk) hits all of them alike:

- ``without``: the plugin installed but switched off (``AIRFLOW__POSTMORTEM_SCRIBE__ENABLED=False``),
  the baseline: the same failure, the same Airflow, nothing reported;
- ``new``: the plugin on, a fresh store each round, so every failure is a new incident (capture,
  input inspection, classification, render, a new draft file);
- ``repeat``: the plugin on, one store, so every failure after the first is a repeat (the common
  case in production: a comment, or a count inside the coalescing window).

The time measured is the wall time of ``dag.test()`` plus the wait for the DAG-run listener's
background check, i.e. everything the plugin does in this process.  Prints medians, the time
added and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="bench-airflow-"))
os.environ.update({
    "AIRFLOW_HOME": str(WORK / "home"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(WORK / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(WORK / "logs"),
})
for var in [v for v in os.environ if v.startswith("SCRIBE_")]:
    del os.environ[var]
(WORK / "home").mkdir(parents=True)
(WORK / "dags").mkdir()

CSV = WORK / "orders.csv"
CSV.write_text(
    "order_id,customer,amount,currency\n"
    + "".join(f"{1000 + i},Customer {i},{i}.50,EUR\n" for i in range(2000))
    + "3001,Umbrella, Ltd,300.00,EUR\n"
)
DAG_FILE = WORK / "dags" / "bench_orders.py"
DAG_FILE.write_text(textwrap.dedent(f'''
    from __future__ import annotations
    import csv, datetime
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG

    def load_orders(input_path):
        with open(input_path, newline="") as fh:
            return sum(float(row["amount"]) for row in csv.DictReader(fh))

    with DAG("bench_orders", schedule=None, start_date=datetime.datetime(2024, 1, 1),
             catchup=False):
        PythonOperator(task_id="load_orders", python_callable=load_orders,
                       op_kwargs={{"input_path": "{CSV}"}})
    '''))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12, help="runs of each variant (default 12)")
    args = parser.parse_args()

    import logging

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    from postmortem_scribe_airflow import wait_for_pending

    logging.disable(logging.WARNING)  # keep the console for the figures
    db.initdb()
    dag = DagBag(dag_folder=str(DAG_FILE)).get_dag("bench_orders")
    assert dag is not None

    shared = WORK / "repeat"

    def configure(variant: str, round_no: int) -> Path:
        os.environ["AIRFLOW__POSTMORTEM_SCRIBE__ENABLED"] = "False" if variant == "without" else "True"
        base = shared if variant == "repeat" else WORK / f"{variant}-{round_no}"
        os.environ["SCRIBE_STORE_URL"] = f"sqlite:///{base / 'store.db'}"
        os.environ["SCRIBE_OUTPUT_DIR"] = str(base / "drafts")
        base.mkdir(parents=True, exist_ok=True)
        return base

    def once(variant: str, round_no: int) -> float:
        base = configure(variant, round_no)
        started = time.perf_counter()
        with open(os.devnull, "w") as sink:
            saved = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = sink
            try:
                dag_run = dag.test()
                wait_for_pending(120)
            finally:
                sys.stdout, sys.stderr = saved
        elapsed = time.perf_counter() - started
        assert dag_run.state == "failed"
        made = list((base / "drafts").glob("*.md")) if (base / "drafts").exists() else []
        if variant == "without":
            assert not made, "the baseline must not report"
        else:
            assert len(made) == 1, f"{variant}: expected one draft, found {len(made)}"
        return elapsed

    variants = ("without", "new", "repeat")
    for v in variants:  # warm-up: imports, first DB writes, template compilation
        once(v, -1)
    times: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(args.rounds):
        for v in variants[r % 3:] + variants[: r % 3]:  # rotate the order each round
            times[v].append(once(v, r))

    base = statistics.median(times["without"])
    print(f"Airflow dag.test() of a task failing on a malformed 2,000-row CSV; "
          f"{args.rounds} interleaved rounds per variant, medians")
    print(f"  {'without plugin (baseline)':38s} {base * 1000:8.1f} ms")
    for v, label in (("new", "with plugin, new incident"), ("repeat", "with plugin, repeat of open incident")):
        med = statistics.median(times[v])
        print(f"  {label:38s} {med * 1000:8.1f} ms   +{(med - base) * 1000:7.1f} ms   "
              f"ratio {med / base:5.2f}")
    spread = {v: (min(t) * 1000, max(t) * 1000) for v, t in times.items()}
    print("  min/max ms: " + ", ".join(f"{v} {lo:.0f}/{hi:.0f}" for v, (lo, hi) in spread.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
