"""The flow of one failure through the stages: capture, scrub, classify, fingerprint, correlate,
route, render, publish.  Each stage is its own module; this one only wires them together.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from . import classify as classify_stage
from . import fingerprint as fingerprint_stage
from .build import build_record
from .config import Config
from .correlate import storm_key
from .publish import make_publisher
from .publish.outbox import DrainResult, drain
from .records import Correlation, FailureContext, FailureRecord, Outcome, Route
from .render import renderer
from .route import route as route_stage
from .scrub import Scrubber, registered_secrets
from .store import DigestEntry, IncidentRow, NewMessage, Store, open_store

log = logging.getLogger("postmortem_scribe")


@dataclass
class Processed:
    """A failure taken through every stage up to (not including) the store."""

    record: FailureRecord
    route: Route


def process(ctx: FailureContext, config: Config, *, deadline: float | None = None,
            store: Store | None = None) -> Processed:
    """Capture, scrub, classify, fingerprint and route one failure; no side effects."""
    profiles = store.profiles if store is not None else None
    record = build_record(ctx, config, deadline=deadline, profiles=profiles)
    secrets = list(ctx.secrets)
    if config.github_token:
        secrets.append(config.github_token)
    scrubber = Scrubber(extra_secrets=secrets, extra_key_names=config.secret_key_names)
    record = scrubber.record(record)
    record.capture_problems.extend(config.problems)
    rules = classify_stage.load_rules(config.classification_rules)
    record.classification = classify_stage.classify(record, rules)
    record.fingerprint = fingerprint_stage.fingerprint(record)
    return Processed(record=record, route=route_stage(record, config))


def handle(ctx: FailureContext, config: Config, *, deadline: float) -> Outcome:
    """Everything for one failure; returns what happened.  May raise; :func:`report` guards."""
    store = open_store(config.store_url)
    key = ctx.occurrence_key()
    if store.is_reported(key):
        return Outcome(action="duplicate", message=f"occurrence {key} was already reported")
    processed = process(ctx, config, deadline=deadline, store=store)
    record, route = processed.record, processed.route
    fp = record.fingerprint
    assert fp is not None
    decided = store.overrides_for(fp.key)
    apply_triage(record, decided)
    if record.classification and decided.get("category"):
        route = route_stage(record, config)
    bands = fingerprint_stage.bands(fp.signature) if fp.signature else []
    similar = []
    if bands:
        rejected = set(decided.get("not_similar", []))
        similar = store.similar_incidents(
            fp.signature, bands, similarity=fingerprint_stage.similarity,
            threshold=config.similar_threshold, exclude=None)
        similar = [s for s in similar
                   if not s.incident.startswith(fp.key[:12]) and s.incident not in rejected]

    def render_new(correlation: Correlation, incident: IncidentRow) -> list[NewMessage]:
        correlation.similar = similar if correlation.kind == "new" else []
        if correlation.kind in ("new", "regression") and incident.occurrences == 1:
            draft = renderer.render_draft(record, correlation, route, config)
            return [NewMessage(kind="open", title=draft.title, body=draft.body,
                               labels=draft.labels, assignees=draft.assignees)]
        body = renderer.render_comment(record, correlation, route, config)
        messages = [NewMessage(kind="comment", body=body)]
        if correlation.kind == "regression" and config.regression_mode == "reopen":
            messages.insert(0, NewMessage(kind="reopen", body=""))
        return messages

    def render_digest(incident: IncidentRow, entries: list[DigestEntry]) -> str:
        return renderer.render_digest(incident.key, incident.occurrences, entries, config)

    title = renderer.render_title(record)
    result = store.record_occurrence(
        record,
        regression_mode=config.regression_mode,
        comment_window_seconds=config.comment_window_seconds,
        render=render_new,
        render_digest=render_digest,
        bands=bands,
        lead=route.lead,
        title=title,
        labels=renderer.draft_labels(record, Correlation(kind="new", incident=""), route, config),
        storm_key=storm_key(record),
        storm_window_seconds=config.storm_window_seconds,
    )
    correlation = result.correlation
    category = record.classification.category if record.classification else None
    if correlation.kind == "duplicate":
        return Outcome(action="duplicate", incident=correlation.incident or None,
                       category=category, fingerprint=fp.key,
                       message=f"occurrence {key} was already reported")

    delivered = deliver_pending(store, config, deadline=deadline)
    incident = store.incident(correlation.incident)
    pending = [m for m in store.outbox_messages(status="pending", incident=correlation.incident)]
    url = incident.issue_url if incident else None
    local = config.github_repo is None
    if result.coalesced:
        action = "recorded"
        message = (f"repeat #{correlation.occurrences} of incident {correlation.incident}; "
                   "it will be summarised in the next grouped comment")
    elif pending and not _due_later(pending):
        action = "queued"
        errors = "; ".join(dict.fromkeys(delivered.errors)) or "out of time"
        message = f"stored in the outbox; delivery will be retried by `scribe flush` ({errors})"
    else:
        action = {"new": "opened", "repeat": "commented", "regression": "regression"}[correlation.kind]
        message = _describe(action, correlation, url, local)
    return Outcome(action=action, incident=correlation.incident, issue_url=None if local else url,
                   path=url if local else None, category=category, fingerprint=fp.key,
                   message=message)


def apply_triage(record: FailureRecord, decided: dict[str, list[str]]) -> None:
    """A category a person set on an earlier issue of this failure beats the rules."""
    categories = decided.get("category")
    if not categories or record.classification is None:
        return
    from .records import Evidence

    cls = record.classification
    if cls.category != categories[0]:
        cls.alternatives = [(cls.category, cls.confidence), *cls.alternatives][:3]
    cls.category = categories[0]
    cls.confidence = 1.0
    cls.low_confidence = False
    cls.evidence.insert(0, Evidence(rule="triage", source="people",
                                    text="a person set this category while triaging an earlier "
                                         "occurrence of this failure"))


def _due_later(pending: list[dict]) -> bool:
    """Pending only because a grouped comment waits for its window, not because delivery failed."""
    return all(m.get("digest") and m["not_before"] > time.time() for m in pending)


def _describe(action: str, correlation: Correlation, url: str | None, local: bool) -> str:
    where = f"draft written to {url}" if local else f"issue {url}"
    if action == "commented":
        where = f"comment added to {url}" if local else f"comment on issue {url}"
    if action == "opened":
        return f"new incident {correlation.incident}: {where}"
    if action == "regression":
        return (f"regression of closed incident {correlation.previous_incident}: "
                f"new incident {correlation.incident}, {where}")
    return f"repeat #{correlation.occurrences} of incident {correlation.incident}: {where}"


def deliver_pending(store: Store, config: Config, *, deadline: float | None,
                    max_messages: int | None = None) -> DrainResult:
    publisher = make_publisher(config)

    def recurrence(incident: IncidentRow) -> str:
        return renderer.recurrence_text(incident.occurrences, incident.first_seen, incident.last_seen)

    return drain(store, publisher, deadline=deadline, max_messages=max_messages,
                 recurrence=recurrence)


__all__ = ["Processed", "deliver_pending", "handle", "process", "registered_secrets"]
