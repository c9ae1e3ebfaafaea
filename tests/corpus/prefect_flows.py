import os, signal, sys, time
from prefect import flow, task

@task
def extract_orders():
    raise ValueError("source returned HTTP 200 with an empty body for partition 2024-05-01")

@task
def transform_orders(rows):
    return rows

@flow(name="orders-etl")
def orders_etl():
    rows = extract_orders.submit()
    out = transform_orders.submit(rows)
    return out.result()

@task(timeout_seconds=1)
def slow_export():
    time.sleep(5)

@flow(name="export-flow")
def export_flow():
    slow_export()

@flow(name="nightly-rollup", timeout_seconds=1)
def nightly_rollup():
    time.sleep(5)

@task(retries=1, retry_delay_seconds=0)
def fetch_fx():
    import requests
    return requests.get("http://127.0.0.1:9/fx", timeout=2).json()

@flow(name="fx-rates")
def fx_rates():
    fetch_fx()

@flow(name="reindex-search")
def reindex_search():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(2)

FLOWS = {f.__name__: f for f in [orders_etl, export_flow, nightly_rollup, fx_rates, reindex_search]}

if __name__ == "__main__":
    name = sys.argv[1]
    print(f"=== BEGIN {name}", file=sys.stderr, flush=True)
    try:
        FLOWS[name]()
    except BaseException as exc:
        print(f"=== RAISED {type(exc).__name__}", file=sys.stderr, flush=True)
