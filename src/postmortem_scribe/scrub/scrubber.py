"""Remove secrets from text and from a whole :class:`~postmortem_scribe.records.FailureRecord`.

The scrubber runs once, after capture and before anything is stored or rendered.  Every finder
reports *spans* of the original text; overlapping spans are merged and each merged span becomes
one visible marker that keeps the kind (``[redacted github-token]``), so the draft stays useful
and a reader knows what was there.  No finder takes a marker for a secret, and a text that
changed is scanned again until it no longer changes, so scrubbing twice changes nothing more.

What is found, strongest first:

1. values registered by the host (:mod:`.registry`) or given to this scrubber, in their plain,
   URL-encoded and base64 forms;
2. PEM and OpenSSH private keys, also split over log lines with a prefix on each line and
   JSON-escaped on one line;
3. self-identifying vendor tokens (:mod:`.patterns`), an AWS secret key next to its key id,
   Azure storage keys;
4. credentials in URIs (``scheme://user:password@host``, also percent-encoded), ``Bearer`` and
   ``Basic`` credentials anywhere;
5. values under sensitive key names (:mod:`.keys`).

Left alone on purpose: git SHAs, UUIDs, checksums, object keys, long ids, ``data:`` URIs and
already-masked values, because none of them is a secret and redacting them would hide the
evidence the draft exists to show.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ..records import FailureRecord, from_dict, to_dict
from . import registry
from .keys import (
    MARKER_RE,
    Span,
    find_key_values,
    find_xml_values,
    is_benign_value,
    key_kind,
    normalize_key,
)
from .patterns import TOKEN_PATTERNS, TokenPattern, anchor_regex

__all__ = ["MARKER_RE", "Scrubber", "marker", "scrub_text"]

log = logging.getLogger("postmortem_scribe")


_LITERAL, _PEM, _VENDOR, _CONTEXT = 5, 4, 3, 2

_UNSCRUBBABLE = "[redacted unscrubbable-text]"


def marker(kind: str) -> str:
    """The text that replaces a secret of ``kind``: ``[redacted <kind>]``."""
    return f"[redacted {kind}]"


# --------------------------------------------------------------------------------------------
# Finders that need more than one regular expression
# --------------------------------------------------------------------------------------------

_B64CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_B64URLCHARS = _B64CHARS | frozenset("_-")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

_PEM_BEGIN = re.compile(r"-----BEGIN (?P<label>[A-Z0-9 ]{0,40}?)PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY = re.compile(r"(?:[A-Za-z0-9+/=]|\\{1,2}[nr]|[ \t]){0,16384}")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_HEADER = re.compile(r"[ \t]*(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset):[^\n]{0,300}")
_PEM_PURE = re.compile(r"[ \t]*[A-Za-z0-9+/=]{1,200}[ \t\r]*")
_PEM_TAIL = re.compile(r"[A-Za-z0-9+/=]{16,200}[ \t\r]*$")

_USERINFO = re.compile(
    r"""(?P<user>[^\s/?#@:"'<>\[\]{}|\\^`]{0,256}):(?P<pw>[^\s"'<>`]{1,512})"""
    r"""@(?P<host>[A-Za-z0-9\-._~%:\[\]]{1,256})(?=[/?#\s"'<>`\\),;|]|$)"""
)
_USERONLY = re.compile(
    r"""(?P<user>[A-Za-z0-9\-._~%]{20,256})@(?P<host>[A-Za-z0-9\-._~%:\[\]]{1,256})"""
    r"""(?=[/?#\s"'<>`\\),;|]|$)"""
)
_PCT_URI = re.compile(
    r"%3A%2F%2F(?P<user>(?:[A-Za-z0-9\-._~!$'()*+,;=]|%(?!3A|40)[0-9A-F]{2}){0,256}?)%3A"
    r"(?P<pw>(?:[A-Za-z0-9\-._~!$'()*+,;=:]|%(?!40)[0-9A-F]{2}){1,512})%40",
    re.IGNORECASE,
)
_BEARER = re.compile(r"bearer[ \t]{1,10}(?P<tok>[A-Za-z0-9\-._~+/]{8,8192}=*)", re.IGNORECASE)
_BASIC = re.compile(r"basic[ \t]{1,10}(?P<tok>[A-Za-z0-9+/]{6,4096}={0,2})(?![A-Za-z0-9+/=])",
                    re.IGNORECASE)
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AZURE_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{86}")
_DATA_URI = re.compile(
    r"data:[A-Za-z0-9.+\-]{1,40}/[A-Za-z0-9.+\-]{1,80}(?:;[A-Za-z0-9=.\-]{1,40}){0,4};base64,",
    re.IGNORECASE,
)
_PATHLIKE = re.compile(r"^(?:/|~/|\./|\.\./|[A-Za-z]:[\\/]|file://)\S*$")
_B64_RUN = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_ANY_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]*=*")


