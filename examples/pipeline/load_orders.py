"""A small nightly job that loads a CSV of orders, as a scientist's upload would reach it.

It is deliberately ordinary: it trusts the file's shape, so a malformed upload makes it fail
the way real pipelines fail.  The demo reports that failure with postmortem-scribe.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

EXPECTED_COLUMNS = ["order_id", "customer", "amount", "currency"]


def load_orders(path: str | Path) -> list[dict[str, str]]:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for values in reader:
            if len(values) != len(header):
                raise ValueError(
                    f"Error tokenizing data. Expected {len(header)} fields in line "
                    f"{reader.line_num}, saw {len(values)}"
                )
            rows.append(dict(zip(header, values)))
    return rows


def total_revenue(rows: list[dict[str, str]]) -> float:
    return sum(float(r["amount"]) for r in rows)


def main(path: str) -> float:
    return total_revenue(load_orders(path))


if __name__ == "__main__":
    print(main(sys.argv[1]))
