"""Produce the ``local-*`` records of the corpus by running real failing pipeline tasks.

Each task below is a small piece of pipeline code that fails the way production tasks do
(a ragged CSV, an empty extract, a refused connection, a duplicate key ...).  The script writes
the task module into two different "checkouts" (different directories, and the second copy
shifted down by a few lines, as after an unrelated edit), runs each task in both, and records
the two tracebacks: the pair is a duplicate group (same failure, other host, other line
numbers).  Tasks listed as near misses fail with the same exception type for another reason.

Run from the repository root with the development environment:

    .venv/bin/python tests/corpus/generate_local.py > tests/corpus/local.jsonl

Only loopback addresses are contacted (a closed port and a throwaway HTTP server).
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

TASKS = r'''
import csv, json, os, sqlite3
from pathlib import Path

DATA = Path(os.environ["CORPUS_DATA"])
API = os.environ["CORPUS_API"]


def load_orders():
    import pandas as pd
    (DATA / "orders_2024-05-01.csv").write_text("id,amount,currency\n1,10.5,EUR\n2,7,EUR,extra\n")
    return pd.read_csv(DATA / "orders_2024-05-01.csv")


def load_customers():
    import pandas as pd
    (DATA / "customers_2024-05-01.csv").write_text("")
    return pd.read_csv(DATA / "customers_2024-05-01.csv")


def read_manifest():
    with open(DATA / "incoming" / "manifest_2024-05-01.json") as fh:
        return json.load(fh)


def parse_amounts():
    rows = [{"amount": "10.5"}, {"amount": "n/a"}]
    return [float(r["amount"]) for r in rows]


def connect_warehouse():
    import psycopg
    return psycopg.connect("host=127.0.0.1 port=9 dbname=warehouse connect_timeout=3")


def fetch_rates():
    import requests
    return requests.get("http://127.0.0.1:9/rates", timeout=3).json()


def enrich_orders():
    orders = [{"id": 1, "customer": 7}]
    customers = {8: {"name": "x"}}
    return [dict(o, **customers[o["customer"]]) for o in orders]


def warehouse_dsn():
    return os.environ["WAREHOUSE_DSN_FOR_CORPUS"]


def join_customers():
    import pandas as pd
    left = pd.DataFrame({"customer_id": [1, 2, 2], "v": [1, 2, 3]})
    right = pd.DataFrame({"customer_id": [1, 2, 2], "name": ["a", "b", "c"]})
    return left.merge(right, on="customer_id", validate="one_to_one")


def read_snapshot():
    import pyarrow.parquet as pq
    (DATA / "snapshot_2024-05-01.parquet").write_text("id,amount\n1,2\n")
    return pq.read_table(DATA / "snapshot_2024-05-01.parquet")


def insert_daily_totals():
    db = sqlite3.connect(":memory:")
    db.execute("create table totals (day text primary key, total real)")
    db.execute("insert into totals values ('2024-05-01', 1.0)")
    db.execute("insert into totals values ('2024-05-01', 2.0)")


def load_latin1_export():
    import pandas as pd
    (DATA / "export_2024-05-01.csv").write_bytes("name,city\nJos\xe9,M\xe1laga\n".encode("latin-1"))
    return pd.read_csv(DATA / "export_2024-05-01.csv")


def parse_events():
    return json.loads('{"events": [{"id": 1}, {"id": 2')


def import_plugin():
    import corpus_vendor_sdk  # noqa: F401


def summarize():
    stats = None
    return stats.mean()


def ratio():
    total, failed = 0, 0
    return failed / total


def allocate_matrix():
    import numpy as np
    return np.ones((400_000, 400_000, 10))


def read_staging_table():
    import sqlalchemy as sa
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        return conn.execute(sa.text("select * from staging_orders")).fetchall()


def push_metrics():
    import requests
    r = requests.post(API + "/unavailable", json={"n": 1}, timeout=3)
    r.raise_for_status()


def pull_invoices():
    import requests
    r = requests.get(API + "/unauthorized", timeout=3)
    r.raise_for_status()


def pull_exchange():
    import requests
    r = requests.get(API + "/ratelimited", timeout=3)
    r.raise_for_status()


def pull_missing_report():
    import requests
    r = requests.get(API + "/missing", timeout=3)
    r.raise_for_status()


def validate_totals():
    totals = {"2024-05-01": -3.0}
    for day, value in totals.items():
        assert value >= 0, f"negative total {value} on {day}"


def check_row_count():
    rows = []
    if len(rows) == 0:
        raise ValueError("extract returned 0 rows for partition 2024-05-01; expected at least 1")


def run_dbt():
    import subprocess
    subprocess.run(["corpus-dbt-not-installed", "run"], check=True)
'''

# (task, category, near_miss_of_task)
CASES = [
    ("load_orders", "data_format", None),
    ("load_customers", "data_missing", None),
    ("read_manifest", "data_missing", None),
    ("parse_amounts", "data_format", None),
    ("connect_warehouse", "connectivity", None),
    ("fetch_rates", "connectivity", None),
    ("enrich_orders", "code_bug", None),
    ("warehouse_dsn", "config_env", "enrich_orders"),
    ("join_customers", "data_quality", None),
    ("read_snapshot", "data_format", None),
    ("insert_daily_totals", "data_quality", None),
    ("load_latin1_export", "data_format", None),
    ("parse_events", "data_format", None),
    ("import_plugin", "config_env", None),
    ("summarize", "code_bug", None),
    ("ratio", "code_bug", None),
    ("allocate_matrix", "resources", None),
    ("read_staging_table", "data_missing", None),
    ("push_metrics", "external_service", None),
    ("pull_invoices", "auth", "push_metrics"),
    ("pull_exchange", "external_service", "push_metrics"),
    ("pull_missing_report", "data_missing", "push_metrics"),
    ("validate_totals", "data_quality", None),
    ("check_row_count", "data_missing", "parse_amounts"),
    ("run_dbt", "config_env", "read_manifest"),
]
# Tasks run in both checkouts (a duplicate group); the rest run once.
TWICE = {"load_orders", "load_customers", "read_manifest", "connect_warehouse", "enrich_orders",
         "join_customers", "read_snapshot", "insert_daily_totals", "parse_events", "summarize",
         "allocate_matrix", "push_metrics", "validate_totals", "fetch_rates", "import_plugin"}

RUNNER = r'''
import importlib.util, sys, traceback
spec = importlib.util.spec_from_file_location("etl_tasks", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
try:
    getattr(mod, sys.argv[2])()
except BaseException:
    traceback.print_exc()
    sys.exit(1)
'''


class _Handler(http.server.BaseHTTPRequestHandler):
    CODES = {"/unavailable": 503, "/unauthorized": 401, "/ratelimited": 429, "/missing": 404}

    def _reply(self) -> None:
        self.send_response(self.CODES.get(self.path, 500))
        self.end_headers()

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:  # keep stderr quiet
        pass


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    # port 9 (discard) must be closed for the "refused" cases
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", 9)) != 0, "port 9 is open; pick another closed port"
    with tempfile.TemporaryDirectory() as tmp:
        roots = [Path(tmp) / "opt" / "airflow", Path(tmp) / "home" / "ci" / "checkout" / "airflow"]
        runner = Path(tmp) / "runner.py"
        runner.write_text(RUNNER)
        for n, root in enumerate(roots):
            (root / "dags").mkdir(parents=True)
            (root / "data" / "incoming").mkdir(parents=True)
            body = textwrap.dedent(TASKS)
            if n:  # an unrelated edit moved every line down
                body = "# shared helpers for the ETL DAGs\n\n\n" + body
            (root / "dags" / "etl_tasks.py").write_text(body)
        for task, category, near in CASES:
            runs = roots if task in TWICE else roots[:1]
            for n, root in enumerate(runs):
                env = {"CORPUS_DATA": str(root / "data"), "CORPUS_API": api,
                       "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
                proc = subprocess.run([sys.executable, str(runner), str(root / "dags" / "etl_tasks.py"), task],
                                      capture_output=True, text=True, env=env, timeout=120)
                text = proc.stderr.replace(tmp, "").strip()
                record = {
                    "id": f"local-{task}-{'ab'[n]}",
                    "text": text,
                    "category": category,
                    "source": "generated: tests/corpus/generate_local.py (task " + task + ")",
                    "pipeline": "local/etl",
                    "group": f"local-{task}" if task in TWICE else None,
                    "near_miss_of": f"local-{near}-a" if near and n == 0 else None,
                }
                print(json.dumps(record, ensure_ascii=False))
    server.shutdown()


if __name__ == "__main__":
    main()
