"""The one place that says which log lines are *error lines*.

A log excerpt keeps the lines around these, flags them in ``LogExcerpt.error_lines``, and the
text heuristics fall back on them.  The list is deliberately small and case-sensitive where case
carries meaning (``ERROR`` the level, ``ValueError`` the exception) so that ordinary INFO chatter
such as "0 errors" is not flagged.

The markers are kept as two alternations because Python's regex engine scans much faster when
every alternative starts with an uncommon character: one alternation starts with upper-case
letters and quotes, the other is anchored on rare letters inside lower-case phrases ("kil*l*ed",
"e*x*it code").  :data:`ERROR_MARKERS` is their union, for callers that want one pattern.
"""

from __future__ import annotations

import re

__all__ = [
    "ERROR_MARKERS",
    "GENERIC_FAILURE_LINES",
    "ERROR_MARKERS_BYTES",
    "is_error_line",
]

_UPPER = (
    # Log levels, as text renderers print them.
    r"\b(?:ERROR|CRITICAL|FATAL|SEVERE|PANIC)\b",
    # Levels inside JSON log lines that were not rendered ({"level": "error"}).
    r'"(?:level|levelname|severity)": ?"(?:error|critical|fatal|exception|ERROR|CRITICAL|FATAL)"',
    r'"error_detail"',
    # Python tracebacks and the exception line that ends them (ValueError, psycopg.Error ...).
    r"Traceback \(most recent call last\)",
    r"(?:Error|Exception)\b|SystemExit|KeyboardInterrupt",
    # What orchestrators and kernels say when a task fails or is killed.
    r"Task failed",
    r"\bKilled\b|OOMKilled|\bSIG(?:KILL|TERM|SEGV|ABRT|BUS|INT)\b|\bSignal\b",
    r"\bOOM\b|Out of memory|Cannot allocate memory|MemoryError",
    r"Segmentation fault",
    r"No space left on device",
)
_LOWER = (
    # Each alternative starts on an uncommon letter of its phrase; the text before it is checked
    # with a look-behind so that "killed" still needs its "k", "exit code 1" its "e" ...
    r"(?<=\b)killed\b",
    r"(?<=\be)xit(?:ed)? (?:with )?(?:code|status) -?[1-9]",
    r"(?<=\bretu)rn code -?[1-9]",
    r"(?<=non-)zero exit",
    r"(?<=\bsi)gnal \d",
    r"(?<=out o)f memory",
    r"(?<=core )dumped",
    r"(?<=\b)zombie\b",
    r"(?<=\b)heartbeat (?:timed out|failed)",
)

_UPPER_RE = re.compile("|".join(_UPPER))
_LOWER_RE = re.compile("|".join(_LOWER))

ERROR_MARKERS = re.compile("|".join(_UPPER + _LOWER))
"""Every marker in one compiled pattern; ``search`` it, markers appear anywhere on a line."""

ERROR_MARKERS_BYTES = (
    re.compile("|".join(_UPPER).encode("ascii")),
    re.compile("|".join(_LOWER).encode("ascii")),
)
"""The same markers for raw bytes, used to test whole blocks of a log before splitting them."""

GENERIC_FAILURE_LINES = re.compile(
    r"Task failed with exception|Marking task as (?:FAILED|UP_FOR_RETRY)|"
    r"Finished with state (?:failed|Failed)|Task exited with return code|"
    r"Process exited|state=failed|Crashed|Failed\(",
)
"""Error lines that only say *that* something failed, not *why*; heuristics prefer others."""


def is_error_line(line: str) -> bool:
    """True when ``line`` carries one of :data:`ERROR_MARKERS` (and never raises)."""
    try:
        return _UPPER_RE.search(line) is not None or _LOWER_RE.search(line) is not None
    except Exception:  # noqa: BLE001 - not a string
        return False


def block_has_marker(block: bytes) -> bool:
    """True when a raw block of a log holds an error marker anywhere."""
    upper, lower = ERROR_MARKERS_BYTES
    return upper.search(block) is not None or lower.search(block) is not None
