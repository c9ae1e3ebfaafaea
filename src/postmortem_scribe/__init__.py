"""postmortem-scribe: blameless post-mortem drafts for failed pipeline tasks.

The public surface is small on purpose:

- :func:`report` reports one failure from an exception or from text and returns an
  :class:`Outcome`; :func:`report_context` does the same for an adapter's
  :class:`FailureContext`.  Neither ever raises into the caller.
- :func:`flush` delivers what waits in the outbox.
- :func:`is_reported`, :func:`reported_in_run` and :func:`report_profile` serve the adapters.
- :func:`load_config` builds the configuration from ``SCRIBE_CONFIG`` and ``SCRIBE_*``.
"""

from __future__ import annotations

from .api import (
    flush,
    is_reported,
    report,
    report_context,
    report_profile,
    report_success,
    reported_in_run,
)
from .config import Config, load_config
from .records import FailureContext, FailureRecord, Outcome
from .scrub import register_secret

__version__ = "0.1.0"

__all__ = [
    "Config",
    "FailureContext",
    "FailureRecord",
    "Outcome",
    "__version__",
    "flush",
    "is_reported",
    "load_config",
    "register_secret",
    "report",
    "report_context",
    "report_profile",
    "report_success",
    "reported_in_run",
]
