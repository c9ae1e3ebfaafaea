"""Message normalisation: the variable parts of an error message become placeholders.

Two failures of the same bug rarely print byte-identical messages: the row number, the temp
file, the run's timestamp, the object address and the request id change every time.  Grouping
and similarity work on the *shape* of the message, so those parts are replaced, most specific
pattern first (a URL contains a path, a path may contain a date, a date contains numbers):

``<url>`` ``<email>`` ``<uuid>`` ``<ts>`` ``<ip>`` ``<path>`` ``<hex>`` ``<size>`` ``<str>``
``<num>``

The function never raises: a message it cannot handle comes back whitespace-collapsed.
"""

from __future__ import annotations

import re

__all__ = ["MAX_NORMALIZED_CHARS", "PLACEHOLDERS", "normalize_message", "normalize_line"]

MAX_NORMALIZED_CHARS = 2000
"""Longer messages are cut: the tail of a huge message is data (a query, a row), not shape."""

PLACEHOLDERS = ("<url>", "<email>", "<uuid>", "<ts>", "<ip>", "<path>", "<hex>", "<size>",
                "<str>", "<num>")

_FLAGS = re.IGNORECASE

# Order matters: each pattern runs on the output of the previous ones.
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s'\"<>()\[\]{},]+", _FLAGS)
_EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
_UUID = re.compile(
    r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", _FLAGS
)
# Airflow run ids embed a timestamp after "manual__" / "scheduled__"; the date alone varies.
_TS = re.compile(
    r"(?<!\d)\d{4}-\d{2}-\d{2}(?:[T_ ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s?(?:Z|[+-]\d{2}:?\d{2}|UTC)\b)?)?"
    r"|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
    r"Nov|Dec)[a-z]* \d{4}\b",
    _FLAGS,
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])")
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}|(?:[0-9a-f]{1,4}:){1,7}:|::1)(?![\w:])",
    _FLAGS,
)
# Absolute POSIX paths (two components or more), home/relative-dot paths, Windows paths.
_PATH = re.compile(
    r"(?<![\w/.<>])(?:~|\.{1,2})?(?:/[\w.\-@+=%,$~]+){2,}/?"
    r"|(?<![\w/])(?:~|\.{1,2})/[\w.\-@+=%,$~/]+"
    r"|\b[a-z]:\\(?:[^\\\s'\"<>|:*?]+\\?)+",
    _FLAGS,
)
_HEX = re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", _FLAGS)
_SIZE = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?(?:[kmgtp]i?b|[kmgtp]i|bytes?)(?![a-z])", _FLAGS
)
# Quoted values: '...', "...", `...`; a quoted path stays a <path>.
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`")
_NUM = re.compile(r"(?<![\w.<])[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?(?![\w>])|"
                  r"(?<=\b[a-z])\d{3,}\b|(?<=_)\d{3,}\b", _FLAGS)
# Digits glued to a unit: 30s, 200ms, 5min, 3x.
_NUM_UNIT = re.compile(r"(?<![\w.<])\d+(?:\.\d+)?(?=(?:ms|us|ns|s|sec|secs|min|mins|h|hrs?|x)\b)",
                       _FLAGS)
# requests/urllib3 name the requested path after "with url:"; it varies with every call.
_REQUEST_PATH = re.compile(r"(?<=with url: )[^\s()]+")
# Python 3.10+ appends suggestions that older versions lack; keep keys stable across versions.
_SUGGESTION = re.compile(r"\.?\s*Did you mean:? [^?\n]*\?", _FLAGS)
_WS = re.compile(r"[ \t\r\f\v]+")
_PLACEHOLDER_RUN = re.compile(r"(<(?:num|hex|str|path|ts|ip|size)>)(?:[ ,;:/\-]*\1)+")


def _quoted(match: re.Match[str]) -> str:
    inner = match.group(0)[1:-1]
    if inner.strip() in PLACEHOLDERS:
        return inner.strip()
    if inner.startswith(("/", "~/", "./", "../")) or re.match(r"[a-z]:\\", inner, _FLAGS):
        return "<path>"
    return "<str>"


def normalize_line(text: str) -> str:
    """Normalise one line (no line structure kept); see :func:`normalize_message`."""
    s = _URL.sub("<url>", text)
    s = _REQUEST_PATH.sub("<path>", s)
    s = _EMAIL.sub("<email>", s)
    s = _UUID.sub("<uuid>", s)
    # Paths before timestamps: a dated directory is still one path.
    s = _PATH.sub("<path>", s)
    s = _TS.sub("<ts>", s)
    s = _IPV4.sub("<ip>", s)
    s = _IPV6.sub("<ip>", s)
    s = _QUOTED.sub(_quoted, s)
    s = _HEX.sub("<hex>", s)
    s = _SIZE.sub("<size>", s)
    s = _NUM_UNIT.sub("<num>", s)
    s = _NUM.sub("<num>", s)
    s = _PLACEHOLDER_RUN.sub(r"\1", s)
    return _WS.sub(" ", s).strip()


def normalize_message(msg: str) -> str:
    """Replace the variable parts of an error message with placeholders.

    Numbers, hex strings and addresses, UUIDs, timestamps and dates, file paths, quoted values,
    URLs, IP addresses, e-mail addresses and memory sizes become ``<num>``, ``<hex>``,
    ``<uuid>``, ``<ts>``, ``<path>``, ``<str>``, ``<url>``, ``<ip>``, ``<email>``, ``<size>``.
    Line breaks are kept (one normalised line per input line, blank lines dropped), runs of
    spaces collapse, "Did you mean ...?" suggestions are dropped, and the result is cut at
    :data:`MAX_NORMALIZED_CHARS`.

    >>> normalize_message("Expected 3 fields in line 5, saw 4")
    'Expected <num> fields in line <num>, saw <num>'
    """
    try:
        if not isinstance(msg, str):
            msg = "" if msg is None else str(msg)
        msg = msg[: MAX_NORMALIZED_CHARS * 4]
        msg = _SUGGESTION.sub("", msg)
        lines = (normalize_line(line) for line in msg.splitlines())
        out = "\n".join(line for line in lines if line)
        return out[:MAX_NORMALIZED_CHARS]
    except Exception:  # never raise into the failure path
        try:
            return " ".join(str(msg).split())[:MAX_NORMALIZED_CHARS]
        except Exception:
            return ""
