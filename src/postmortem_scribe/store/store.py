"""The incident store: incidents, occurrences, the outbox and input profiles.

SQLite by default (one file in the user data directory), PostgreSQL for a shared store.  Several
processes may report at once: correctness comes from unique constraints (one occurrence per
occurrence key, one incident per fingerprint generation) and, on SQLite, from taking the write
lock at the start of each transaction (``BEGIN IMMEDIATE``) so that read-then-write sequences do
not interleave.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..publish.base import OutboxMessage
from ..records import Correlation, FailureRecord, Similar, to_json
from . import schema
from ..correlate import is_flaky
from .schema import (
    fingerprint_aliases,
    incident_bands,
    incidents,
    input_profiles,
    meta,
    occurrences,
    outbox,
    overrides,
    task_outcomes,
)

APP_NAME = "postmortem-scribe"
_ENQUEUED = "scribe_enqueued"  # per-transaction list of outbox ids, kept in Connection.info


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_store_url() -> str:
    """The SQLite file in the user data directory (``platformdirs``)."""
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return f"sqlite:///{data_dir / 'store.sqlite'}"


@dataclass
class IncidentRow:
    """One incident as stored; a plain view of the ``scribe_incidents`` row."""

    key: str
    fingerprint: str
    generation: int
    status: str
    category: str | None
    title: str | None
    pipeline: str | None
    task: str | None
    lead: str | None
    first_seen: str
    last_seen: str
    occurrences: int
    previous_key: str | None
    issue_number: int | None
    issue_url: str | None
    issue_state: str | None
    issue_etag: str | None
    last_comment_at: float | None
    flaky: bool
    labels: list[str] = field(default_factory=list)
    summary: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> IncidentRow:
        m = row._mapping
        return cls(
            key=m["key"], fingerprint=m["fingerprint"], generation=m["generation"],
            status=m["status"], category=m["category"], title=m["title"],
            pipeline=m["pipeline"], task=m["task"], lead=m["lead"],
            first_seen=m["first_seen"], last_seen=m["last_seen"], occurrences=m["occurrences"],
            previous_key=m["previous_key"], issue_number=m["issue_number"],
            issue_url=m["issue_url"], issue_state=m["issue_state"], issue_etag=m["issue_etag"],
            last_comment_at=m["last_comment_at"], flaky=bool(m["flaky"]),
            labels=json.loads(m["labels"] or "[]"), summary=m["summary"],
        )


@dataclass
class NewMessage:
    """A message to put in the outbox in the same transaction as the occurrence."""

    kind: str
    body: str
    title: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    not_before: float = 0.0


@dataclass
class DigestEntry:
    """One occurrence folded into a waiting digest comment."""

    run_id: str | None
    task: str | None
    pipeline: str | None
    at: str
    try_number: int | None = None


@dataclass
class OccurrenceResult:
    """What storing one occurrence decided."""

    correlation: Correlation
    incident: IncidentRow | None
    coalesced: bool = False
    """True when a repeat was folded into a waiting digest comment instead of its own message."""
    messages: list[int] = field(default_factory=list)
    """Outbox ids enqueued for this occurrence (empty for duplicates and coalesced repeats)."""


Renderer = Callable[[Correlation, IncidentRow], list[NewMessage]]
"""Called inside the occurrence transaction to produce the messages to enqueue."""
DigestRenderer = Callable[[IncidentRow, list[DigestEntry]], str]


def incident_key(fingerprint: str, generation: int) -> str:
    """Public, stable incident key: a short fingerprint prefix, plus the generation after 1."""
    base = fingerprint[:12]
    return base if generation == 1 else f"{base}-{generation}"


class Store:
    """Access to one store; safe to share between threads, and between processes via the DB."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_store_url()
        self.engine = _make_engine(self.url)
        self._migrate()

    # ---------------------------------------------------------------- set-up

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            schema.metadata.create_all(conn, checkfirst=True)
            current = conn.execute(sa.select(meta.c.value).where(meta.c.key == "version")).scalar()
            if current is None:
                _insert_ignore(conn, meta, {"key": "version", "value": str(schema.STORE_VERSION)},
                               ["key"])
                return
            version = int(current)
            if version > schema.STORE_VERSION:
                raise RuntimeError(
                    f"the store at {_safe_url(self.url)} was written by a newer postmortem-scribe "
                    f"(store version {version}, this release knows up to {schema.STORE_VERSION}); "
                    "upgrade postmortem-scribe or point SCRIBE_STORE_URL at another store"
                )
            for step in range(version + 1, schema.STORE_VERSION + 1):
                schema.MIGRATIONS[step](conn)
                conn.execute(meta.update().where(meta.c.key == "version").values(value=str(step)))

    def version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(meta.c.value).where(meta.c.key == "version")).scalar())

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- occurrences

    def is_reported(self, occurrence_key: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(occurrences.c.id).where(occurrences.c.occurrence_key == occurrence_key)
            ).first()
        return found is not None

    def reported_in_run(self, orchestrator: str, run_id: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(occurrences.c.occurrence_key).where(
                    occurrences.c.orchestrator == orchestrator, occurrences.c.run_id == run_id
                )
            ).all()
        return [r[0] for r in rows]

    def record_occurrence(
        self,
        record: FailureRecord,
        *,
        regression_mode: str = "new",
        comment_window_seconds: float = 600.0,
        render: Renderer,
        render_digest: DigestRenderer,
        bands: Sequence[str] = (),
        lead: str | None = None,
        title: str | None = None,
        labels: Sequence[str] = (),
        storm_key: str | None = None,
        storm_window_seconds: float = 900.0,
        now: float | None = None,
    ) -> OccurrenceResult:
        """Store one occurrence and decide what it is, atomically.

        For a ``duplicate`` (the occurrence key was
        already stored) nothing changes and no message is enqueued.
        """
        assert record.fingerprint is not None, "fingerprint before correlating"
        fp = record.fingerprint.key
        now = time.time() if now is None else now
        seen_at = record.detected_at or utc_now()
        category = record.classification.category if record.classification else None
        with self.engine.begin() as conn:
            result = self._record(conn, record, fp, seen_at, category, now, regression_mode,
                                  comment_window_seconds, render, render_digest, bands, lead,
                                  title, labels, storm_key, storm_window_seconds)
            result.messages = list(conn.info.pop(_ENQUEUED, []))
            return result

    def _record(self, conn: sa.Connection, record: FailureRecord, fp: str, seen_at: str,
                category: str | None, now: float, regression_mode: str,
                comment_window_seconds: float, render: Renderer, render_digest: DigestRenderer,
                bands: Sequence[str], lead: str | None, title: str | None,
                labels: Sequence[str], storm_key: str | None,
                storm_window_seconds: float) -> OccurrenceResult:
        conn.info[_ENQUEUED] = []
        inserted = _insert_ignore(
            conn,
            occurrences,
            {
                "occurrence_key": record.occurrence_key,
                "fingerprint": fp,
                "orchestrator": record.orchestrator,
                "pipeline": record.pipeline,
                "task": record.task,
                "run_id": record.run_id,
                "try_number": record.try_number,
                "occurred_at": seen_at,
                "category": category,
                "record": to_json(record),
            },
            ["occurrence_key"],
        )
        if not inserted:
            existing = conn.execute(
                sa.select(occurrences.c.incident_key).where(
                    occurrences.c.occurrence_key == record.occurrence_key
                )
            ).scalar()
            row = self._incident(conn, existing) if existing else None
            return OccurrenceResult(Correlation(kind="duplicate", incident=existing or ""), row)

        flaky = self._note_outcome(conn, record, "failed", seen_at)
        joined = self._joined_incident(conn, fp, storm_key, seen_at, storm_window_seconds)
        if joined is not None:
            # A storm (or an earlier storm's alias): this fingerprint belongs to an open
            # incident of another fingerprint.  Count it there; never open a second issue.
            return self._join(conn, joined, record, seen_at, now, comment_window_seconds,
                              render, render_digest, storm_key is not None, flaky)
        latest = conn.execute(
            sa.select(incidents)
            .where(incidents.c.fingerprint == fp)
            .order_by(incidents.c.generation.desc())
            .limit(1)
            .with_for_update()
        ).first()
        previous: IncidentRow | None = None
        if latest is None:
            kind, generation = "new", 1
        else:
            current = IncidentRow.from_row(latest)
            if current.status != "closed":
                kind, generation = "repeat", current.generation
            elif regression_mode == "new" and not (flaky or current.flaky):
                kind, generation, previous = "regression", current.generation + 1, current
            else:
                # Flaky failures are commented on, never re-drafted: no open/close churn.
                kind, generation, previous = "regression", current.generation, current

        key = incident_key(fp, generation)
        created = False
        if kind == "new" or (kind == "regression" and previous and generation > previous.generation):
            created = _insert_ignore(
                conn,
                incidents,
                {
                    "key": key, "fingerprint": fp, "generation": generation, "status": "open",
                    "category": category, "title": title, "pipeline": record.pipeline,
                    "task": record.task, "lead": lead, "first_seen": seen_at,
                    "last_seen": seen_at, "occurrences": 1,
                    "previous_key": previous.key if previous else None,
                    "flaky": False, "labels": json.dumps(list(labels)),
                    "signature": json.dumps(record.fingerprint.signature),
                    "summary": record.fingerprint.normalized_message[:500],
                    "storm_key": storm_key,
                },
                ["key"],
            )
            if not created:
                # Another process created it between our read and our insert: we are a repeat.
                kind = "repeat"
        if not created:
            conn.execute(
                incidents.update()
                .where(incidents.c.key == key)
                .values(occurrences=incidents.c.occurrences + 1, last_seen=seen_at)
            )
        else:
            for band in bands:
                _insert_ignore(conn, incident_bands, {"band": band, "incident_key": key},
                               ["band", "incident_key"])
        conn.execute(
            occurrences.update()
            .where(occurrences.c.occurrence_key == record.occurrence_key)
            .values(incident_key=key)
        )
        if flaky:
            conn.execute(incidents.update().where(incidents.c.key == key).values(flaky=True))
        row = self._incident(conn, key)
        assert row is not None
        correlation = Correlation(
            kind=kind,  # type: ignore[arg-type]
            incident=key,
            occurrences=row.occurrences,
            previous_incident=previous.key if previous else None,
            previous_issue_url=previous.issue_url if previous else None,
            first_seen=row.first_seen,
            flaky=row.flaky,
        )
        coalesced = False
        if kind == "repeat" or (kind == "regression" and not created):
            coalesced = self._enqueue_repeat(conn, row, record, seen_at, now, comment_window_seconds,
                                 render, render_digest, correlation)
        else:
            for message in render(correlation, row):
                self._enqueue(conn, key, message)
        if kind == "regression" and not created:
            conn.execute(incidents.update().where(incidents.c.key == key).values(status="open"))
        return OccurrenceResult(correlation, row, coalesced)

    def _joined_incident(self, conn: sa.Connection, fp: str, storm_key: str | None,
                         seen_at: str, window: float) -> IncidentRow | None:
        alias = conn.execute(
            sa.select(fingerprint_aliases.c.incident_key).where(fingerprint_aliases.c.fingerprint == fp)
        ).scalar()
        if alias:
            row = self._incident(conn, alias)
            if row is not None and row.status != "closed":
                return row
        if not storm_key:
            return None
        own = conn.execute(sa.select(incidents.c.id).where(incidents.c.fingerprint == fp)).first()
        if own is not None:
            return None  # this failure has its own history; storms only gather new fingerprints
        since = _iso_before(seen_at, window)
        refused = sa.select(overrides.c.fingerprint).where(overrides.c.kind == "no_storm")
        found = conn.execute(
            sa.select(incidents)
            .where(incidents.c.storm_key == storm_key, incidents.c.status == "open",
                   incidents.c.last_seen >= since, incidents.c.fingerprint.not_in(refused))
            .order_by(incidents.c.last_seen.desc())
            .limit(1)
        ).first()
        return IncidentRow.from_row(found) if found else None

    def _join(self, conn: sa.Connection, row: IncidentRow, record: FailureRecord, seen_at: str,
              now: float, window: float, render: Renderer, render_digest: DigestRenderer,
              storm: bool, flaky: bool) -> OccurrenceResult:
        assert record.fingerprint is not None
        _insert_ignore(conn, fingerprint_aliases,
                       {"fingerprint": record.fingerprint.key, "incident_key": row.key,
                        "reason": "storm" if storm else "alias"}, ["fingerprint"])
        conn.execute(incidents.update().where(incidents.c.key == row.key).values(
            occurrences=incidents.c.occurrences + 1, last_seen=seen_at,
            **({"flaky": True} if flaky else {})))
        conn.execute(occurrences.update()
                     .where(occurrences.c.occurrence_key == record.occurrence_key)
                     .values(incident_key=row.key))
        current = self._incident(conn, row.key)
        assert current is not None
        correlation = Correlation(kind="repeat", incident=row.key, occurrences=current.occurrences,
                                  first_seen=current.first_seen, storm=True, flaky=current.flaky)
        coalesced = self._enqueue_repeat(conn, current, record, seen_at, now, window, render,
                                         render_digest, correlation)
        return OccurrenceResult(correlation, current, coalesced)

    def _note_outcome(self, conn: sa.Connection, record: FailureRecord | None, outcome: str,
                      at: str, *, pipeline: str | None = None, task: str | None = None,
                      run_id: str | None = None, try_number: int | None = None,
                      orchestrator: str | None = None) -> bool:
        """Remember one task outcome; True when the task's recent history looks flaky."""
        if record is not None:
            pipeline, task, run_id = record.pipeline, record.task, record.run_id
            try_number, orchestrator = record.try_number, record.orchestrator
        conn.execute(task_outcomes.insert().values(
            orchestrator=orchestrator, pipeline=pipeline or "", task=task or "", run_id=run_id,
            try_number=try_number, outcome=outcome, at=at))
        recent = conn.execute(
            sa.select(task_outcomes.c.outcome)
            .where(task_outcomes.c.pipeline == (pipeline or ""), task_outcomes.c.task == (task or ""))
            .order_by(task_outcomes.c.id.desc())
            .limit(12)
        ).scalars().all()
        return is_flaky(list(reversed(recent)))

    def record_success(self, *, pipeline: str, task: str | None, run_id: str | None = None,
                       try_number: int | None = None, orchestrator: str | None = None) -> bool:
        """Remember a successful run of a task; returns whether the task now looks flaky.

        A success that needed a retry (``try_number`` > 1) counts as ``retry_success``.  When
        the task is flaky, its open incidents are marked so, which stops issue churn.
        """
        outcome = "retry_success" if (try_number or 1) > 1 else "success"
        with self.engine.begin() as conn:
            flaky = self._note_outcome(conn, None, outcome, utc_now(), pipeline=pipeline,
                                       task=task, run_id=run_id, try_number=try_number,
                                       orchestrator=orchestrator)
            if flaky:
                conn.execute(incidents.update().where(
                    incidents.c.pipeline == pipeline, incidents.c.task == task).values(flaky=True))
            # Keep the history short: it is a signal, not a log.
            old = conn.execute(
                sa.select(task_outcomes.c.id)
                .where(task_outcomes.c.pipeline == pipeline, task_outcomes.c.task == (task or ""))
                .order_by(task_outcomes.c.id.desc()).offset(50)
            ).scalars().all()
            if old:
                conn.execute(task_outcomes.delete().where(task_outcomes.c.id.in_(old)))
        return flaky

    # ---------------------------------------------------------------- triage decisions

    def add_override(self, fingerprint: str, kind: str, value: str, *, source: str | None = None) -> None:
        """Record a person's decision: ``category`` (corrected label) or ``not_similar``."""
        with self.engine.begin() as conn:
            if kind == "category":
                conn.execute(overrides.delete().where(overrides.c.fingerprint == fingerprint,
                                                      overrides.c.kind == "category"))
            _insert_ignore(conn, overrides, {"fingerprint": fingerprint, "kind": kind, "value": value,
                                             "source": source, "recorded_at": utc_now()},
                           ["fingerprint", "kind", "value"])

    def overrides_for(self, fingerprint: str) -> dict[str, list[str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(overrides.c.kind, overrides.c.value)
                                .where(overrides.c.fingerprint == fingerprint)).all()
        found: dict[str, list[str]] = {}
        for kind, value in rows:
            found.setdefault(kind, []).append(value)
        return found

    def split_alias(self, fingerprint: str) -> None:
        """A person said this fingerprint is not the incident it was joined to: forget the join."""
        with self.engine.begin() as conn:
            conn.execute(fingerprint_aliases.delete().where(fingerprint_aliases.c.fingerprint == fingerprint))

    def _enqueue_repeat(
        self,
        conn: sa.Connection,
        row: IncidentRow,
        record: FailureRecord,
        seen_at: str,
        now: float,
        window: float,
        render: Renderer,
        render_digest: DigestRenderer,
        correlation: Correlation,
    ) -> bool:
        """At most one comment per incident per window; the rest wait in one digest comment."""
        entry = DigestEntry(run_id=record.run_id, task=record.task, pipeline=record.pipeline,
                            at=seen_at, try_number=record.try_number)
        waiting = conn.execute(
            sa.select(outbox.c.id, outbox.c.digest_state)
            .where(outbox.c.incident_key == row.key, outbox.c.digest.is_not(None),
                   outbox.c.status == "pending")
            .limit(1)
        ).first()
        if waiting is not None:
            entries = [DigestEntry(**e) for e in json.loads(waiting.digest_state or "[]")]
            entries.append(entry)
            conn.execute(
                outbox.update().where(outbox.c.id == waiting.id).values(
                    body=render_digest(row, entries),
                    digest_state=json.dumps([e.__dict__ for e in entries]),
                )
            )
            return True
        if row.last_comment_at is None or now >= row.last_comment_at + window:
            for message in render(correlation, row):
                self._enqueue(conn, row.key, message)
            conn.execute(incidents.update().where(incidents.c.key == row.key)
                         .values(last_comment_at=now))
            return False
        due = row.last_comment_at + window
        entries = [entry]
        self._enqueue(
            conn,
            row.key,
            NewMessage(kind="comment", body=render_digest(row, entries), not_before=due),
            digest="window",
            digest_state=json.dumps([e.__dict__ for e in entries]),
        )
        conn.execute(incidents.update().where(incidents.c.key == row.key).values(last_comment_at=due))
        return True

    # ---------------------------------------------------------------- incidents

    def _incident(self, conn: sa.Connection, key: str) -> IncidentRow | None:
        row = conn.execute(sa.select(incidents).where(incidents.c.key == key)).first()
        return IncidentRow.from_row(row) if row else None

    def incident(self, key: str) -> IncidentRow | None:
        with self.engine.connect() as conn:
            row = self._incident(conn, key)
            if row is None:  # allow a unique prefix, as people type short keys
                rows = conn.execute(
                    sa.select(incidents).where(incidents.c.key.like(f"{_escape_like(key)}%", escape="\\"))
                    .limit(2)
                ).all()
                if len(rows) == 1:
                    row = IncidentRow.from_row(rows[0])
            return row

    def incidents(self, *, status: str | None = None, limit: int = 100) -> list[IncidentRow]:
        query = sa.select(incidents).order_by(incidents.c.last_seen.desc(), incidents.c.id.desc())
        if status:
            query = query.where(incidents.c.status == status)
        with self.engine.connect() as conn:
            return [IncidentRow.from_row(r) for r in conn.execute(query.limit(limit))]

    def incident_occurrences(self, key: str, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(occurrences.c.occurrence_key, occurrences.c.run_id, occurrences.c.task,
                          occurrences.c.pipeline, occurrences.c.try_number,
                          occurrences.c.occurred_at)
                .where(occurrences.c.incident_key == key)
                .order_by(occurrences.c.id.desc())
                .limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def latest_record(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(occurrences.c.record)
                .where(occurrences.c.incident_key == key)
                .order_by(occurrences.c.id.desc())
                .limit(1)
            ).scalar()

    def set_issue(self, key: str, *, number: int | None, url: str | None,
                  state: str | None = "open", etag: str | None = None) -> None:
        values: dict[str, Any] = {"issue_number": number, "issue_url": url, "issue_state": state}
        if etag is not None:
            values["issue_etag"] = etag
        with self.engine.begin() as conn:
            conn.execute(incidents.update().where(incidents.c.key == key).values(**values))

    def set_status(self, key: str, status: str) -> None:
        """``open`` or ``closed``; closing makes the next occurrence a regression."""
        with self.engine.begin() as conn:
            conn.execute(incidents.update().where(incidents.c.key == key).values(status=status))

    def update_incident(self, key: str, **values: Any) -> None:
        if "labels" in values and not isinstance(values["labels"], str):
            values["labels"] = json.dumps(list(values["labels"]))
        with self.engine.begin() as conn:
            conn.execute(incidents.update().where(incidents.c.key == key).values(**values))

    def similar_incidents(
        self, signature: Sequence[int], bands: Sequence[str], *,
        similarity: Callable[[Sequence[int], Sequence[int]], float],
        exclude: str | None = None, threshold: float = 0.5, limit: int = 3,
    ) -> list[Similar]:
        """Past incidents sharing at least one LSH band, scored by signature similarity."""
        if not bands:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(incidents.c.key, incidents.c.signature, incidents.c.title,
                          incidents.c.issue_url, incidents.c.status)
                .where(incidents.c.key.in_(
                    sa.select(incident_bands.c.incident_key)
                    .where(incident_bands.c.band.in_(list(bands))).distinct()
                ))
            ).all()
        found = []
        for row in rows:
            if row.key == exclude or not row.signature:
                continue
            score = similarity(signature, json.loads(row.signature))
            if score >= threshold:
                found.append(Similar(incident=row.key, score=round(score, 3), title=row.title,
                                     url=row.issue_url, status=row.status))
        found.sort(key=lambda s: -s.score)
        return found[:limit]

    # ---------------------------------------------------------------- outbox

    def _enqueue(self, conn: sa.Connection, key: str, message: NewMessage, *,
                 digest: str | None = None, digest_state: str | None = None) -> int:
        inserted = conn.execute(
            outbox.insert().values(
                incident_key=key, kind=message.kind, title=message.title, body=message.body,
                labels=json.dumps(message.labels), assignees=json.dumps(message.assignees),
                status="pending", attempts=0, not_before=message.not_before, lease_until=0.0,
                created_at=utc_now(), digest=digest, digest_state=digest_state,
            )
        )
        message_id = int(inserted.inserted_primary_key[0])
        conn.info.setdefault(_ENQUEUED, []).append(message_id)
        return message_id

    def enqueue(self, key: str, message: NewMessage) -> int:
        with self.engine.begin() as conn:
            return self._enqueue(conn, key, message)

    def claim_due(self, *, now: float | None = None, limit: int = 10,
                  lease_seconds: float = 60.0) -> list[OutboxMessage]:
        """Take up to ``limit`` due messages, oldest first, leasing them to this process.

        A lease (not a lock) so that a process that dies mid-delivery does not block the message
        for ever; the publisher's idempotency covers the rare double delivery after a lease ends.
        Messages of one incident are taken in order: a comment never overtakes its issue.
        """
        now = time.time() if now is None else now
        claimed: list[OutboxMessage] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(outbox)
                .where(outbox.c.status == "pending")
                .order_by(outbox.c.id)
                .limit(limit * 5 + 20)
            ).all()
            blocked: set[str] = set()
            for r in rows:
                if r.incident_key in blocked:
                    continue
                if r.digest is not None and r.lease_until < now and r.not_before > now:
                    continue  # a grouped comment waiting for its window holds nothing up
                if r.lease_until >= now or r.not_before > now:
                    # Being delivered elsewhere, or backing off: later messages of the incident
                    # wait too, so a comment never races the issue it belongs to.
                    blocked.add(r.incident_key)
                    continue
                taken = conn.execute(
                    outbox.update()
                    .where(outbox.c.id == r.id, outbox.c.status == "pending",
                           outbox.c.lease_until < now)
                    .values(lease_until=now + lease_seconds, attempts=outbox.c.attempts + 1)
                ).rowcount
                blocked.add(r.incident_key)
                if not taken:
                    continue
                inc = self._incident(conn, r.incident_key)
                claimed.append(OutboxMessage(
                    id=r.id, incident=r.incident_key, kind=r.kind, title=r.title, body=r.body,
                    labels=json.loads(r.labels), assignees=json.loads(r.assignees),
                    issue_number=inc.issue_number if inc else None,
                    issue_url=inc.issue_url if inc else None,
                    attempts=r.attempts + 1, created_at=r.created_at,
                ))
                if len(claimed) >= limit:
                    break
        return claimed

    def mark_sent(self, message_id: int, *, url: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == message_id).values(
                status="sent", sent_at=utc_now(), result_url=url, lease_until=0.0, last_error=None))

    def mark_retry(self, message_id: int, *, delay: float, error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == message_id).values(
                not_before=time.time() + delay, lease_until=0.0, last_error=error))

    def mark_failed(self, message_id: int, *, error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == message_id).values(
                status="failed", lease_until=0.0, last_error=error))

    def requeue_failed(self) -> int:
        """Give messages that failed for good another chance (after a person fixed the cause)."""
        with self.engine.begin() as conn:
            return conn.execute(
                outbox.update().where(outbox.c.status == "failed")
                .values(status="pending", not_before=0.0, lease_until=0.0)
            ).rowcount

    def latest_incident(self, fingerprint: str) -> IncidentRow | None:
        """The newest generation of a fingerprint's incident, or the incident it was joined to."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(incidents).where(incidents.c.fingerprint == fingerprint)
                .order_by(incidents.c.generation.desc()).limit(1)
            ).first()
            if row is not None:
                return IncidentRow.from_row(row)
            alias = conn.execute(sa.select(fingerprint_aliases.c.incident_key)
                                 .where(fingerprint_aliases.c.fingerprint == fingerprint)).scalar()
            return self._incident(conn, alias) if alias else None

    def reject_grouping(self, key: str, *, similarity: Callable[[Sequence[int], Sequence[int]], float],
                        threshold: float = 0.5, source: str | None = None) -> list[str]:
        """A person said "not a repeat" on an incident: undo what grouped other failures into it.

        Fingerprints that joined it through a storm are split off (their next failure opens
        its own incident), storms no longer join it, and the incidents that looked similar to it
        are not suggested for it again.  Returns what was undone, for the sync summary.
        """
        undone: list[str] = []
        row = self.incident(key)
        if row is None:
            return undone
        with self.engine.begin() as conn:
            joined = conn.execute(sa.select(fingerprint_aliases.c.fingerprint)
                                  .where(fingerprint_aliases.c.incident_key == key)).scalars().all()
            if joined:
                conn.execute(fingerprint_aliases.delete().where(fingerprint_aliases.c.incident_key == key))
                undone += [f"split {fp[:12]}" for fp in joined]
            _insert_ignore(conn, overrides, {"fingerprint": row.fingerprint, "kind": "no_storm",
                                             "value": "1", "source": source, "recorded_at": utc_now()},
                           ["fingerprint", "kind", "value"])
            signature = conn.execute(sa.select(incidents.c.signature)
                                     .where(incidents.c.key == key)).scalar()
        if signature:
            from ..fingerprint import bands as lsh_bands

            sig = json.loads(signature)
            for similar in self.similar_incidents(sig, lsh_bands(sig), similarity=similarity,
                                                  exclude=key, threshold=threshold, limit=20):
                self.add_override(row.fingerprint, "not_similar", similar.incident, source=source)
                undone.append(f"not similar to {similar.incident}")
        return undone

    def make_all_due(self) -> int:
        """Make waiting grouped comments due now (``scribe flush --all``, the end of a storm)."""
        with self.engine.begin() as conn:
            return conn.execute(
                outbox.update().where(outbox.c.status == "pending").values(not_before=0.0)
            ).rowcount

    def outbox_messages(self, *, status: str | None = None, incident: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(outbox).order_by(outbox.c.id)
        if status:
            query = query.where(outbox.c.status == status)
        if incident:
            query = query.where(outbox.c.incident_key == incident)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all()
        return {status: count for status, count in rows}

    def next_due(self) -> float | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.min(outbox.c.not_before)).where(outbox.c.status == "pending")
            ).scalar()

    # ---------------------------------------------------------------- input profiles

    def save_profile(self, path: str, profile: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(input_profiles.insert().values(
                path=path, recorded_at=utc_now(), profile=json.dumps(profile, sort_keys=True)))
            # Keep the last few profiles per path: enough for "the usual size", never a log.
            old = conn.execute(
                sa.select(input_profiles.c.id).where(input_profiles.c.path == path)
                .order_by(input_profiles.c.id.desc()).offset(20)
            ).scalars().all()
            if old:
                conn.execute(input_profiles.delete().where(input_profiles.c.id.in_(old)))

    def profiles(self, path: str, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(input_profiles.c.profile, input_profiles.c.recorded_at)
                .where(input_profiles.c.path == path)
                .order_by(input_profiles.c.id.desc()).limit(limit)
            ).all()
        return [{**json.loads(r.profile), "recorded_at": r.recorded_at} for r in rows]


# -------------------------------------------------------------------- helpers


def _make_engine(url: str) -> sa.Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transactions into our own hands (pysqlite's implicit BEGIN is deferred,
            # which lets two writers read the same state and then collide).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 60000")
            if database and database != ":memory:":
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)


def _insert_ignore(conn: sa.Connection, table: sa.Table, values: dict[str, Any],
                   conflict: list[str]) -> bool:
    """INSERT that quietly does nothing on a unique conflict; True if a row was inserted."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
        # sqlite3's rowcount is exact for one INSERT (0 when the conflict skipped it), and
        # SQLAlchemy 1.4 (the one Airflow 2.x pins) cannot compile RETURNING for SQLite.
        return conn.execute(stmt).rowcount == 1
    else:  # pragma: no cover - other databases fall back to a savepoint
        try:
            with conn.begin_nested():
                conn.execute(table.insert().values(**values))
            return True
        except sa.exc.IntegrityError:
            return False
    # rowcount is unreliable for INSERT .. ON CONFLICT across drivers (psycopg reports -1);
    # a RETURNING row is the portable answer to "did this insert a row".
    stmt = stmt.returning(*[table.c[name] for name in conflict])
    return conn.execute(stmt).first() is not None


def _iso_before(iso: str, seconds: float) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        moment = datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment.astimezone(timezone.utc) - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _safe_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for messages
        return "<store url>"


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(url: str | None = None) -> Store:
    """One :class:`Store` per URL per process (engines are expensive and thread-safe)."""
    url = url or os.environ.get("SCRIBE_STORE_URL") or default_store_url()
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is None:
            store = Store(url)
            _STORES[url] = store
        return store


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return _safe_url(url)
