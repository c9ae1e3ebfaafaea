"""The labels postmortem-scribe puts on issues, with the colour and description it creates them with.

Labels are created before they are used: ``POST /issues`` with an unknown label would make GitHub
create it grey and without a description, which leaves people guessing what ``data_format``
means on a post-mortem.
"""

from __future__ import annotations

from dataclasses import dataclass

NAME_LIMIT = 50
"""GitHub rejects longer label names with 422 (observed, LIMITS.md section 1)."""
DESCRIPTION_LIMIT = 100


@dataclass(frozen=True)
class LabelSpec:
    """A label as it is created on GitHub."""

    name: str
    color: str
    """Six hex digits, no ``#``."""
    description: str


_OURS: dict[str, tuple[str, str]] = {
    "postmortem": ("5319e7", "Blameless post-mortem draft opened by postmortem-scribe"),
    "repeat-failure": ("fbca04", "The same failure happened again while its post-mortem was open"),
    "regression": ("b60205", "The failure came back after its post-mortem was closed"),
    "possible-repeat": ("c5def5", "Looks like an earlier incident; a person should confirm"),
    "not-a-repeat": ("bfd4f2", "A person says this is not the same problem as what it was grouped with"),
    "flaky": ("d4c5f9", "Failed and then passed on retry; may be flaky rather than broken"),
    # The taxonomy (DESIGN.md); one colour family per kind of cause.
    "data_format": ("d93f0b", "Input data malformed or not in the expected format or schema"),
    "data_missing": ("e99695", "Expected input absent or empty"),
    "data_quality": ("f9d0c4", "Data parses but fails checks (validation, nulls, duplicates, keys)"),
    "upstream": ("bfdadc", "Failed because an upstream task, job or dependency failed"),
    "connectivity": ("0052cc", "Cannot reach a system (DNS, refused or reset connections, TLS)"),
    "external_service": ("1d76db", "Remote system reachable but erroring (5xx, 429, API errors)"),
    "auth": ("5319e7", "Authentication or authorization failed"),
    "resources": ("006b75", "Memory, OOM kill, disk full, file handles or quotas"),
    "timeout": ("0e8a16", "The task exceeded its configured time limit"),
    "infrastructure": ("c2e0c6", "The platform or worker failed rather than the task code"),
    "config_env": ("fef2c0", "Environment or configuration (imports, versions, missing settings)"),
    "code_bug": ("ee0701", "A defect in the pipeline code itself"),
}

DEFAULT_COLOR = "ededed"


def label_spec(name: str) -> LabelSpec:
    """How ``name`` is created: ours with its colour and description, others plainly."""
    key = name.strip()
    for prefix in ("category:", "category/", "scribe:"):
        if key.lower().startswith(prefix):
            key = key[len(prefix):]
    color, description = _OURS.get(key.lower(), (DEFAULT_COLOR, "Added by postmortem-scribe"))
    return LabelSpec(name=name, color=color, description=description[:DESCRIPTION_LIMIT])


def known_labels() -> list[LabelSpec]:
    """Every label postmortem-scribe may use by default (for ``scribe doctor``)."""
    return [label_spec(name) for name in _OURS]


def usable(name: str) -> bool:
    """GitHub accepts the name (not empty, at most 50 characters)."""
    return 0 < len(name.strip()) <= NAME_LIMIT
