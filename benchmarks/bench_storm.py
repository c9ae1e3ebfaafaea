"""A failure storm against a fake GitHub: 200 failures of one fingerprint within a minute.

postmortem-scribe (``postmortem_scribe.report()`` per failure, the real store, outbox and GitHub
publisher, writes paced at one a second) must give 1 issue and at most 2 comments.  A naive
reporter that opens one issue per failure runs against its own fake GitHub in the same run, for
comparison.  Both fakes enforce GitHub's content-creation secondary limit (about 80 issues or
comments a minute, LIMITS.md section 3) unless ``--no-content-limit``; the fakes are the test
suite's (``tests/github_fake``), every exchange checked against GitHub's OpenAPI description.

    .venv/bin/python benchmarks/bench_storm.py
    .venv/bin/python benchmarks/bench_storm.py --failures 500 --no-content-limit

The end of the storm is simulated the way a person (or cron) does it: ``scribe flush --all``
sends the grouped comment whose 10-minute window has not ended yet.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fake GitHub lives with the tests

TOKEN = "ghp_benchTOKEN000000000000000000000000001"


def naive_storm(fake, failures: int) -> dict[str, float]:
    """One issue per failure, no pacing, no dedup: what a first script usually does."""
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {TOKEN}",
                            "Accept": "application/vnd.github+json"})
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    for i in range(failures):
        answer = session.post(f"{fake.api_url}/repos/{fake.full_name}/issues", timeout=10, json={
            "title": "daily_sales.load failed",
            "body": f"run-{i}: ValueError: row 17 of sales.csv: expected 5 columns, got 4",
            "labels": ["bug"]})
        statuses[answer.status_code] += 1
    return {"calls": len(fake.calls), "issues": len(fake.issues),
            "comments": sum(len(c) for c in fake.comments.values()),
            "refused_403": statuses.get(403, 0), "seconds": time.perf_counter() - started}


def scribe_storm(fake, failures: int, work: Path) -> dict[str, float]:
    import postmortem_scribe
    from postmortem_scribe.api import flush
    from postmortem_scribe.config import load_config
    from postmortem_scribe.store import open_store

    config = load_config(env={}, overrides={
        "store_url": f"sqlite:///{work / 'store.sqlite'}", "output_dir": str(work / "drafts"),
        "github_repo": fake.full_name, "github_token": TOKEN, "github_api_url": fake.api_url,
        "default_lead": "alice"})
    actions: Counter[str] = Counter()
    started = time.perf_counter()
    for i in range(failures):
        try:
            raise ValueError("row 17 of sales.csv: expected 5 columns, got 4")
        except ValueError as exc:
            outcome = postmortem_scribe.report(exc, pipeline="daily_sales", task="load",
                                               run_id=f"run-{i}", config=config)
        actions[outcome.action] += 1
    storm_seconds = time.perf_counter() - started
    open_store(config.store_url).make_all_due()  # `scribe flush --all` after the storm
    flush(config=config)
    store = open_store(config.store_url)
    incident = store.incidents()[0]
    return {"calls": len(fake.calls), "issues": len(fake.issues),
            "comments": sum(len(c) for c in fake.comments.values()),
            "writes": sum(1 for c in fake.calls if c.write), "occurrences": incident.occurrences,
            "seconds": storm_seconds, "actions": dict(actions),
            "pending": store.outbox_counts().get("pending", 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, default=200)
    parser.add_argument("--no-content-limit", action="store_true",
                        help="do not enforce GitHub's ~80 content creations a minute in the fakes")
    args = parser.parse_args()

    from github_fake import FakeGitHub

    limit = None if args.no_content_limit else 80
    with tempfile.TemporaryDirectory(prefix="scribe-storm-") as tmp:
        os.environ.pop("SCRIBE_CONFIG", None)
        ours = FakeGitHub(token=TOKEN, content_limit_per_minute=limit).start()
        naive = FakeGitHub(token=TOKEN, content_limit_per_minute=limit).start()
        try:
            a = scribe_storm(ours, args.failures, Path(tmp))
            b = naive_storm(naive, args.failures)
        finally:
            ours.stop()
            naive.stop()

    print(f"storm: {args.failures} failures of one fingerprint "
          f"(content-creation limit {'off' if limit is None else f'{limit}/min'})")
    print(f"  postmortem-scribe: {a['issues']} issue, {a['comments']} comments, "
          f"{a['calls']} GitHub calls ({a['writes']} writes), {a['occurrences']} occurrences "
          f"recorded, storm took {a['seconds']:.1f} s ({a['seconds'] / args.failures * 1000:.0f} "
          f"ms per report), outcomes {a['actions']}, still waiting {a['pending']}")
    print(f"  naive reporter:    {b['issues']} issues, {b['calls']} GitHub calls, "
          f"{b['refused_403']} refused by the secondary limit, took {b['seconds']:.1f} s")
    print(f"  GitHub calls, naive / postmortem-scribe: {b['calls'] / max(1, a['calls']):.1f}x; "
          f"issues: {b['issues']} vs {a['issues']}")
    problems = ours.contract_errors + naive.contract_errors
    if problems:
        print("  contract problems in the fakes:", *problems[:5], sep="\n    ")
    ok = a["issues"] == 1 and a["comments"] <= 2 and a["occurrences"] == args.failures and not problems
    print("  result:", "OK (1 issue, at most 2 comments)" if ok else "NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