def _pem_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    n = len(text)
    i = text.find("-----BEGIN ")
    while i >= 0:
        m = _PEM_BEGIN.match(text, i)
        if m is None:
            i = text.find("-----BEGIN ", i + 11)
            continue
        label = m.group("label")
        kind = ("ssh-private-key" if "OPENSSH" in label else
                "pgp-private-key" if "PGP" in label else "private-key")
        run_start: int | None = i
        run_end = m.end()
        pos = _PEM_BODY.match(text, m.end()).end()  # type: ignore[union-attr]
        run_end = pos
        end = _PEM_END.match(text, pos)
        if end is not None:
            spans.append((i, end.end(), kind, _PEM))
            i = text.find("-----BEGIN ", end.end())
            continue
        blanks = 0
        for _ in range(1000):
            if pos >= n or text[pos] not in "\r\n":
                break
            line_start = pos + (2 if text.startswith("\r\n", pos) else 1)
            line_end = text.find("\n", line_start)
            if line_end < 0:
                line_end = n
            line = text[line_start:line_end]
            end = _PEM_END.search(line)
            if end is not None:
                before = line[:end.start()]
                if not before.strip() or _PEM_PURE.fullmatch(before):
                    if run_start is None:
                        run_start = line_start
                    run_end = line_start + end.end()
                else:
                    tail = _PEM_TAIL.search(before)
                    if run_start is not None:
                        spans.append((run_start, run_end, kind, _PEM))
                    run_start = line_start + (tail.start() if tail else end.start())
                    run_end = line_start + end.end()
                pos = line_start + end.end()
                break
            if not line.strip():
                blanks += 1
                if blanks > 1:
                    break
                pos = line_end
                continue
            blanks = 0
            if _PEM_PURE.fullmatch(line) or _PEM_HEADER.fullmatch(line):
                if run_start is None:
                    run_start = line_start
                run_end = line_end
                pos = line_end
                continue
            tail = _PEM_TAIL.search(line)
            if tail is None:
                break
            # A body line behind a log prefix: keep the prefix, take the key material.
            if run_start is not None:
                spans.append((run_start, run_end, kind, _PEM))
            spans.append((line_start + tail.start(), line_start + tail.end(), kind, _PEM))
            run_start = None
            pos = line_end
        if run_start is not None:
            spans.append((run_start, run_end, kind, _PEM))
        i = text.find("-----BEGIN ", max(pos, i + 11))
    return spans


def _uri_spans(text: str, low: str) -> list[Span]:
    spans: list[Span] = []
    i = text.find("://")
    while i >= 0:
        m = _USERINFO.match(text, i + 3)
        if m is not None:
            pw = m.group("pw")
            if not is_benign_value(pw):
                spans.append((m.start("pw"), m.end("pw"), "password", _CONTEXT))
        else:
            u = _USERONLY.match(text, i + 3)
            if u is not None:
                user = u.group("user")
                if (any(c.isdigit() for c in user) and any(c.isalpha() for c in user)
                        and not is_benign_value(user)):
                    spans.append((u.start("user"), u.end("user"), "url-credentials", _CONTEXT))
        i = text.find("://", i + 3)
    i = low.find("%3a%2f%2f")
    while i >= 0:
        m = _PCT_URI.match(text, i)
        if m is not None:
            spans.append((m.start("pw"), m.end("pw"), "password", _CONTEXT))
        i = low.find("%3a%2f%2f", i + 9)
    return spans


