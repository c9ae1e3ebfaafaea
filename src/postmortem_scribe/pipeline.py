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
from .records import (
    Correlation,
    FailureContext,
    FailureRecord,
    Fingerprint,
    Outcome,
    Route,
    Similar,
)
from .render import renderer
from .route import route as route_stage
from .scrub import Scrubber
from .store import DigestEntry, IncidentRow, NewMessage, OccurrenceResult, Store, open_store

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
    similar = similar_past_incidents(store, fp, bands, decided, config)

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
        return renderer.render_digest(incident.key, incident.occurrences, entries, config,
                                      flaky=incident.flaky)

    refresh_from_github(store, config, fp.key, deadline)
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

    add_labels(store, correlation)
    delivered = deliver_pending(store, config, deadline=deadline)
    incident = store.incident(correlation.incident)
    url = incident.issue_url if incident else None
    local = config.github_repo is None
    action, message = _outcome(store, correlation, result, delivered, url, local)
    return Outcome(action=action, incident=correlation.incident, issue_url=None if local else url,
                   path=url if local else None, category=category, fingerprint=fp.key,
                   message=message)


def add_labels(store: Store, correlation: Correlation) -> None:
    """Label the issue for what this occurrence revealed: a repeat, a regression, a flaky task.

    Labels are what triagers filter on; each is added once (also when the occurrence itself was
    folded into a grouped comment) and never removed by us.
    """
    incident = store.incident(correlation.incident)
    if incident is None:
        return
    wanted = [label for label, due in (
        ("repeat-failure", correlation.kind == "repeat" and not correlation.storm),
        ("regression", correlation.kind == "regression"),
        ("flaky", correlation.flaky or incident.flaky),
    ) if due and label not in incident.labels]
    if not wanted:
        return
    store.enqueue(incident.key, NewMessage(kind="update", body="", labels=wanted))
    store.update_incident(incident.key, labels=[*incident.labels, *wanted])


def similar_past_incidents(store: Store, fp: Fingerprint, bands: list[str],
                           decided: dict[str, list[str]], config: Config) -> list[Similar]:
    """Near repeats for a person to confirm: other incidents sharing LSH bands, best first,
    minus the fingerprint's own generations and pairs a person rejected."""
    if not bands:
        return []
    rejected = set(decided.get("not_similar", []))
    found = store.similar_incidents(fp.signature, bands, similarity=fingerprint_stage.similarity,
                                    threshold=config.similar_threshold)
    return [s for s in found if not s.incident.startswith(fp.key[:12]) and s.incident not in rejected]


def _outcome(store: Store, correlation: Correlation, result: OccurrenceResult,
             delivered: DrainResult, url: str | None, local: bool) -> tuple[str, str]:
    """What this occurrence's own messages became (not other occurrences' messages)."""
    if result.coalesced or not result.messages:
        return "recorded", (f"repeat #{correlation.occurrences} of incident {correlation.incident}; "
                            "it will be summarised in the next grouped comment")
    mine = {m["id"]: m for m in store.outbox_messages(incident=correlation.incident)
            if m["id"] in result.messages}
    failed = [m for m in mine.values() if m["status"] == "failed"]
    waiting = [m for m in mine.values() if m["status"] == "pending"]
    if failed:
        return "queued", ("kept in the outbox, but delivery was refused: "
                          + "; ".join(dict.fromkeys(m["last_error"] or "unknown error" for m in failed))
                          + "; fix the cause, then run `scribe flush --retry-failed`")
    if waiting:
        reasons = "; ".join(dict.fromkeys(m["last_error"] for m in waiting if m["last_error"]))
        return "queued", ("stored in the outbox; `scribe flush` (or the next report) delivers it"
                          + f" ({reasons or 'out of time'})")
    action = {"new": "opened", "repeat": "commented", "regression": "regression"}[correlation.kind]
    message = _describe(action, correlation, url, local)
    if delivered.notes:
        message += " (" + "; ".join(dict.fromkeys(delivered.notes)) + ")"
    return action, message


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


REFRESH_SECONDS = 3.0
REFRESH_INTERVAL_SECONDS = 60.0
"""An incident's issue is re-read at most this often per process: a storm of 200 failures costs
one conditional GET, not 200 (a 304 is free against the rate limit, but still a request)."""
_refreshed: dict[str, float] = {}


def refresh_from_github(store: Store, config: Config, fingerprint: str, deadline: float) -> None:
    """Judge repeat or regression on the issue's current state: one conditional GET (ETag).

    A person may have closed or reopened the issue since the last ``scribe sync``; a 304 costs
    nothing against the rate limit.  Best effort and bounded: on any problem the stored state is
    used.
    """
    if not config.github_repo:
        return
    incident = store.latest_incident(fingerprint)
    if incident is None or incident.issue_number is None:
        return
    now = time.monotonic()
    if now - _refreshed.get(incident.key, -REFRESH_INTERVAL_SECONDS) < REFRESH_INTERVAL_SECONDS:
        return
    _refreshed[incident.key] = now
    try:
        from .publish.github.sync import refresh_incident

        refresh_incident(store, config, incident.key,
                         deadline=min(deadline, time.monotonic() + REFRESH_SECONDS))
    except Exception:  # noqa: BLE001 - a stale state is better than no report
        log.debug("refreshing incident %s from GitHub failed", incident.key, exc_info=True)


def deliver_pending(store: Store, config: Config, *, deadline: float | None,
                    max_messages: int | None = None) -> DrainResult:
    publisher = make_publisher(config)

    def recurrence(incident: IncidentRow) -> str:
        return renderer.recurrence_text(incident.occurrences, incident.first_seen, incident.last_seen)

    return drain(store, publisher, deadline=deadline, max_messages=max_messages,
                 recurrence=recurrence)


__all__ = ["Processed", "deliver_pending", "handle", "process"]
