"""Run our work in a daemon thread and wait for it a bounded time.

Prefect has no timeout on state hooks: a hook that hangs holds the flow call (and its process)
for ever.  So every hook hands its work to a daemon thread and waits at most a fixed time; what
is still running after that carries on in the background (the core keeps anything it stored in
its outbox) and the run goes on.  Daemon, so that a stuck report never keeps the process alive.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("postmortem_scribe_prefect")


def _start(job: Callable[[], None], ctx: contextvars.Context, name: str,
           done: Callable[[], None] | None = None) -> threading.Thread:
    def target() -> None:
        try:
            ctx.run(job)
        except BaseException:  # noqa: BLE001 - nothing may escape a daemon thread noisily
            log.warning("postmortem-scribe: internal error in %s", name, exc_info=True)
        finally:
            if done is not None:
                done()

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def run_bounded(job: Callable[[], None], ctx: contextvars.Context, timeout: float,
                name: str) -> bool:
    """Run ``job`` in a daemon thread and wait up to ``timeout`` s; ``True`` if it finished."""
    thread = _start(job, ctx, name)
    thread.join(timeout)
    if thread.is_alive():
        log.warning(
            "postmortem-scribe: %s did not finish within %.1f s; the run goes on and the report "
            "continues in the background (anything stored waits for `scribe flush`).",
            name, timeout,
        )
        return False
    return True


async def run_bounded_async(job: Callable[[], None], ctx: contextvars.Context, timeout: float,
                            name: str) -> bool:
    """The same, awaited from an event loop without blocking it."""
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    def done() -> None:
        def mark() -> None:
            if not finished.done():
                finished.set_result(True)

        try:
            loop.call_soon_threadsafe(mark)
        except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
            pass

    _start(job, ctx, name, done)
    try:
        await asyncio.wait_for(asyncio.shield(finished), timeout)
        return True
    except asyncio.TimeoutError:
        log.warning(
            "postmortem-scribe: %s did not finish within %.1f s; the run goes on and the report "
            "continues in the background (anything stored waits for `scribe flush`).",
            name, timeout,
        )
        return False
