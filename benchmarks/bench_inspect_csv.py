"""Benchmark: locate one malformed row 1,000 rows from the end of a large CSV.

Compares ``postmortem_scribe.inputs.inspect_path`` with ``pandas.read_csv`` on the same file in
the same run.  Each method runs in its own subprocess, so each peak memory figure (``ru_maxrss``
of that process, interpreter and imports included) is its own.  The file is read once before
timing so that both methods see a warm page cache.

Targets (issue 6): at least 2x faster than pandas, and under 10% of its peak memory.

    .venv/bin/python benchmarks/bench_inspect_csv.py              # the full 2 GB run
    .venv/bin/python benchmarks/bench_inspect_csv.py --size-gb 0.2  # a quick run

The generated file lives in a temporary folder (``--dir`` to choose where) and is deleted
afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "order_id,customer,email,amount,currency,created_at,status,note\n"
TAIL_ROWS = 1000


def _row(i: int, rnd: random.Random) -> str:
    note = '"Widget, large"' if i % 50 == 0 else ("gift" if i % 7 == 0 else "")
    return (
        f"{i},customer-{i % 9973},user{i % 9973}@example.com,{rnd.randrange(100, 99999) / 100:.2f},"
        f"EUR,2024-03-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00Z,"
        f"{('paid', 'open', 'refunded')[i % 3]},{note}\n"
    )


def generate(path: Path, size_bytes: int) -> dict[str, int]:
    """Write a CSV of about ``size_bytes`` with one bad row 1,000 rows before the end.

    A block of rows (with some quoted values containing commas, as real exports have) is
    written repeatedly, which is fast; the ids repeat, which does not matter here.
    """
    rnd = random.Random(42)
    block = "".join(_row(i, rnd) for i in range(1, 100_001)).encode()
    rows_per_block = 100_000
    tail = "".join(_row(i, rnd) for i in range(1, TAIL_ROWS + 1)).encode()
    bad = b"999999,customer-1,user1@example.com,19.90,EUR,2024-03-01T00:00:00Z,paid,note,PROMO10\n"
    blocks = max(1, (size_bytes - len(tail)) // len(block))
    with open(path, "wb") as fh:
        fh.write(HEADER.encode())
        for _ in range(blocks):
            fh.write(block)
        fh.write(bad)
        fh.write(tail)
    rows = blocks * rows_per_block + 1 + TAIL_ROWS
    bad_line = 1 + blocks * rows_per_block + 1  # header, the blocks, then the bad row
    return {
        "rows": rows,
        "bad_line": bad_line,
        "bad_record": bad_line - 1,
        "size": path.stat().st_size,
    }


def _child_scribe(path: str) -> dict[str, object]:
    from postmortem_scribe.inputs import inspect_path

    t0 = time.perf_counter()
    report = inspect_path(path)
    elapsed = time.perf_counter() - t0
    ragged = [p for p in report.problems if p.code == "ragged_row"]
    return {
        "seconds": elapsed,
        "found_line": ragged[0].line if ragged else None,
        "message": ragged[0].message if ragged else None,
        "rows": report.row_estimate,
        "problems": len(report.problems),
    }


def _child_pandas(path: str) -> dict[str, object]:
    import re

    import pandas as pd

    t0 = time.perf_counter()
    message = None
    try:
        pd.read_csv(path)
    except Exception as exc:  # the ParserError is the point
        message = str(exc)
    elapsed = time.perf_counter() - t0
    m = re.search(r"line (\d+)", message or "")
    return {"seconds": elapsed, "found_line": int(m.group(1)) if m else None, "message": message}


def _child_csv_module(path: str) -> dict[str, object]:
    import csv

    t0 = time.perf_counter()
    found = None
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        width = len(next(reader))
        for row in reader:
            if len(row) != width:
                found = reader.line_num
                break
    return {"seconds": time.perf_counter() - t0, "found_line": found, "message": None}


def child(method: str, path: str) -> None:
    fn = {"scribe": _child_scribe, "pandas": _child_pandas, "csv": _child_csv_module}[method]
    out = fn(path)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def run_child(method: str, path: Path) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", method, str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{method} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(16 * 1024 * 1024):
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size-gb", type=float, default=2.0, help="file size in GB (default 2.0)")
    ap.add_argument("--dir", help="where to write the file (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument(
        "--with-csv-module",
        action="store_true",
        help="also time a plain csv.reader loop, for reference",
    )
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="scribe-bench-", dir=args.dir))
    path = folder / "orders.csv"
    try:
        t0 = time.perf_counter()
        info = generate(path, int(args.size_gb * 1e9))
        gen_s = time.perf_counter() - t0
        size_gb = info["size"] / 1e9
        print(
            f"file: {path} ({size_gb:.2f} GB, {info['rows']:,} data rows, written in {gen_s:.1f} s)"
        )
        print(
            f"malformed row: line {info['bad_line']:,} (record {info['bad_record']:,}), "
            f"{TAIL_ROWS:,} rows before the end"
        )
        warm(path)
        results = {"scribe": run_child("scribe", path), "pandas": run_child("pandas", path)}
        if args.with_csv_module:
            results["csv.reader"] = run_child("csv", path)
        print()
        print(f"{'method':<12} {'seconds':>9} {'MB/s':>8} {'peak RSS MB':>12}  found line")
        for name, res in results.items():
            secs = float(res["seconds"])  # type: ignore[arg-type]
            print(
                f"{name:<12} {secs:9.2f} {info['size'] / secs / 1e6:8.0f} "
                f"{float(res['peak_rss_mb']):12.1f}  {res['found_line']}"
            )  # type: ignore[arg-type]
        s, p = results["scribe"], results["pandas"]
        speedup = float(p["seconds"]) / float(s["seconds"])  # type: ignore[arg-type]
        mem = float(s["peak_rss_mb"]) / float(p["peak_rss_mb"])  # type: ignore[arg-type]
        print()
        print(f"scribe message: {s['message']}")
        print(f"pandas message: {p['message']}")
        print()
        ok_line = s["found_line"] == info["bad_line"]
        print(
            f"speed: scribe is {speedup:.1f}x faster than pandas.read_csv (target >= 2x): "
            f"{'PASS' if speedup >= 2 else 'FAIL'}"
        )
        print(
            f"memory: scribe peak is {mem:.1%} of pandas' peak (target < 10%): "
            f"{'PASS' if mem < 0.10 else 'FAIL'}"
        )
        print(
            f"location: scribe found line {s['found_line']}, expected {info['bad_line']}: "
            f"{'PASS' if ok_line else 'FAIL'}"
        )
        return 0 if (speedup >= 2 and mem < 0.10 and ok_line) else 1
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
