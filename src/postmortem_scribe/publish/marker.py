"""The hidden marker that names an incident inside an issue body or comment.

It makes delivery idempotent: before creating an issue again after a crash or a timeout, a
publisher looks for an existing issue whose body carries the marker.
"""

from __future__ import annotations

import re

_INCIDENT = re.compile(r"<!-- postmortem-scribe incident=([A-Za-z0-9-]{1,64}) -->")
_MESSAGE = re.compile(r"<!-- postmortem-scribe message=(\d{1,18}) -->")


def incident_marker(incident: str) -> str:
    return f"<!-- postmortem-scribe incident={incident} -->"


def message_marker(message_id: int) -> str:
    """Marks one outbox message (a comment) so that it is never posted twice."""
    return f"<!-- postmortem-scribe message={message_id} -->"


def find_incident(body: str | None) -> str | None:
    match = _INCIDENT.search(body or "")
    return match.group(1) if match else None


def find_messages(body: str | None) -> set[int]:
    return {int(m) for m in _MESSAGE.findall(body or "")}
