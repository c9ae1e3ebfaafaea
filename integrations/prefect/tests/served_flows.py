"""Served in a subprocess by the watcher tests: flows that sleep until the test kills them.

``killed-unhooked`` has no postmortem-scribe hooks: only the watcher can draft it.
``killed-hooked`` has them (through ``install`` at module level, as the README says: the
runner loads the flow from this file again to run its crash hooks, so hooks added only under
``__main__`` would be missing there).  Prefect's runner, in this serving process, runs the crash
hook when the flow run's process dies, and the watcher must not draft it again.
"""

from __future__ import annotations

import os
import time

from postmortem_scribe_prefect import install
from prefect import flow, get_run_logger, serve


def _sleep_until_killed(pid_file: str) -> None:
    logger = get_run_logger()
    logger.info("working on the nightly aggregate in pid %s", os.getpid())
    time.sleep(2.5)  # let this line reach the API (logs go in batches every 2 s)
    with open(pid_file + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    time.sleep(300)


@flow(name="killed-unhooked")
def killed_unhooked(pid_file: str, input_path: str = "") -> None:
    _sleep_until_killed(pid_file)


@flow(name="killed-hooked")
def killed_hooked(pid_file: str, input_path: str = "") -> None:
    _sleep_until_killed(pid_file)


install(killed_hooked)

if __name__ == "__main__":
    serve(
        killed_unhooked.to_deployment(name="unhooked"),
        killed_hooked.to_deployment(name="hooked"),
        print_starting_message=False,
    )
