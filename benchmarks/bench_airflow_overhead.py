"""How much time postmortem-scribe-airflow adds to a failing Airflow task.

Runs inside the Airflow virtualenv (`make bench-airflow`, or
`.venv-airflow/bin/python benchmarks/bench_airflow_overhead.py --rounds 15`).

One process, one DAG whose task fails on a malformed CSV, run with ``dag.test()`` over and over,
interleaving three variants so that drift (caches, disk) hits all of them alike:

- ``without``: the plugin installed but switched off
  (``AIRFLOW__POSTMORTEM_SCRIBE__ENABLED=False``), the baseline: the same failure, the same
  Airflow, nothing reported;
- ``new``: the plugin on, a fresh store each round, so every failure is a new incident (capture,
  input inspection, classification, render, a new draft file);
- ``repeat``: the plugin on, one store, so every failure after the first is a repeat (the common
  case in production: a comment, or a count inside the coalescing window).

Successful tasks pay something too (the plugin records each success, for flaky detection, and
profiles its input file), and there are far more of them, so the same is measured for a task that
reads a well-formed copy of the file: ``ok-without`` against ``ok-with``.

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
GOOD_CSV = WORK / "orders-good.csv"
GOOD_CSV.write_text(
    "order_id,customer,amount,currency\n"
    + "".join(f"{1000 + i},Customer {i},{i}.50,EUR\n" for i in range(2000))
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

    with DAG("bench_orders_ok", schedule=None, start_date=datetime.datetime(2024, 1, 1),
             catchup=False):
        PythonOperator(task_id="load_orders", python_callable=load_orders,
                       op_kwargs={{"input_path": "{GOOD_CSV}"}})
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
    bag = DagBag(dag_folder=str(DAG_FILE))
    dags = {"fail": bag.get_dag("bench_orders"), "ok": bag.get_dag("bench_orders_ok")}
    assert all(dags.values())

    def configure(variant: str, round_no: int) -> Path:
        os.environ["AIRFLOW__POSTMORTEM_SCRIBE__ENABLED"] = (
            "False" if variant.endswith("without") else "True")
        if variant in ("repeat", "ok-with"):  # one store across rounds
            base = WORK / variant
        else:
            base = WORK / f"{variant}-{round_no}"
        os.environ["SCRIBE_STORE_URL"] = f"sqlite:///{base / 'store.db'}"
        os.environ["SCRIBE_OUTPUT_DIR"] = str(base / "drafts")
        base.mkdir(parents=True, exist_ok=True)
        return base

    def once(variant: str, round_no: int) -> float:
        base = configure(variant, round_no)
        dag = dags["ok" if variant.startswith("ok") else "fail"]
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
        assert dag_run.state == ("success" if variant.startswith("ok") else "failed")
        made = list((base / "drafts").glob("*.md")) if (base / "drafts").exists() else []
        if variant.endswith("without") or variant.startswith("ok"):
            assert not made, "the baseline must not report"
        else:
            assert len(made) == 1, f"{variant}: expected one draft, found {len(made)}"
        return elapsed

    variants = ("without", "new", "repeat", "ok-without", "ok-with")
    for v in variants:  # warm-up: imports, first DB writes, template compilation
        once(v, -1)
    times: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(args.rounds):
        for v in variants[r % 5:] + variants[: r % 5]:  # rotate the order each round
            times[v].append(once(v, r))

    def line(label: str, variant: str, baseline: float | None) -> None:
        med = statistics.median(times[variant])
        text = f"  {label:48s} {med * 1000:8.1f} ms"
        if baseline is not None:
            text += f"   +{(med - baseline) * 1000:7.1f} ms   ratio {med / baseline:5.2f}"
        print(text)

    print("Airflow dag.test() of a task reading a 2,000-row CSV; "
          f"{args.rounds} interleaved rounds per variant, medians")
    print("failing task (malformed CSV):")
    base = statistics.median(times["without"])
    line("without plugin (baseline)", "without", None)
    line("with plugin, new incident", "new", base)
    line("with plugin, repeat of open incident", "repeat", base)
    print("successful task (well-formed CSV):")
    ok_base = statistics.median(times["ok-without"])
    line("without plugin (baseline)", "ok-without", None)
    line("with plugin (success recorded, input profiled)", "ok-with", ok_base)
    spread = {v: (min(t) * 1000, max(t) * 1000) for v, t in times.items()}
    print("  min/max ms: " + ", ".join(f"{v} {lo:.0f}/{hi:.0f}" for v, (lo, hi) in spread.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
