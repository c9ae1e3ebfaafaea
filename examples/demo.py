"""`make demo` (core): a job fails on a malformed CSV twice; the second failure is a repeat.

It runs on the embedded defaults: a SQLite store and the local Markdown publisher, both under
.scribe-demo/ so the demo never touches your real store.  No network, no GitHub.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("SCRIBE_DEMO_DIR", HERE.parent / ".scribe-demo"))
sys.path.insert(0, str(HERE / "pipeline"))


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["SCRIBE_STORE_URL"] = f"sqlite:///{WORK / 'store.sqlite'}"
    os.environ["SCRIBE_OUTPUT_DIR"] = str(WORK / "postmortems")
    os.environ.setdefault("SCRIBE_LEAD", "data-oncall")
    os.environ.pop("SCRIBE_GITHUB_REPO", None)

    import postmortem_scribe
    from load_orders import main as run_job
    from make_orders import write_orders

    outcomes = []
    for run, bad_row in ((1, 56), (2, 91)):
        csv_path = write_orders(WORK / f"orders-{run}.csv", bad_row=bad_row)
        log_path = WORK / f"run-{run}.log"
        log_path.write_text(
            f"[2026-11-27 02:00:0{run}] INFO - loading {csv_path}\n"
            "[2026-11-27 02:00:02] INFO - header ok: order_id,customer,amount,currency\n"
            "[2026-11-27 02:00:03] ERROR - load_orders failed\n",
            encoding="utf-8",
        )
        try:
            run_job(str(csv_path))
        except Exception as exc:  # the job's own failure; we report it, as a callback would
            outcome = postmortem_scribe.report(
                exc, pipeline="nightly_orders", task="load_orders", run_id=f"nightly-{run}",
                try_number=1, max_tries=1, log_file=str(log_path), inputs=[str(csv_path)],
                owner="analytics", tags=["orders", "dashboard"],
            )
            outcomes.append(outcome)
            print(f"run {run}: {outcome.action}: {outcome.message}")
            print(f"        category: {outcome.category}")

    first = outcomes[0]
    print()
    if first.path:
        print(f"The draft, as it would be opened on GitHub: {first.path}\n")
        print(Path(first.path).read_text(encoding="utf-8"))
    ok = [o.action for o in outcomes] == ["opened", "commented"]
    print("demo:", "the second failure was recorded as a repeat of the first"
          if ok else f"unexpected outcomes {[o.action for o in outcomes]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
