"""Process-wide registry of secret values handed over by the host.

Adapters know secrets that no pattern can recognise: an Airflow connection's password, a Prefect
Secret block's value, the GitHub token postmortem-scribe itself uses.  They register them here
once, and every :class:`~postmortem_scribe.scrub.Scrubber` removes them from every text field, in
the forms in which they typically leak: as given, URL-encoded (in a connection URI or a query
string) and base64-encoded (in a basic-auth header or a config blob).
"""

from __future__ import annotations

import base64
import threading
from urllib.parse import quote, quote_plus

__all__ = [
    "MIN_SECRET_LENGTH",
    "clear_registry",
    "register_secret",
    "registered_secrets",
    "registry_version",
    "secret_forms",
]

MIN_SECRET_LENGTH = 6
"""Shorter values are ignored.

A value of five characters or fewer (``admin``, ``1234``, ``true``, a port number) occurs by
chance inside ordinary words, numbers and identifiers all over a log; redacting every occurrence
would shred the draft while protecting almost nothing, since such a value is guessable anyway.
Hosts also hand over many short non-secrets (empty passwords, ``postgres`` defaults), so the
threshold keeps the registry from becoming a source of false alarms.
"""

# Base64 "cores" shorter than this match too much by chance inside unrelated base64 blobs.
_MIN_CORE = 8

_lock = threading.Lock()
_forms: dict[str, str] = {}
_version = 0


def secret_forms(value: str) -> list[str]:
    """Every string in which ``value`` typically appears in logs and dumps.

    The plain value, its stripped form, its URL-encoded forms (``quote`` and ``quote_plus``) and,
    for base64 (standard and URL-safe), the three "cores": the part of the encoding that does
    not depend on the bytes around the value, one per alignment, so that the secret is found
    inside any base64 string that contains it, such as the encoding of ``user:password``.
    """
    if not isinstance(value, str):
        return []
    forms: list[str] = []
    for v in {value, value.strip()}:
        if len(v) < MIN_SECRET_LENGTH:
            continue
        forms.append(v)
        forms.append(quote(v, safe=""))
        forms.append(quote_plus(v, safe=""))
        raw = v.encode("utf-8", "surrogatepass")
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            # The cores: a scrubber that finds one redacts the whole base64 run around it, so
            # the full encodings need no entry of their own.
            for shift, drop in ((0, 0), (1, 2), (2, 3)):
                data = b"\0" * shift + raw
                whole = len(data) // 3 * 3
                core = enc(data[:whole]).decode("ascii")[drop:]
                if len(core) >= _MIN_CORE:
                    forms.append(core)
            if len(raw) < 6:
                forms.append(enc(raw).decode("ascii").rstrip("="))
    out: list[str] = []
    for f in forms:
        if f and f not in out:
            out.append(f)
    return out


def register_secret(value: str, kind: str = "host-secret") -> None:
    """Remember ``value`` so that every scrubber removes it, shown as ``[redacted <kind>]``.

    Values shorter than :data:`MIN_SECRET_LENGTH` characters and non-strings are ignored (see
    there why).  Never raises: registering happens in the host's failure path.
    """
    global _version
    try:
        kind = _clean_kind(kind)
        forms = secret_forms(value)
        if not forms:
            return
        with _lock:
            changed = False
            for form in forms:
                if form not in _forms:
                    _forms[form] = kind
                    changed = True
            if changed:
                _version += 1
    except Exception:  # noqa: BLE001 - the host's failure path must never see our errors
        return


def registered_secrets() -> list[tuple[str, str]]:
    """Every registered form as ``(text, kind)``, longest first.

    The forms include the URL-encoded and base64 ones (see :func:`secret_forms`); a scrubber
    replaces each occurrence of any of them.
    """
    with _lock:
        items = list(_forms.items())
    items.sort(key=lambda item: (-len(item[0]), item[0]))
    return items


def registry_version() -> int:
    """A number that changes whenever the registry changes, so scrubbers can cache."""
    return _version


def clear_registry() -> None:
    """Forget every registered secret (for tests)."""
    global _version
    with _lock:
        _forms.clear()
        _version += 1


def _clean_kind(kind: object) -> str:
    text = str(kind or "host-secret").strip().lower()
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c == "-" else "-" for c in text)
    return cleaned.strip("-")[:40] or "host-secret"
