"""A Prefect flow whose task reads an orders CSV, as an upload from a partner would reach it.

The decorators are ordinary: nothing here knows about postmortem-scribe.  Run as a script,
the flow is handed to ``postmortem_scribe_prefect.install`` first, which adds the failure hooks
to the flow and its tasks without touching this file's decorators:

    python examples/prefect/orders_flow.py examples/prefect/data/orders_malformed.csv
"""

from __future__ import annotations

import csv
import sys

from prefect import flow, get_run_logger, task

EXPECTED_COLUMNS = ["order_id", "customer", "amount", "currency"]


@task(retries=1, retry_delay_seconds=0)
def read_orders(input_path: str) -> list[dict[str, str]]:
    """Read the orders file; trusts its shape, so a malformed row fails the task."""
    logger = get_run_logger()
    logger.info("reading orders from %s", input_path)
    rows = []
    with open(input_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        logger.info("header: %s", ",".join(header))
        for values in reader:
            if len(values) != len(header):
                raise ValueError(
                    f"Error tokenizing data. Expected {len(header)} fields in line "
                    f"{reader.line_num}, saw {len(values)}"
                )
            rows.append(dict(zip(header, values, strict=True)))
    logger.info("read %d orders", len(rows))
    return rows


@task
def total_revenue(rows: list[dict[str, str]]) -> float:
    """Sum of the order amounts."""
    return round(sum(float(r["amount"]) for r in rows), 2)


@flow(name="daily-orders")
def daily_orders(input_path: str) -> float:
    """Load the day's orders and compute the revenue for the dashboard."""
    rows = read_orders(input_path)
    revenue = total_revenue(rows)
    get_run_logger().info("revenue: %.2f", revenue)
    return revenue


if __name__ == "__main__":
    from postmortem_scribe_prefect import install

    print(install(daily_orders))
    path = sys.argv[1] if len(sys.argv) > 1 else "examples/prefect/data/orders_malformed.csv"
    state = daily_orders(path, return_state=True)
    print(f"flow run finished in state {state.name}")
    sys.exit(0 if state.is_completed() else 1)
