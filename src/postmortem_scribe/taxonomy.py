"""The failure taxonomy of DESIGN.md: labels and what each means, in words for people."""

from __future__ import annotations

MEANINGS: dict[str, str] = {
    "data_format": "input data malformed or not in the expected format/schema",
    "data_missing": "expected input absent or empty",
    "data_quality": "data parses but fails checks (validation, nulls, duplicates, key violations)",
    "upstream": "failed because an upstream task, job or dependency failed",
    "connectivity": "cannot reach a system (DNS, refused/reset connections, TLS, network timeouts)",
    "external_service": "remote system reachable but erroring (5xx, 429, API errors, DB server errors)",
    "auth": "authentication or authorization",
    "resources": "memory, OOM kill, disk full, file handles, quotas",
    "timeout": "the task exceeded its configured time limit",
    "infrastructure": "the platform or worker failed rather than the task code (worker lost, heartbeat, eviction, SIGTERM)",
    "config_env": "environment or configuration (imports, versions, missing connection/variable/env var)",
    "code_bug": "a defect in the pipeline code itself not explained by the above",
}

CATEGORIES: tuple[str, ...] = tuple(MEANINGS)


def title_case(category: str) -> str:
    """``data_format`` -> ``Data format``."""
    return category.replace("_", " ").capitalize()