def _scheme_spans(text: str, low: str) -> list[Span]:
    """``Bearer <token>`` and ``Basic <base64 of user:password>`` wherever they appear."""
    spans: list[Span] = []
    i = low.find("bearer")
    while i >= 0:
        m = _BEARER.match(text, i)
        if m is not None and (i == 0 or not text[i - 1].isalnum()):
            tok = m.group("tok")
            if (any(c.isdigit() for c in tok) or len(tok) >= 32) and not is_benign_value(tok):
                spans.append((m.start("tok"), m.end("tok"), "bearer-token", _CONTEXT))
        i = low.find("bearer", i + 6)
    i = low.find("basic")
    while i >= 0:
        m = _BASIC.match(text, i)
        if m is not None and (i == 0 or not text[i - 1].isalnum()):
            tok = m.group("tok")
            try:
                decoded = base64.b64decode(tok + "=" * (-len(tok) % 4), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            if b":" in decoded:
                spans.append((m.start("tok"), m.end("tok"), "basic-auth", _CONTEXT))
        i = low.find("basic", i + 5)
    return spans


def _aws_secret_spans(text: str, key_ids: list[Span]) -> list[Span]:
    """A 40-character AWS secret access key is only recognisable next to its key id."""
    spans: list[Span] = []
    for start, end, _, _ in key_ids:
        lo, hi = max(0, start - 400), min(len(text), end + 400)
        for m in _AWS_SECRET.finditer(text, lo, hi):
            tok = m.group()
            if (any(c.isupper() for c in tok) and any(c.islower() for c in tok)
                    and any(c.isdigit() or c in "/+" for c in tok)):
                spans.append((m.start(), m.end(), "aws-secret-access-key", _VENDOR))
    return spans


def _azure_key_spans(text: str) -> list[Span]:
    """Azure storage account keys: 64 random bytes in base64, 86 characters and ``==``."""
    spans: list[Span] = []
    n = len(text)
    i = text.find("==")
    while i >= 0:
        start = i - 86
        if (start >= 0 and _AZURE_KEY_BODY.fullmatch(text, start, i)
                and (start == 0 or text[start - 1] == "=" or text[start - 1] not in _B64CHARS)
                and (i + 2 >= n or text[i + 2] == "=" or text[i + 2] not in _B64CHARS)
                and text[max(0, start - 7):start].lower() not in ("sha512-", "sha512:", "sha512=")):
            spans.append((start, i + 2, "azure-storage-key", _VENDOR))
        i = text.find("==", i + 2)
    return spans


_PCT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CHUNK_STOP = frozenset(" \t\r\n\"'<>`")
_CHUNK = re.compile(r"[^\s\"'<>`]{0,100000}")


def _percent_decode(chunk: str) -> tuple[str, list[int]]:
    """``chunk`` with ``%XX`` escapes decoded (as UTF-8), and for every decoded character the
    offset in ``chunk`` where it starts (plus one past the end), so spans can be mapped back."""
    out: list[str] = []
    offsets: list[int] = []
    i = 0
    n = len(chunk)
    while i < n:
        if chunk[i] == "%" and _PCT_ESCAPE.match(chunk, i):
            j = i
            raw = bytearray()
            while j < n and chunk[j] == "%" and _PCT_ESCAPE.match(chunk, j):
                raw.append(int(chunk[j + 1:j + 3], 16))
                j += 3
            text = raw.decode("utf-8", "replace")
            # Map each decoded character to the escapes it came from, proportionally; exact for
            # ASCII, which is what keys, separators and tokens are made of.
            step = (j - i) / max(1, len(text))
            for k, ch in enumerate(text):
                out.append(ch)
                offsets.append(i + int(k * step))
            i = j
        else:
            out.append(chunk[i])
            offsets.append(i)
            i += 1
    offsets.append(n)
    return "".join(out), offsets


def _protected(text: str, low: str) -> list[tuple[int, int]]:
    """``data:image/png;base64,…`` payloads: never secrets, and full of look-alike runs."""
    ranges: list[tuple[int, int]] = []
    if ";base64," not in low:
        return ranges
    i = low.find("data:")
    while i >= 0:
        m = _DATA_URI.match(text, i)
        if m is not None:
            end = _B64_RUN.match(text, m.end()).end()  # type: ignore[union-attr]
            ranges.append((i, end))
            i = low.find("data:", end)
        else:
            i = low.find("data:", i + 5)
    return ranges


# --------------------------------------------------------------------------------------------
# The scrubber
# --------------------------------------------------------------------------------------------

# Anchors that begin a token are searched for only right after a non-word character: one pass
# whose first step (a character class) the regex engine runs in a tight loop, instead of trying
# the whole trie at every position of the text.
_START_ANCHORS = sorted({a for p in TOKEN_PATTERNS if not p.anywhere for a in p.anchors})
_START_TRIE = anchor_regex(_START_ANCHORS)
_START_RE = re.compile(r"[^A-Za-z0-9_](" + _START_TRIE.pattern + ")")
_BY_START: dict[str, list[TokenPattern]] = {}
for _pattern in TOKEN_PATTERNS:
    if not _pattern.anywhere:
        for _anchor in _pattern.anchors:
            _BY_START.setdefault(_anchor, []).append(_pattern)
_ANYWHERE = [p for p in TOKEN_PATTERNS if p.anywhere]


def _vendor_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    n = len(text)
    starts: list[tuple[int, str]] = [(m.start(1), m.group(1)) for m in _START_RE.finditer(text)]
    first = _START_TRIE.match(text)
    if first is not None:
        starts.insert(0, (0, first.group()))
    for pos, found in starts:
        # The trie gives the longest anchor; shorter ones that are its prefixes count too
        # (``sk-`` for ``sk-ant-``).
        for k in range(1, len(found) + 1):
            for pattern in _BY_START.get(found[:k], ()):
                m = pattern.regex.match(text, pos)
                if m is not None:
                    _accept(text, n, m, pattern, spans)
    for pattern in _ANYWHERE:
        present = [a for a in pattern.anchors if a in text]
        if not present:
            continue
        if pattern.back:
            for anchor in present:
                j = text.find(anchor)
                while j >= 0:
                    for back in pattern.back:
                        if j - back >= 0:
                            m = pattern.regex.match(text, j - back)
                            if m is not None and m.end() > j:
                                _accept(text, n, m, pattern, spans)
                                break
                    j = text.find(anchor, j + 1)
        else:
            for m in pattern.regex.finditer(text):
                _accept(text, n, m, pattern, spans)
    return spans


def _accept(text: str, n: int, m: re.Match[str], pattern: TokenPattern, spans: list[Span]) -> None:
    s, e = m.start(), m.end()
    if s > 0 and text[s - 1] in pattern.left:
        return
    if e < n and text[e] in pattern.right:
        return
    gs, ge = m.span(pattern.group)
    spans.append((gs, ge, pattern.kind, _VENDOR))


class _Literals:
    """One trie regex over every registered or given secret form, rebuilt when they change."""

    def __init__(self, forms: dict[str, str]) -> None:
        self.kinds = forms
        self.regex = anchor_regex(sorted(forms)) if forms else None

    def spans(self, text: str) -> list[Span]:
        if self.regex is None:
            return []
        spans: list[Span] = []
        n = len(text)
        for m in self.regex.finditer(text):
            s, e = m.span()
            form = m.group()
            if all(c in _B64URLCHARS for c in form):
                # A base64 form or core sits inside a longer base64 string: take all of it,
                # since the characters around the core still carry bits of the secret.
                while s > 0 and text[s - 1] in _B64URLCHARS and text[s - 1] != "=":
                    s -= 1
                e = _ANY_B64_RUN.match(text, e).end()  # type: ignore[union-attr]
                e = min(e, n)
            spans.append((s, e, self.kinds.get(form, "host-secret"), _LITERAL))
        return spans


_registry_lock = threading.Lock()
_registry_cache: tuple[int, _Literals] = (-1, _Literals({}))


def _registered_literals() -> _Literals:
    """The finder for the process-wide registry, shared by all scrubbers, rebuilt on change."""
    global _registry_cache
    version = registry.registry_version()
    cached = _registry_cache
    if cached[0] == version:
        return cached[1]
    with _registry_lock:
        if _registry_cache[0] != version:
            forms = {form: kind for form, kind in registry.registered_secrets()}
            _registry_cache = (version, _Literals(forms))
        return _registry_cache[1]


class Scrubber:
    """Redacts secrets from text and records.

    Args:
        extra_secrets: Values to remove besides those in the process-wide registry (for one
            failure: its connection passwords, the GitHub token ...), in all their forms.
        extra_key_names: Key names whose values are always redacted (the config's
            ``secret_key_names``), compared without case and punctuation.

    A scrubber never raises: a text it cannot process is replaced by a marker saying so.
    """

    def __init__(self, *, extra_secrets: Iterable[str] = (),
                 extra_key_names: Iterable[str] = ()) -> None:
        self._extra_forms: dict[str, str] = {}
        for value in _iter_strings(extra_secrets):
            for form in registry.secret_forms(value):
                self._extra_forms.setdefault(form, "host-secret")
        names: set[str] = set()
        words: set[str] = set()
        for name in _iter_strings(extra_key_names):
            norm = normalize_key(name)
            if norm:
                names.add(norm)
                parts = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", name)]
                if parts:
                    words.add(max(parts, key=len))
        self._extra_names = frozenset(names)
        self._extra_words = tuple(sorted(words))
        self._extra_literals = _Literals(self._extra_forms)

    # ---------------------------------------------------------------------------------------
    # text
    # ---------------------------------------------------------------------------------------

    def text(self, s: str | None) -> str | None:
        """``s`` with every secret replaced by ``[redacted <kind>]``; ``None`` stays ``None``."""
        if s is None:
            return None
        return self._text(s, keep_lines=False)

    def _text(self, s: Any, *, keep_lines: bool) -> str:
        try:
            if not isinstance(s, str):
                s = s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else str(s)
            if not s:
                return s
            return self._scrub(s, keep_lines=keep_lines)
        except Exception:  # noqa: BLE001 - never raise into the failure path; never leak either
            log.debug("postmortem-scribe: scrubbing failed; the text is withheld", exc_info=True)
            return _UNSCRUBBABLE

    def find(self, text: str) -> list[Span]:
        """Every secret in ``text`` as merged ``(start, end, kind, priority)`` spans."""
        spans = self._find_raw(text)
        if "%" in text:
            spans += self._percent_spans(text)
        return self._finish(text, spans)

    def _scrub(self, text: str, *, keep_lines: bool) -> str:
        out = self._once(text, keep_lines=keep_lines)
        # A marker can change what surrounds it (a quote it replaced no longer closes a value,
        # its "]" now ends a word), so what changed is scanned again until nothing more changes:
        # that is what makes scrubbing idempotent.  Two more passes at most; each can only add
        # markers, so stopping early errs on the side of redacting.
        for _ in range(2):
            if out == text:
                break
            text, out = out, self._rescan(out, keep_lines=keep_lines)
        return out

    def _rescan(self, text: str, *, keep_lines: bool) -> str:
        """Another pass, over the lines that carry a marker only when the text is long.

        The finders look at one line at a time, except for private keys, which a first pass
        removed whole, so the lines without a marker would give the same answer again.
        """
        if len(text) < 8192 or "\n" not in text:
            return self._once(text, keep_lines=keep_lines)
        lines = text.split("\n")
        changed = False
        for i, line in enumerate(lines):
            if "[redacted " in line:
                new = self._once(line, keep_lines=keep_lines)
                if new != line:
                    lines[i] = new
                    changed = True
        return "\n".join(lines) if changed else text

    def _once(self, text: str, *, keep_lines: bool) -> str:
        # Registered values first, replaced before anything else looks at the text, so that a
        # token right after one is judged with the marker's "]" as its left edge.
        literal = _registered_literals().spans(text) + self._extra_literals.spans(text)
        if literal:
            text = _apply(text, self._finish(text, literal), keep_lines=keep_lines)
        spans = self._find_raw(text, literals=False)
        if "%" in text:
            spans += self._percent_spans(text)
        return _apply(text, self._finish(text, spans), keep_lines=keep_lines)

    def _finish(self, text: str, spans: list[Span]) -> list[Span]:
        if not spans:
            return spans
        low = text.lower() if len(text.lower()) == len(text) else text.translate(_LOWER)
        protected = _protected(text, low)
        if protected:
            spans = [sp for sp in spans if not _inside(sp, protected)]
        if "[redacted " in text:
            # Our own markers: nothing in or across them is a secret.  This is what makes a
            # second pass a no-op even where a first pass left a marker inside a would-be value.
            markers = [m.span() for m in MARKER_RE.finditer(text)]
            spans = [sp for sp in spans
                     if not (_within(sp, markers) if sp[3] >= _LITERAL else _overlaps(sp, markers))]
        return _merge(spans)

    def _percent_spans(self, text: str) -> list[Span]:
        """Secrets inside percent-encoded text (a URL in a query string, a JSON in a link).

        Each run of non-space text with ``%XX`` escapes is decoded, searched like any text, and
        what is found there is mapped back onto the encoded characters.
        """
        spans: list[Span] = []
        done = -1
        for m in _PCT_ESCAPE.finditer(text):
            if m.start() < done:
                continue
            start = m.start()
            while start > 0 and text[start - 1] not in _CHUNK_STOP:
                start -= 1
            end = _CHUNK.match(text, m.start()).end()  # type: ignore[union-attr]
            done = end
            decoded, offsets = _percent_decode(text[start:end])
            if len(decoded) == end - start:
                continue
            for s, e, kind, prio in self._find_raw(decoded):
                spans.append((start + offsets[s], start + offsets[e], kind, prio))
        return spans

    def _find_raw(self, text: str, *, literals: bool = True) -> list[Span]:
        low = text.lower()
        if len(low) != len(text):
            low = text.translate(_LOWER)
        spans: list[Span] = []
        if literals:
            spans += _registered_literals().spans(text)
            spans += self._extra_literals.spans(text)
        vendor = _vendor_spans(text)
        spans += vendor
        if "-----BEGIN " in text:
            spans += _pem_spans(text)
        if "://" in text or "%3a%2f%2f" in low:
            spans += _uri_spans(text, low)
        if "bearer" in low or "basic" in low:
            spans += _scheme_spans(text, low)
        key_ids = [sp for sp in vendor if sp[2] == "aws-access-key-id"]
        if key_ids:
            spans += _aws_secret_spans(text, key_ids)
        if "==" in text:
            spans += _azure_key_spans(text)
        spans += find_key_values(text, low, self._extra_names, self._extra_words)
        if "</" in text:
            spans += find_xml_values(text)
        return spans

    # ---------------------------------------------------------------------------------------
    # records
    # ---------------------------------------------------------------------------------------

    def record(self, rec: FailureRecord) -> FailureRecord:
        """A scrubbed copy of ``rec``: every text field, list and mapping, at any depth.

        Identity fields (pipeline, task, run id, occurrence key, orchestrator, state, times,
        rule ids, the fingerprint key) are left as they are: they are names chosen by people,
        not captured text, and changing them would break the grouping of repeats.  Log lines
        keep their count, so the excerpt's error-line indexes stay valid.
        """
        try:
            out = copy.deepcopy(rec)
        except Exception:  # noqa: BLE001 - an odd object inside: copy through the JSON form
            try:
                out = from_dict(type(rec), to_dict(rec))
            except Exception:  # noqa: BLE001 - scrub in place rather than let a secret through
                log.debug("postmortem-scribe: cannot copy the record to scrub it", exc_info=True)
                out = rec
        try:
            self._walk(out)
        except Exception:  # noqa: BLE001
            log.debug("postmortem-scribe: scrubbing a record failed", exc_info=True)
        return out

    def mapping(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A scrubbed copy of a string mapping; values under sensitive keys are redacted whole."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            shown_key = self._text(key, keep_lines=False) if isinstance(key, str) else key
            if isinstance(value, str):
                kind = None
                if isinstance(key, str):
                    kind = "secret" if normalize_key(key) in self._extra_names else key_kind(key)
                if kind is not None and not _keep_value(kind, key, value):
                    out[shown_key] = marker(kind)
                else:
                    out[shown_key] = self._text(value, keep_lines=False)
            else:
                out[shown_key] = self._value(value)
        return out

    def lines(self, lines: list[str]) -> list[str]:
        """Scrubbed log lines, scanned together (a key split over lines is still found)."""
        strings = [line if isinstance(line, str) else str(line) for line in lines]
        if not strings:
            return []
        if any("\n" in line for line in strings):
            return [self._text(line, keep_lines=False) for line in strings]
        joined = self._text("\n".join(strings), keep_lines=True)
        out = joined.split("\n")
        if len(out) != len(strings):
            return [self._text(line, keep_lines=False) for line in strings]
        return out

    def _walk(self, obj: Any) -> None:
        cls = type(obj).__name__
        for f in dataclasses.fields(obj):
            if (cls, f.name) in _IDENTITY:
                continue
            try:
                value = getattr(obj, f.name)
                if cls == "LogExcerpt" and f.name == "lines" and isinstance(value, list):
                    new = self.lines(value)
                else:
                    new = self._value(value)
                if new is not value:
                    setattr(obj, f.name, new)
            except Exception:  # noqa: BLE001 - withhold the field rather than leak it
                log.debug("postmortem-scribe: scrubbing %s.%s failed", cls, f.name, exc_info=True)
                _withhold(obj, f.name)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._text(value, keep_lines=False)
        if isinstance(value, list):
            return [self._value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._value(v) for v in value)
        if isinstance(value, dict):
            return self.mapping(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            self._walk(value)
            return value
        return value


# Fields that name things rather than carry captured text.
_IDENTITY = {
    ("FailureRecord", "pipeline"), ("FailureRecord", "task"), ("FailureRecord", "orchestrator"),
    ("FailureRecord", "occurrence_key"), ("FailureRecord", "run_id"), ("FailureRecord", "state"),
    ("FailureRecord", "started_at"), ("FailureRecord", "ended_at"),
    ("FailureRecord", "detected_at"), ("FailureRecord", "detected_by"),
    ("FailureRecord", "last_success_at"), ("FailureRecord", "schema_version"),
    ("ExceptionInfo", "relation"), ("Evidence", "rule"), ("Evidence", "source"),
    ("Classification", "category"), ("Classification", "alternatives"),
    ("Fingerprint", "key"), ("Fingerprint", "basis"), ("Fingerprint", "signature"),
    ("Problem", "code"), ("InputReport", "format"), ("InputReport", "encoding"),
    ("InputReport", "compression"),
}


def _withhold(obj: Any, name: str) -> None:
    try:
        value = getattr(obj, name)
        if isinstance(value, str):
            setattr(obj, name, _UNSCRUBBABLE)
        elif isinstance(value, list):
            setattr(obj, name, [])
        elif isinstance(value, dict):
            setattr(obj, name, {})
    except Exception:  # noqa: BLE001
        pass


def _keep_value(kind: str, key: str, value: str) -> bool:
    """Whether a value under a sensitive key is scanned like text instead of redacted whole."""
    if is_benign_value(value):
        return True
    if kind == "connection-string" and ("://" in value or "=" in value):
        return True  # the URI rule or the inner key names take the credentials out
    if (kind in ("credentials", "private-key") or key.lower() == "pwd") and _PATHLIKE.match(value):
        return True
    return False


def _iter_strings(values: Iterable[Any] | None) -> list[str]:
    if values is None or isinstance(values, (str, bytes)):
        values = [values] if isinstance(values, str) else []
    out = []
    try:
        for v in values:
            if isinstance(v, str) and v:
                out.append(v)
    except TypeError:
        pass
    return out


def _inside(span: Span, ranges: list[tuple[int, int]]) -> bool:
    # Only guesses from context are dropped inside a data: payload; a registered value or a
    # vendor token with its prefix does not occur in random base64 by chance.
    if span[3] >= _VENDOR:
        return False
    return any(lo <= span[0] and span[1] <= hi for lo, hi in ranges)


def _within(span: Span, ranges: list[tuple[int, int]]) -> bool:
    return any(lo <= span[0] and span[1] <= hi for lo, hi in ranges)


def _overlaps(span: Span, ranges: list[tuple[int, int]]) -> bool:
    return any(span[0] < hi and lo < span[1] for lo, hi in ranges)


def _merge(spans: list[Span]) -> list[Span]:
    spans.sort(key=lambda sp: (sp[0], -sp[1]))
    merged: list[Span] = []
    for s, e, kind, prio in spans:
        if e <= s:
            continue
        if merged and s < merged[-1][1]:
            ms, me, mkind, mprio = merged[-1]
            if prio > mprio or (prio == mprio and e - s > me - ms):
                mkind, mprio = kind, prio
            merged[-1] = (ms, max(me, e), mkind, mprio)
        else:
            merged.append((s, e, kind, prio))
    return merged


def _apply(text: str, spans: list[Span], *, keep_lines: bool) -> str:
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for s, e, kind, _ in spans:
        parts.append(text[last:s])
        parts.append(marker(kind))
        if keep_lines:
            parts.append("\n" * text.count("\n", s, e))
        last = e
    parts.append(text[last:])
    return "".join(parts)


_default_lock = threading.Lock()
_default: Scrubber | None = None


def scrub_text(s: str, extra_secrets: Iterable[str] = ()) -> str:
    """Scrub one string with the registered secrets plus ``extra_secrets``; never raises."""
    global _default
    extras = _iter_strings(extra_secrets)
    if extras:
        scrubber = Scrubber(extra_secrets=extras)
    else:
        with _default_lock:
            if _default is None:
                _default = Scrubber()
            scrubber = _default
    result = scrubber.text(s)
    return "" if result is None else result
