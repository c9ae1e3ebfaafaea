"""Entry points for worker processes started by the tests (multiprocessing, forkserver).

They live in an importable module so that a forkserver with the package preloaded can start
16 reporters in well under a second each, instead of 16 fresh interpreters importing everything.
"""

from __future__ import annotations

from typing import Any


def report_once(index: int, config: Any, barrier: Any, results: Any) -> None:
    """Wait for every worker to be ready, then report the same failure as run ``run-{index}``."""
    import postmortem_scribe

    barrier.wait(timeout=120)
    try:
        raise ValueError("row 17 of sales.csv: expected 5 columns, got 4")
    except ValueError as exc:
        outcome = postmortem_scribe.report(exc, pipeline="daily_sales", task="load",
                                           run_id=f"run-{index}", config=config)
    results.put((index, outcome.action, outcome.incident, outcome.message))


PRELOAD = ["postmortem_scribe", "postmortem_scribe.pipeline", "postmortem_scribe.publish.github",
           "github_fake.workers"]
