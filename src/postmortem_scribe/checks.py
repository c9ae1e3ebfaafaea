"""One line of ``scribe doctor``, shared by the core's checks and the GitHub checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    """One line of ``scribe doctor``."""

    name: str
    ok: bool
    detail: str
    warning: bool = False
    """A problem that does not stop drafts from being produced or issues from being opened."""
