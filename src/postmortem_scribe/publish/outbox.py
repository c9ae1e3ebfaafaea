"""Delivering what waits in the outbox, within a time budget, with exponential back-off."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..store import IncidentRow, Store
from .base import Delivery, OutboxMessage, Publisher

log = logging.getLogger("postmortem_scribe.outbox")

MAX_BACKOFF_SECONDS = 3600.0


def backoff_seconds(attempts: int) -> float:
    """Exponential back-off with jitter: about 5 s, 10 s, 20 s ... capped at an hour."""
    base = min(MAX_BACKOFF_SECONDS, 5.0 * (2 ** max(0, attempts - 1)))
    return base * random.uniform(0.8, 1.2)


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    calls: int = 0
    urls: dict[int, str] = field(default_factory=dict)
    """Outbox message id -> where it was delivered."""
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things people should know about deliveries that did succeed (a lead that could not be
    assigned, labels GitHub dropped silently)."""
    out_of_time: bool = False


def drain(
    store: Store,
    publisher: Publisher,
    *,
    deadline: float | None = None,
    max_messages: int | None = None,
    recurrence: Callable[[IncidentRow], str] | None = None,
) -> DrainResult:
    """Deliver due messages, oldest first, until none is due or ``deadline`` (monotonic) passes.

    Never raises: a publisher error becomes a retry with back-off.
    """
    result = DrainResult()
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            result.out_of_time = True
            break
        if max_messages is not None and result.sent + result.retrying + result.failed >= max_messages:
            break
        batch = store.claim_due(limit=1)
        if not batch:
            break
        message = batch[0]
        if recurrence is not None:
            row = store.incident(message.incident)
            if row is not None:
                message.recurrence = recurrence(row)
        delivery = _deliver(publisher, message, deadline)
        result.calls += delivery.calls
        _settle(store, message, delivery, result)
    return result


def _deliver(publisher: Publisher, message: OutboxMessage, deadline: float | None) -> Delivery:
    try:
        return publisher.deliver(message, deadline=deadline)
    except Exception as exc:  # noqa: BLE001 - a publisher bug must not lose the message
        log.exception("postmortem-scribe: publisher %s raised", getattr(publisher, "name", "?"))
        return Delivery(status="retry", error=f"internal error in publisher: {type(exc).__name__}")


def _settle(store: Store, message: OutboxMessage, delivery: Delivery, result: DrainResult) -> None:
    if delivery.status == "sent":
        store.mark_sent(message.id, url=delivery.issue_url)
        if message.kind in ("open", "reopen") or (
            delivery.issue_number is not None and message.issue_number is None
        ):
            store.set_issue(message.incident, number=delivery.issue_number, url=delivery.issue_url)
        result.sent += 1
        if delivery.error:
            result.notes.append(delivery.error)
            log.warning("postmortem-scribe: delivered %s with a note: %s", message.incident, delivery.error)
        if delivery.issue_url:
            result.urls[message.id] = delivery.issue_url
    elif delivery.status == "retry":
        delay = delivery.retry_after if delivery.retry_after is not None else backoff_seconds(message.attempts)
        store.mark_retry(message.id, delay=delay, error=delivery.error)
        result.retrying += 1
        if delivery.error:
            result.errors.append(delivery.error)
    else:
        store.mark_failed(message.id, error=delivery.error)
        result.failed += 1
        if delivery.error:
            result.errors.append(delivery.error)
