"""Fingerprint stage: a stable grouping key and a similarity signature for each failure.

- :func:`fingerprint` builds the :class:`~postmortem_scribe.records.Fingerprint` of a record.
- :func:`normalize_message` turns the variable parts of a message into placeholders.
- :func:`similarity` estimates the Jaccard similarity of two signatures; :func:`bands` gives
  the LSH band strings the store indexes for near-repeat search.
"""

from __future__ import annotations

from .key import fingerprint, frame_module
from .normalize import normalize_message
from .similarity import bands, similarity

__all__ = ["bands", "fingerprint", "frame_module", "normalize_message", "similarity"]
