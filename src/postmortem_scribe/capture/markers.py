"""The one place that says which log lines are *error lines*.

A log excerpt keeps the lines around these, flags them in ``LogExcerpt.error_lines``, and the
text heuristics fall back on them.  The list is deliberately small and case-sensitive where case
carries meaning (``ERROR`` the level, ``ValueError`` the exception) so that ordinary INFO chatter
such as "0 errors" is not flagged.
"""

from __future__ import annotations

import re

__all__ = ["ERROR_MARKERS", "GENERIC_FAILURE_LINES", "is_error_line"]

ERROR_MARKERS = re.compile(
    "|".join(
        (
            # Log levels, as text renderers print them.
            r"\b(?:ERROR|CRITICAL|FATAL|SEVERE|PANIC)\b",
            # Levels inside JSON log lines that were not rendered ({"level": "error"}).
            r'"(?:level|levelname|severity)": ?"(?i:error|critical|fatal|exception)"',
            r'"error_detail": ?\[',
            # Python tracebacks and the exception line that ends them.
            r"Traceback \(most recent call last\)",
            r"\b[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b",
            r"\bException\b",
            # What orchestrators say when a task fails or is killed.
            r"Task failed",
            r"\b(?:[Kk]illed|OOMKilled|SIGKILL|SIGTERM|SIGSEGV|SIGABRT|SIGBUS)\b",
            r"\b[Ss]ignal \d+\b|\bSignal\b|received signal",
            r"\bOOM\b|[Oo]ut of memory|Cannot allocate memory",
            r"Segmentation fault|core dumped",
            r"No space left on device",
            r"[Ee]xit(?:ed)? (?:with )?(?:code|status) -?[1-9]\d*|return code -?[1-9]\d*|"
            r"returned non-zero exit status",
            r"\bzombie\b|heartbeat (?:timed out|failed)",
        )
    )
)
"""Compiled once; search it, don't match it: markers appear anywhere on a line."""

GENERIC_FAILURE_LINES = re.compile(
    r"Task failed with exception|Marking task as (?:FAILED|UP_FOR_RETRY)|"
    r"Finished with state (?:failed|Failed)|Task exited with return code|"
    r"Process exited|state=failed|Crashed|Failed\(",
)
"""Error lines that only say *that* something failed, not *why*; heuristics prefer others."""


def is_error_line(line: str) -> bool:
    """True when ``line`` carries one of :data:`ERROR_MARKERS`."""
    try:
        return ERROR_MARKERS.search(line) is not None
    except Exception:  # noqa: BLE001 - not a string
        return False
