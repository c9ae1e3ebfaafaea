"""Writes an orders CSV with one malformed row (an unquoted comma in a promo column)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_orders(path: str | Path, rows: int = 120, bad_row: int = 56) -> Path:
    path = Path(path)
    lines = ["order_id,customer,amount,currency"]
    for i in range(1, rows + 1):
        if i == bad_row:
            lines.append(f"{1000 + i},ACME Corp,19.90,EUR,PROMO10")
        else:
            lines.append(f"{1000 + i},customer-{i},{10 + i % 7}.50,EUR")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    write_orders(sys.argv[1], bad_row=int(sys.argv[2]) if len(sys.argv) > 2 else 56)
