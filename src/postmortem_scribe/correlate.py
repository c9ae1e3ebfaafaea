"""Correlation helpers that look across fingerprints: storms and flaky failures.

The fingerprint groups *the same failure*.  Two other patterns need a wider view:

- **Storms**: one cause (a database refusing connections, an API returning 503s, an upstream
  job failing) breaks many tasks in many pipelines at once.  Their stack traces differ, so their
  fingerprints differ, but people want one incident with many occurrences, not fifty issues.
  A storm key names the *cause* (category + the system it points at); within a window, a new
  fingerprint whose storm key matches an open incident joins it.  Without a concrete target
  (a host, a URL's host, an upstream task) there is no storm key: "some connection failed" is not
  evidence of one cause, and a false merge hides a problem.
- **Flaky failures**: a task that fails, then passes, then fails again.  Its incident is labelled
  flaky and is commented on rather than reopened or re-drafted, so it does not churn issues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .records import FailureRecord

STORM_CATEGORIES = {"connectivity", "external_service", "upstream", "auth"}

_URL_HOST = re.compile(
    r"\b(?:https?|postgres(?:ql)?|mysql|redis|amqp|mongodb(?:\+srv)?|s3|gs|ftp|sftp)(?:\+\w+)?://"
    r"(?:[^@/\s]*@)?(?P<host>[A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d+))?", re.I)
# host "warehouse" / host='db' (quoted), or host=db.internal (dotted): a bare word after
# "server:" is usually prose ("could not connect to server: Connection refused").
_HOST_PORT = re.compile(
    r"\b(?:host|server|endpoint|address)\s*[=:]?\s*"
    r"(?:[\"'](?P<qhost>[A-Za-z0-9][A-Za-z0-9.\-]{1,252})[\"']|(?P<host>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+))"
    r"(?:.{0,80}?\bport\s*[=:]?\s*(?P<port>\d{2,5}))?", re.I | re.S)
_HOSTPORT_PAIR = re.compile(
    r"\b(?P<host>(?:\d{1,3}\.){3}\d{1,3}|[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)+):(?P<port>\d{2,5})\b", re.I)
_CONN_POOL = re.compile(r"HTTPS?ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)")
_UPSTREAM = re.compile(
    r"upstream (?:task|job|dependency|flow)s?\s*[\"'`]?([\w.\-]+)[\"'`]?"
    r"|(?:task|job|flow)\s*[\"'`]([\w.\-]+)[\"'`]\s+(?:failed|is in state failed)", re.I)

# Words that look like hosts in messages but name nothing specific.
_NOT_HOSTS = {"localhost.localdomain", "server", "host", "the", "remote", "unknown", "none"}


def storm_key(record: FailureRecord) -> str | None:
    """``category|rule|target`` when the failure points at one external cause, else ``None``."""
    category = record.classification.category if record.classification else None
    if category not in STORM_CATEGORIES:
        return None
    target = _target(_texts(record), upstream=category == "upstream")
    if not target:
        return None
    # The deciding rule is part of the cause: a 429 and a 503 from one host are two problems.
    evidence = record.classification.evidence if record.classification else []
    rule = next((e.rule for e in evidence if e.rule != "triage"), "")
    return f"{category}|{rule}|{target}"


def _texts(record: FailureRecord) -> list[str]:
    texts = [e.message for e in reversed(record.exceptions)]
    if record.error_text:
        texts.append(record.error_text[-4000:])
    if record.log:
        texts.extend(record.log.lines[i] for i in record.log.error_lines[-10:]
                     if i < len(record.log.lines))
    return texts


def _target(texts: Sequence[str], *, upstream: bool) -> str | None:
    for text in texts:
        if upstream:
            match = _UPSTREAM.search(text)
            if match:
                return "upstream:" + (match.group(1) or match.group(2)).lower()
            continue
        for pattern in (_CONN_POOL, _URL_HOST, _HOSTPORT_PAIR, _HOST_PORT):
            match = pattern.search(text)
            if not match:
                continue
            found = match.groupdict()
            host = (found.get("qhost") or found.get("host") or "").lower().strip("[]")
            if host in _NOT_HOSTS or len(host) < 3:
                continue
            return f"{host}:{found['port']}" if found.get("port") else host
    return None


def is_flaky(outcomes: Sequence[str], *, min_flips: int = 2) -> bool:
    """Whether a task's recent outcomes (oldest first: ``failed`` / ``success`` /
    ``retry_success``) alternate enough to call its failure flaky.

    A success that needed a retry is itself a flaky signal; otherwise it takes ``min_flips``
    failure-to-success changes: one recovery after a fix is normal, two is a pattern.
    """
    if "retry_success" in outcomes and "failed" in outcomes:
        return True
    flips = sum(1 for a, b in zip(outcomes, outcomes[1:]) if a == "failed" and b != "failed")
    return flips >= min_flips
