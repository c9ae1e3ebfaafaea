"""What every publisher (local Markdown files, GitHub) offers to the outbox.

The outbox stores a message before anything is sent; a publisher only delivers one stored
message and says what happened.  Deliveries must be idempotent: the outbox may hand the same
message over again after a crash, so a publisher first checks whether it already delivered it
(the hidden incident marker in each issue makes that possible on GitHub).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

RECURRENCE_START = "<!-- scribe:recurrence -->"
RECURRENCE_END = "<!-- /scribe:recurrence -->"
"""The recurrence line of an issue body lives between these markers so it can be replaced."""

MessageKind = Literal["open", "comment", "update", "reopen"]
"""``open``: a new issue from a draft; ``comment``: a comment on the incident's issue;
``update``: edit the incident's issue body/labels (e.g. the recurrence line);
``reopen``: reopen a closed issue (regression mode ``reopen``)."""


@dataclass
class OutboxMessage:
    """One stored message waiting to be delivered."""

    id: int
    incident: str
    """Public incident key; also written in the hidden marker."""
    kind: str
    title: str | None = None
    body: str = ""
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    issue_number: int | None = None
    """Known issue number of the incident, for comments/updates/reopens."""
    issue_url: str | None = None
    attempts: int = 0
    created_at: str = ""
    recurrence: str | None = None
    """The incident's current recurrence line, to refresh in the issue body (see
    :data:`RECURRENCE_START`); filled in when the message is taken for delivery."""


@dataclass
class Delivery:
    """The result of one delivery attempt."""

    status: Literal["sent", "retry", "failed"]
    """``sent``: done; ``retry``: try again later (network, 5xx, rate limit);
    ``failed``: will never succeed as it is (e.g. 422 after our own checks); kept for a person."""
    issue_number: int | None = None
    issue_url: str | None = None
    """Where the result can be seen (an issue URL or a local file path)."""
    retry_after: float | None = None
    """Seconds to wait before the next attempt, when the server said so."""
    error: str | None = None
    """Plain-words reason; never contains a token."""
    calls: int = 0
    """HTTP calls made, for the storm benchmark."""


class Publisher(Protocol):
    """Delivers outbox messages somewhere people will read them."""

    name: str

    def deliver(self, message: OutboxMessage, *, deadline: float | None = None) -> Delivery:
        """Deliver one message, idempotently; never raise.

        ``deadline`` is a ``time.monotonic()`` value: a publisher that would have to wait past
        it (a rate limit, a slow server) answers ``retry`` instead of waiting.
        """
        ...


def replace_recurrence(body: str, line: str) -> str:
    """The body with its recurrence region replaced by ``line`` (unchanged if it has none)."""
    start = body.find(RECURRENCE_START)
    end = body.find(RECURRENCE_END, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        return body
    return body[: start + len(RECURRENCE_START)] + line + body[end:]
