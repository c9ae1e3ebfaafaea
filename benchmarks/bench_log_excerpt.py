"""How much a log excerpt costs on a huge log compared with a tiny one.

``excerpt_from_file`` reads a log backwards from its end and stops once the tail and the most
recent error are in view, so its cost must not grow with the size of the file.  This script
writes a 1 GB log (a 1 MB block of ordinary task-log lines repeated, quickly, with a failing
task's traceback near the end) and a 1 KB log with the same failure, then times
``excerpt_from_file`` on both, interleaved, and prints the medians and their ratio.  The
requirement: the 1 GB log costs at most twice the 1 KB one.

Three more logs put the ratio in context: a 16 KB log (just longer than the 60-line tail, so
the excerpt has the same lines to process as for the 1 GB log), a 64 MB log (which a scan of the
whole file would make obviously slower), and the worst case: a 64 MB log with no error line at
all, where the excerpt reads its whole search window (``SCAN_BYTES``, 4 MiB) before giving up.

Usage::

    .venv/bin/python benchmarks/bench_log_excerpt.py [--size-gb 1] [--runs 200] [--dir DIR]

The files are written to a temporary directory (``--dir`` chooses where) and removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from postmortem_scribe.capture import excerpt_from_file

MB = 1024 * 1024

_INFO = (
    "[2026-03-01T02:{m:02d}:{s:02d}.{ms:03d}+0000] {{processor.py:{ln}}} INFO - Processed batch "
    "{batch} of orders from s3://acme-landing/orders/2026-03-01/part-{batch:05d}.csv "
    "({rows} rows, {secs:.2f}s)\n"
)
_FAILURE = """\
[2026-03-01T02:59:58.101+0000] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", line 465, in _execute_task
    result = _execute_callable(context=context, **execute_callable_kwargs)
  File "/opt/airflow/dags/orders/load.py", line 37, in load_orders
    frame = pd.read_csv(path, dtype=SCHEMA)
  File "/home/airflow/.local/lib/python3.11/site-packages/pandas/io/parsers/readers.py", line 1026, in read_csv
    return _read(filepath_or_buffer, kwds)
  File "parsers.pyx", line 2058, in pandas._libs.parsers.raise_parser_error
pandas.errors.ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8

[2026-03-01T02:59:58.140+0000] {taskinstance.py:1206} INFO - Marking task as FAILED. dag_id=orders, task_id=load_orders
[2026-03-01T02:59:58.190+0000] {local_task_job_runner.py:243} INFO - Task exited with return code 1
"""
# The same failure, short enough for a 1 KB log.
_SHORT_FAILURE = """\
[2026-03-01T02:59:58.101+0000] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/opt/airflow/dags/orders/load.py", line 37, in load_orders
    frame = pd.read_csv(path, dtype=SCHEMA)
pandas.errors.ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8
[2026-03-01T02:59:58.140+0000] {taskinstance.py:1206} INFO - Marking task as FAILED.
"""


def info_lines(count: int, start: int = 0) -> str:
    """``count`` ordinary INFO lines of a busy task log."""
    out = []
    for i in range(start, start + count):
        out.append(_INFO.format(m=i // 60 % 60, s=i % 60, ms=i * 7 % 1000, ln=100 + i % 50,
                                batch=i, rows=5000 + i % 997, secs=0.4 + (i % 13) / 10))
    return "".join(out)


def write_log(path: Path, size: int, *, failing: bool = True) -> None:
    """A log of about ``size`` bytes whose last lines are a failing task's traceback."""
    if not failing:
        tail = info_lines(20, start=900_000).encode()
    elif size <= 2048:
        tail = _SHORT_FAILURE.encode()
    else:
        tail = (info_lines(20, start=900_000) + _FAILURE).encode()
    body = max(0, size - len(tail))
    with open(path, "wb") as handle:
        if body >= MB:
            block = info_lines(8000).encode()
            block = block[: block.rfind(b"\n", 0, MB) + 1]  # whole lines, at most 1 MB
            for _ in range(body // len(block)):
                handle.write(block)
            rest = body % len(block)
            handle.write(block[:rest].rsplit(b"\n", 1)[0] + b"\n" if rest else b"")
        elif body > 0:
            text = info_lines(body // 100 + 2).encode()
            cut = text.find(b"\n", body)  # whole lines, at least ``size`` bytes in all
            handle.write(text[: cut + 1] if cut >= 0 else text)
        handle.write(tail)


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=1.0, help="size of the big log (GB)")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per log")
    parser.add_argument("--dir", default=None, help="where to write the logs (a temp dir)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-log-excerpt-", dir=args.dir))
    try:
        logs = {
            "1 KB": (workdir / "small.log", 1024),
            "16 KB": (workdir / "tail.log", 16 * 1024),
            "64 MB": (workdir / "medium.log", 64 * MB),
            f"{args.size_gb:g} GB": (workdir / "huge.log", int(args.size_gb * 1024 * MB)),
        }
        no_error = workdir / "no-error.log"
        started = time.perf_counter()
        for path, size in logs.values():
            write_log(path, size)
        write_log(no_error, 64 * MB, failing=False)
        print(f"wrote {len(logs) + 1} logs in {time.perf_counter() - started:.1f}s to {workdir}")

        samples: dict[str, list[float]] = {name: [] for name in logs}
        for name, (path, _) in logs.items():
            excerpt = excerpt_from_file(str(path))  # warm the page cache and the code
            errors = [excerpt.lines[i] for i in excerpt.error_lines]
            if not any("ParserError" in line for line in errors):
                print(f"{name}: the excerpt misses the failure: {excerpt}", file=sys.stderr)
                return 2
            print(f"{name:>8}: {os.path.getsize(path):>13,} bytes, excerpt {len(excerpt.lines)} "
                  f"lines, {len(excerpt.error_lines)} error lines, truncated={excerpt.truncated}")
        for _ in range(args.runs):
            # Interleaved, so that load from other processes hits every log alike.
            for name, (path, _) in logs.items():
                begin = time.perf_counter()
                excerpt_from_file(str(path))
                samples[name].append(time.perf_counter() - begin)

        worst = []
        for _ in range(max(5, args.runs // 20)):
            begin = time.perf_counter()
            excerpt_from_file(str(no_error))
            worst.append(time.perf_counter() - begin)

        small = median_us(samples["1 KB"])
        print(f"\nmedian of {args.runs} runs (microseconds):")
        for name in logs:
            value = median_us(samples[name])
            print(f"{name:>8}: {value:9.1f} us   ratio to 1 KB: {value / small:5.2f}x")
        print(f"64 MB, no error line: {median_us(worst) / 1000:7.1f} ms (reads the whole 4 MiB "
              "search window; the same for any size above it)")
        huge_name = f"{args.size_gb:g} GB"
        ratio = median_us(samples[huge_name]) / small
        tail_ratio = median_us(samples[huge_name]) / median_us(samples["16 KB"])
        print(f"\n{huge_name} / 1 KB  = {ratio:.2f}x (requirement: within 2x: "
              f"{'met' if ratio <= 2.0 else 'MISSED'})")
        print(f"{huge_name} / 16 KB = {tail_ratio:.2f}x (same excerpt work, only the file size differs)")
        return 0 if ratio <= 2.0 else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
