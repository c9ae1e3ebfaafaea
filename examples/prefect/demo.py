"""`make demo-prefect`: a Prefect flow fails on a malformed CSV, twice; the second is a repeat.

The flow (orders_flow.py) has ordinary decorators; ``install(daily_orders)`` adds the hooks.
Three runs on one input path:

1. the file is well formed: the run completes, and the completion hook records a profile of it;
2. the partner's upload has a row with an extra field: the task fails after its retry, and one
   post-mortem draft is written, naming the flow, the task, the exception, the log excerpt and
   the input with its diagnosis (and what changed since it last worked);
3. the same upload again: the failure is recorded as a repeat of the same incident.

Everything stays under .scribe-demo/prefect: the incident store, the drafts (local Markdown, no
GitHub) and Prefect's own home and database (a temporary Prefect server starts for the runs).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("SCRIBE_DEMO_DIR", HERE.parent.parent / ".scribe-demo")) / "prefect"


def _setup() -> Path:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["SCRIBE_STORE_URL"] = f"sqlite:///{WORK / 'store.sqlite'}"
    os.environ["SCRIBE_OUTPUT_DIR"] = str(WORK / "postmortems")
    os.environ.setdefault("SCRIBE_LEAD", "data-oncall")
    os.environ.pop("SCRIBE_GITHUB_REPO", None)
    # Prefect: its own home (database, profiles) and no telemetry on a closed network.
    os.environ["PREFECT_HOME"] = str(WORK / "prefect-home")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.pop("PREFECT_API_URL", None)
    # A new Prefect home means a new database to migrate first: on a busy 2-core machine that
    # can outlast the temporary server's default 20 s start-up timeout.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return WORK / "incoming" / "orders.csv"


def main() -> int:
    upload = _setup()
    upload.parent.mkdir(parents=True)
    sys.path.insert(0, str(HERE))

    from orders_flow import daily_orders
    from postmortem_scribe_prefect import install

    print(install(daily_orders), "\n")

    states = []
    uploads = ("orders_good.csv", "orders_malformed.csv", "orders_malformed.csv")
    for n, source in enumerate(uploads, 1):
        shutil.copy(HERE / "data" / source, upload)
        print(f"--- run {n}: {source} as {upload}")
        state = daily_orders(str(upload), return_state=True)
        states.append(state)
        print(f"--- run {n} finished in state {state.name}\n")

    drafts = sorted((WORK / "postmortems").glob("*.md"))
    print("=" * 100)
    if not drafts:
        print("demo: no draft was written; see the hook lines in the log above")
        return 1
    for path in drafts:
        print("The draft, as it would be opened on GitHub (then the repeat, as a comment):",
              path, "\n")
        print(path.read_text(encoding="utf-8"))
    ok = (
        [s.name for s in states] == ["Completed", "Failed", "Failed"]
        and len(drafts) == 1
    )
    print("demo:", "one incident; the second failure was recorded as a repeat of the first"
          if ok else f"unexpected: states {[s.name for s in states]}, {len(drafts)} drafts")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
