"""How much time postmortem-scribe's Prefect hooks add to a run, against the same run without them.

Runs in .venv-prefect (``make bench-prefect``), against a temporary Prefect server
(``prefect_test_harness``).  Two copies of one flow (a task reads a CSV) are built from the same
function; one gets ``install()``, the other nothing.  They run alternately, so drift in the
machine's speed affects both alike, and each case prints its median wall time, the time added
and the ratio:

- failing run, new incident each time (fresh store and draft directory per run): the full path,
  flush and read of the logs, capture, classification, store, draft written;
- failing run, repeat of an open incident (one store): the common case in a failure storm;
- successful run: what every healthy run pays (the completion hooks' input profile).

    .venv-prefect/bin/python benchmarks/bench_prefect_overhead.py [--runs 15]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "prefect" / "data"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="bench-prefect-home-")
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("SCRIBE_GITHUB_REPO", None)
# Prefect's console lines would dominate the measurement; the API still gets every log line.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")

from prefect import flow, get_run_logger, task  # noqa: E402


def read_orders_fn(input_path: str) -> int:
    get_run_logger().warning("reading orders from %s", input_path)
    with open(input_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        count = 0
        for values in reader:
            if len(values) != len(header):
                raise ValueError(f"Error tokenizing data. Expected {len(header)} fields in line "
                                 f"{reader.line_num}, saw {len(values)}")
            count += 1
    return count


def build(name: str):  # type: ignore[no-untyped-def]
    """A flow and its task, fresh objects from the same functions."""
    read_task = task(name=f"read-orders-{name}")(read_orders_fn)

    def body(input_path: str) -> int:
        return read_task(input_path)

    body.__name__ = f"orders_{name}"
    return flow(name=f"orders-{name}")(body), read_task


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args, return_state=True)
    return time.perf_counter() - start


def report(title: str, base: list[float], hooked: list[float]) -> None:
    mb, mh = statistics.median(base), statistics.median(hooked)
    print(f"{title:<44} without {mb * 1000:8.1f} ms   with {mh * 1000:8.1f} ms   "
          f"added {1000 * (mh - mb):+8.1f} ms   ratio {mh / mb:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per case (default 15)")
    args = parser.parse_args()

    from postmortem_scribe_prefect import install
    from prefect.testing.utilities import prefect_test_harness

    work = Path(tempfile.mkdtemp(prefix="bench-prefect-"))
    bad = work / "orders_malformed.csv"
    good = work / "orders_good.csv"
    shutil.copy(DATA / "orders_malformed.csv", bad)
    shutil.copy(DATA / "orders_good.csv", good)

    plain, _ = build("plain")
    hooked, _ = build("hooked")
    install(hooked)

    def use_store(name: str) -> None:
        os.environ["SCRIBE_STORE_URL"] = f"sqlite:///{work / name / 'store.db'}"
        os.environ["SCRIBE_OUTPUT_DIR"] = str(work / name / "drafts")
        (work / name).mkdir(exist_ok=True)

    with prefect_test_harness(server_startup_timeout=60):
        # Warm up: imports, the first API calls, the core's first store.
        use_store("warmup")
        for fn in (plain, hooked):
            timed(fn, str(bad))
            timed(fn, str(good))

        cases = {"new": ([], []), "repeat": ([], []), "success": ([], [])}
        use_store("repeat")
        timed(hooked, str(bad))  # open the incident the repeats will join
        for i in range(args.runs):
            use_store(f"new-{i}")
            cases["new"][0].append(timed(plain, str(bad)))
            cases["new"][1].append(timed(hooked, str(bad)))
            use_store("repeat")
            cases["repeat"][0].append(timed(plain, str(bad)))
            cases["repeat"][1].append(timed(hooked, str(bad)))
            # A new mtime each time, as a new day's file would have: the profile is recomputed.
            os.utime(good, ns=(time.time_ns(), time.time_ns()))
            cases["success"][0].append(timed(plain, str(good)))
            os.utime(good, ns=(time.time_ns(), time.time_ns()))
            cases["success"][1].append(timed(hooked, str(good)))

    new_drafts = sum(len(list((work / f"new-{i}" / "drafts").glob("*.md")))
                     for i in range(args.runs))
    repeat_drafts = len(list((work / "repeat" / "drafts").glob("*.md")))
    print(f"\nPrefect flow run wall time, median of {args.runs} runs per case "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    report("failing run, new incident (draft written)", *cases["new"])
    report("failing run, repeat of an open incident", *cases["repeat"])
    report("successful run (input profile recorded)", *cases["success"])
    print(f"\ndrafts written: {new_drafts} for {args.runs} new incidents; {repeat_drafts} for "
          f"{args.runs + 1} repeated failures")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
