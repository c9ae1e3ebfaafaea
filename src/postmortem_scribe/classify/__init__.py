"""Classify stage: a taxonomy label, a confidence and the evidence for one failure.

- :func:`classify` labels a :class:`~postmortem_scribe.records.FailureRecord`.
- :func:`load_rules` reads the shipped ``rules.toml`` plus the user's rules from the config.
- :func:`classify_text` labels and fingerprints a traceback or log given as text (used by
  ``scribe classify`` and ``scribe group``).
"""

from __future__ import annotations

from .classifier import LOW_CONFIDENCE, Rule, RuleSet, classify, load_rules
from .evaluate import classify_text, record_from_text

__all__ = [
    "LOW_CONFIDENCE",
    "Rule",
    "RuleSet",
    "classify",
    "classify_text",
    "load_rules",
    "record_from_text",
]
