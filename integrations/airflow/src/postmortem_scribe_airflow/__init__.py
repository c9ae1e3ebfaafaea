"""postmortem-scribe for Apache Airflow: a blameless post-mortem draft for every failed task.

Installing the distribution registers
:class:`~postmortem_scribe_airflow.plugin.PostmortemScribePlugin` through the ``airflow.plugins``
entry point; its listener hooks every DAG with no edit.
:class:`PostmortemNotifier` is the per-DAG alternative for ``on_failure_callback``.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["PostmortemNotifier", "PostmortemScribePlugin", "wait_for_pending", "__version__"]


def __getattr__(name: str):
    # Lazy, so that importing the package (e.g. for __version__) does not import Airflow.
    if name == "PostmortemNotifier":
        from .notifier import PostmortemNotifier

        return PostmortemNotifier
    if name == "PostmortemScribePlugin":
        from .plugin import PostmortemScribePlugin

        return PostmortemScribePlugin
    if name == "wait_for_pending":
        from ._guard import wait_for_pending

        return wait_for_pending
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
