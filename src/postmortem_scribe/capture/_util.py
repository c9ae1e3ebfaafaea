"""Small text helpers shared by the capture modules (private).

Everything here is total: it accepts whatever it is given and never raises, because capture
runs in the failure path of someone else's task.
"""

from __future__ import annotations

import re
from typing import Any

MAX_MESSAGE_CHARS = 8000
"""An exception message longer than this is cut: the head says what went wrong, the rest is
usually data (a whole query, a row, a remote stack) that the draft cannot show anyway."""
MAX_SOURCE_CHARS = 400
"""A source line of a frame longer than this is cut (minified or generated code)."""

UNPRINTABLE = "<exception str() failed>"
"""What CPython prints for an exception whose ``__str__`` raises; used so that a live capture
and a parsed printout of the same exception agree."""

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
# Other control characters, except tab; NULs appear where a log file has a hole.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


def clean_line(line: str) -> str:
    """One log line as a person would see it: ANSI escapes and control characters removed.

    A carriage return inside a line is how progress bars redraw themselves; a terminal shows
    only what follows the last one, so that is what is kept.
    """
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\r" in line:
        line = line.rstrip("\r")
        if "\r" in line:
            line = line.rsplit("\r", 1)[-1]
    if not line.isprintable() and _CONTROL.search(line):
        line = _CONTROL.sub("", line)
    return line


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (colours from a console renderer)."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if limit <= 0 or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def safe_str(obj: Any) -> str:
    """``str(obj)`` that never raises.

    An exception class may define a ``__str__`` that raises or returns a non-string; CPython
    then prints :data:`UNPRINTABLE`, and so do we.
    """
    try:
        text = str(obj)
    except Exception:  # noqa: BLE001 - any __str__ may fail
        return UNPRINTABLE
    return text if isinstance(text, str) else UNPRINTABLE


def as_text(value: Any) -> str:
    """Any value as text for a log excerpt or message: strings unchanged, bytes decoded with
    replacement characters, anything else through :func:`safe_str`."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if value is None:
        return ""
    return safe_str(value)
