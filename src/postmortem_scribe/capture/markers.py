"""The one place that says which log lines are *error lines*.

A log excerpt keeps the lines around these, flags them in ``LogExcerpt.error_lines``, and the
text heuristics fall back on them.  The list is deliberately small and case-sensitive where case
carries meaning (``ERROR`` the level, ``ValueError`` the exception) so that ordinary INFO chatter
such as "0 errors" is not flagged.

Each marker is a plain substring that must occur (checked first: a substring test is many times
faster than a regular expression, and most log lines have none of them) and, where the substring
alone would be too loose, a pattern that must then match.  :data:`ERROR_MARKERS` is the same
set as one compiled pattern for callers that want a regex.
"""

from __future__ import annotations

import re

__all__ = ["ERROR_MARKERS", "GENERIC_FAILURE_LINES", "MARKERS", "is_error_line", "may_have_errors"]

MARKERS: tuple[tuple[str, str | None], ...] = (
    # Log levels, as text renderers print them.
    ("ERROR", r"\bERROR\b"),
    ("CRITICAL", r"\bCRITICAL\b"),
    ("FATAL", r"\bFATAL\b"),
    # Levels inside JSON log lines that were not rendered ({"level": "error"}).
    ('"level', r'"(?:level|levelname)": ?"(?:error|critical|fatal|exception|ERROR|CRITICAL|FATAL)"'),
    ('"severity', r'"severity": ?"(?:error|critical|fatal|ERROR|CRITICAL|FATAL)"'),
    ('"error_detail"', None),
    # Python tracebacks and the exception line that ends them (ValueError, psycopg.Error ...).
    ("Traceback (most recent call last)", None),
    ("Error", r"Error\b"),
    ("Exception", r"Exception(?:Group)?\b"),
    ("SystemExit", None),
    ("KeyboardInterrupt", None),
    # What orchestrators and kernels say when a task fails or is killed.
    ("Task failed", None),
    ("illed", r"\b(?:[Kk]illed|OOMKilled)\b"),
    ("SIG", r"\bSIG(?:KILL|TERM|SEGV|ABRT|BUS|INT)\b"),
    ("ignal", r"\b[Ss]ignal \d+|\bSignal\b|received signal"),
    ("OOM", r"\bOOM"),
    ("emory", r"[Oo]ut of memory|Cannot allocate memory"),
    ("Segmentation fault", None),
    ("core dumped", None),
    ("No space left on device", None),
    ("xit", r"[Ee]xit(?:ed)? (?:with )?(?:code|status) -?[1-9]|non-zero exit"),
    ("rn code", r"[Rr]eturn code -?[1-9]"),
    ("zombie", r"\bzombie\b"),
    ("heartbeat", r"heartbeat (?:timed out|failed)"),
)
"""``(substring, pattern)`` pairs: a line is an error line when it contains a substring and, if
a pattern is given, the pattern matches somewhere on the line."""

_CHECKS: tuple[tuple[str, re.Pattern[str] | None], ...] = tuple(
    (needle, re.compile(pattern) if pattern else None) for needle, pattern in MARKERS
)


def _compile_any_needle() -> object:
    """``line -> bool``: does ``line`` contain any marker substring?

    Generated as one chain of ``in`` tests, which CPython runs about twice as fast as a loop over
    the needles; this test runs on every line a log excerpt reads.
    """
    body = " or ".join(f"{needle!r} in line" for needle, _ in MARKERS)
    namespace: dict[str, object] = {}
    exec(f"def any_needle(line):\n    return {body}\n", namespace)  # noqa: S102 - our own literals
    return namespace["any_needle"]


_any_needle = _compile_any_needle()

ERROR_MARKERS = re.compile("|".join(pattern or re.escape(needle) for needle, pattern in MARKERS))
"""Every marker in one compiled pattern; ``search`` it, markers appear anywhere on a line.
Slower than :func:`is_error_line` on long texts, with the same answers."""

GENERIC_FAILURE_LINES = re.compile(
    r"Task failed with exception|Marking task as (?:FAILED|UP_FOR_RETRY)|"
    r"Finished with state (?:failed|Failed)|Task exited with return code|"
    r"[Ff]inished in state|state=failed|Crashed\(|Failed\(",
)
"""Error lines that only say *that* something failed, not *why*; heuristics prefer others."""


def may_have_errors(text: str) -> bool:
    """False when no line of ``text`` can be an error line (none of the substrings occurs).

    A log reader tests a whole block with this first: for a block of ordinary INFO lines it is
    much cheaper than testing each line."""
    try:
        return bool(_any_needle(text))  # type: ignore[operator]
    except Exception:  # noqa: BLE001
        return True


def is_error_line(line: str) -> bool:
    """True when ``line`` carries one of the :data:`MARKERS` (and never raises)."""
    try:
        if not _any_needle(line):  # type: ignore[operator]
            return False
        for needle, pattern in _CHECKS:
            if needle in line and (pattern is None or pattern.search(line) is not None):
                return True
    except Exception:  # noqa: BLE001 - not a string
        return False
    return False
