"""Helpers shared by the GitHub tests and the storm benchmark.

They drive the real store and the real outbox with the real publisher; the only stand-ins are the
fake GitHub (a real HTTP server) and, where a test needs minutes to pass in an instant, a
simulated clock handed to the client (what it would have slept, it adds to the clock instead).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from postmortem_scribe.publish.base import RECURRENCE_END, RECURRENCE_START
from postmortem_scribe.publish.github import GitHubClient, GitHubPublisher
from postmortem_scribe.publish.marker import incident_marker
from postmortem_scribe.publish.outbox import DrainResult, drain
from postmortem_scribe.records import Classification, Correlation, FailureRecord, Fingerprint
from postmortem_scribe.store import DigestEntry, IncidentRow, NewMessage, OccurrenceResult, Store
from postmortem_scribe.store.schema import outbox

from .server import DEFAULT_TOKEN, FakeGitHub


class SimClock:
    """Real time plus an offset that ``sleep`` advances instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.offset += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds


def make_publisher(fake: FakeGitHub, *, token: str = DEFAULT_TOKEN, clock: SimClock | None = None,
                   write_interval: float = 0.0, read_timeout: float = 0.6,
                   repo: str | None = None, api_url: str | None = None) -> GitHubPublisher:
    """A publisher for the fake, with short timeouts (the fake answers in milliseconds)."""
    client = None
    if clock is not None:
        client = GitHubClient(api_url or fake.api_url, repo or fake.full_name, token,
                              write_interval=write_interval, connect_timeout=0.6,
                              read_timeout=read_timeout, sleep=clock.sleep, clock=clock.monotonic,
                              wall=clock.time)
    return GitHubPublisher(repo or fake.full_name, token, api_url=api_url or fake.api_url,
                           write_interval=write_interval, connect_timeout=0.6,
                           read_timeout=read_timeout, client=client)


def fingerprint_of(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def failure(name: str = "bad-csv", *, run_id: str = "run-1", task: str = "load",
            pipeline: str = "daily_sales", try_number: int = 1) -> FailureRecord:
    fp = fingerprint_of(name)
    return FailureRecord(
        pipeline=pipeline, task=task, orchestrator="python",
        occurrence_key=f"{pipeline}/{task}/{run_id}/{try_number}/{name}",
        run_id=run_id, try_number=try_number, detected_at=_now_iso(),
        error_text=f"ValueError: {name}",
        classification=Classification(category="data_format", confidence=0.9),
        fingerprint=Fingerprint(key=fp, basis="test"),
    )


def _now_iso() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def recurrence_line(row: IncidentRow) -> str:
    return f"Seen {row.occurrences} times: first {row.first_seen}, last {row.last_seen}."


@dataclass
class Drafts:
    """A small stand-in for the renderer: enough Markdown for an issue with every marker."""

    lead: str | None = "alice"
    labels: tuple[str, ...] = ("postmortem", "data_format")

    def render(self, correlation: Correlation, row: IncidentRow) -> list[NewMessage]:
        if correlation.kind in ("new", "regression"):
            previous = (f"\nThis is a regression of {correlation.previous_issue_url}; its action "
                        "items did not prevent the recurrence.\n" if correlation.kind == "regression" else "")
            body = (f"{incident_marker(row.key)}\n## Post-mortem draft: {row.pipeline}.{row.task}\n\n"
                    f"Lead: @{self.lead}\n{previous}\n## Recurrence\n\n"
                    f"{RECURRENCE_START}{recurrence_line(row)}{RECURRENCE_END}\n")
            labels = [*self.labels, *(["regression"] if correlation.kind == "regression" else [])]
            return [NewMessage(kind="open", title=f"Post-mortem draft: {row.pipeline}.{row.task} failed",
                               body=body, labels=labels,
                               assignees=[self.lead] if self.lead else [])]
        return [NewMessage(kind="comment", body=f"Failed again ({correlation.occurrences} times so far).")]

    @staticmethod
    def digest(row: IncidentRow, entries: list[DigestEntry]) -> str:
        runs = ", ".join(e.run_id or "?" for e in entries[-20:])
        return (f"{len(entries)} more failures in this window (first {entries[0].at}, last "
                f"{entries[-1].at}); runs: {runs}")


def record(store: Store, name: str = "bad-csv", *, run_id: str = "run-1", drafts: Drafts | None = None,
           now: float | None = None, window: float = 600.0, regression_mode: str = "new",
           **kwargs: str) -> OccurrenceResult:
    """Store one failure as ``report()`` does: occurrence, incident and outbox message at once."""
    drafts = drafts or Drafts()
    rec = failure(name, run_id=run_id, **kwargs)
    return store.record_occurrence(
        rec, regression_mode=regression_mode, comment_window_seconds=window,
        render=drafts.render, render_digest=drafts.digest, lead=drafts.lead,
        title=f"{rec.pipeline}.{rec.task}", labels=list(drafts.labels), now=now,
    )


def flush(store: Store, publisher: GitHubPublisher, *, deadline: float | None = None) -> DrainResult:
    """Deliver everything due, as ``scribe flush`` does (recurrence lines included)."""
    return drain(store, publisher, deadline=deadline, recurrence=recurrence_line)


def make_due(store: Store) -> None:
    """Let time pass for the outbox: every waiting message is due now (``scribe flush --all``)."""
    store.make_all_due()


def requeue_failed(store: Store) -> None:
    """What a person does after fixing whatever made GitHub refuse a message."""
    with store.engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.status == "failed")
                     .values(status="pending", not_before=0.0))


def forget_delivery(store: Store, message_id: int, incident: str, *, attempts: int | None = None) -> None:
    """Simulate a crash between GitHub's 201 and our store write: the outbox never heard back.

    ``attempts=0`` also forgets that the message was ever tried (the first-attempt path).
    """
    values = {"status": "pending", "not_before": 0.0, "lease_until": 0.0, "sent_at": None,
              "result_url": None}
    if attempts is not None:
        values["attempts"] = attempts
    with store.engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == message_id).values(**values))
        conn.execute(sa.text("UPDATE scribe_incidents SET issue_number = NULL, issue_url = NULL, "
                             "issue_state = NULL WHERE key = :key"), {"key": incident})


__all__ = [
    "Drafts", "SimClock", "failure", "fingerprint_of", "flush", "forget_delivery", "make_due",
    "make_publisher", "record", "recurrence_line", "requeue_failed",
]
