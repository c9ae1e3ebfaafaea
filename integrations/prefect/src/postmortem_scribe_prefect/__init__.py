"""postmortem-scribe for Prefect: failed, crashed and killed runs become post-mortem drafts.

Three ways in, which share one incident store and never draft a failure twice:

- :func:`install` adds the hooks to existing flows and their tasks (decorators untouched);
- the hooks themselves (:func:`on_flow_failure`, :func:`on_task_failure` ...) for decorators;
- the watcher (``scribe-prefect watch``, :class:`Watcher`) for runs whose process was killed.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .hooks import (
    on_flow_completion,
    on_flow_crashed,
    on_flow_failure,
    on_task_completion,
    on_task_failure,
)
from .install import Installed, install
from .watcher import Watcher, WatchStats, watch

__all__ = [
    "Installed",
    "WatchStats",
    "Watcher",
    "__version__",
    "install",
    "on_flow_completion",
    "on_flow_crashed",
    "on_flow_failure",
    "on_task_completion",
    "on_task_failure",
    "watch",
]
