"""In-process cost of ``report()`` to the local publisher: a 1 GB log file against a 1 KB one.

The log excerpt is read by seeking from the end, so the size of the log must not matter.
Both cases run in this one process, on the same store and publisher, alternating, and the
script prints the medians and their ratio (target: within 2x).

    python benchmarks/bench_report.py            # 1 GB log
    python benchmarks/bench_report.py --size-mb 64 --runs 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BLOCK_LINE = "[2026-11-27 02:00:00] INFO - processed batch 000123 of orders in 0.21s rows=5000\n"


def make_log(path: Path, size_bytes: int) -> None:
    block = (BLOCK_LINE * (1024 * 1024 // len(BLOCK_LINE))).encode()
    tail = (
        "[2026-11-27 02:10:00] ERROR - Task failed with exception\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/dags/orders.py", line 40, in load\n'
        "    rows = parse(path)\n"
        "ValueError: Expected 4 fields in line 57, saw 5\n"
    ).encode()
    with open(path, "wb") as fh:
        written = 0
        while written + len(block) + len(tail) < size_bytes:
            fh.write(block)
            written += len(block)
        line = BLOCK_LINE.encode()
        rest = max(0, size_bytes - written - len(tail))
        fh.write(line * (rest // len(line)))
        fh.write(tail)


def failing_job() -> None:
    raise ValueError("Expected 4 fields in line 57, saw 5")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="scribe-bench-") as tmp:
        work = Path(tmp)
        os.environ["SCRIBE_STORE_URL"] = f"sqlite:///{work / 'store.sqlite'}"
        os.environ["SCRIBE_OUTPUT_DIR"] = str(work / "drafts")
        import postmortem_scribe
        from postmortem_scribe.config import load_config

        config = load_config(overrides={"comment_window_seconds": 0.0})
        big, small = work / "big.log", work / "small.log"
        t0 = time.perf_counter()
        make_log(big, args.size_mb * 1024 * 1024)
        make_log(small, 1024)
        print(f"logs written: {big.stat().st_size / 2**20:.0f} MiB and {small.stat().st_size} B "
              f"in {time.perf_counter() - t0:.1f} s")

        timings: dict[str, list[float]] = {"big": [], "small": []}
        for i in range(args.runs + 1):
            for name, log in (("big", big), ("small", small)):
                try:
                    failing_job()
                except ValueError as exc:
                    start = time.perf_counter()
                    outcome = postmortem_scribe.report(
                        exc, pipeline="bench", task="load", run_id=f"{name}-{i}",
                        log_file=str(log), config=config)
                    elapsed = time.perf_counter() - start
                if not outcome:
                    print(f"report failed: {outcome.message}", file=sys.stderr)
                    return 1
                if i:  # the first round warms caches and creates the incident
                    timings[name].append(elapsed)
        med_big = statistics.median(timings["big"])
        med_small = statistics.median(timings["small"])
        print(f"report() median with a {args.size_mb} MiB log: {med_big * 1000:.1f} ms")
        print(f"report() median with a 1 KiB log:  {med_small * 1000:.1f} ms")
        ratio = med_big / med_small
        print(f"ratio big/small: {ratio:.2f}x (target <= 2x) -> {'OK' if ratio <= 2 else 'MISSED'}")
        return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
