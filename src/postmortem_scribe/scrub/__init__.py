"""The scrub stage: nothing secret reaches the store or an issue.

Run once per failure, after capture and before anything is stored or rendered::

    scrubber = Scrubber(extra_secrets=ctx.secrets, extra_key_names=config.secret_key_names)
    record = scrubber.record(record)

Adapters register the secrets they know (connection passwords, Secret blocks) with
:func:`register_secret`; every scrubber in the process then removes them too.
"""

from __future__ import annotations

from .keys import key_kind
from .registry import clear_registry, register_secret, registered_secrets
from .scrubber import MARKER_RE, Scrubber, marker, scrub_text

__all__ = [
    "MARKER_RE",
    "Scrubber",
    "clear_registry",
    "key_kind",
    "marker",
    "register_secret",
    "registered_secrets",
    "scrub_text",
]
