"""Storms, flaky tasks and triage decisions, at the store level (both backends)."""

from __future__ import annotations

from postmortem_scribe.correlate import is_flaky, storm_key
from postmortem_scribe.records import Classification, ExceptionInfo, FailureRecord, Fingerprint
from postmortem_scribe.store import NewMessage, Store


def failure(key: str, fp: str, *, category: str, message: str, pipeline: str = "p",
            task: str = "t", at: str = "2026-11-27T10:00:00+00:00") -> FailureRecord:
    record = FailureRecord(pipeline=pipeline, task=task, orchestrator="airflow", occurrence_key=key,
                           run_id=key, detected_at=at,
                           exceptions=[ExceptionInfo("OperationalError", message)])
    record.classification = Classification(category=category, confidence=0.9)
    record.fingerprint = Fingerprint(key=fp, basis="test", signature=[1], normalized_message=message)
    return record


def render(correlation, incident):
    if correlation.kind == "new":
        return [NewMessage(kind="open", title="t", body="draft")]
    return [NewMessage(kind="comment", body=f"storm={correlation.storm}")]


def put(store: Store, record: FailureRecord, **kw):
    return store.record_occurrence(record, render=render, render_digest=lambda i, e: "digest",
                                   storm_key=storm_key(record), **kw)


REFUSED = ('could not connect to server: Connection refused\n\tIs the server running on host '
           '"warehouse.internal" (10.0.0.5) and accepting TCP/IP connections on port 5432?')


def test_storm_keys_name_the_cause_or_nothing() -> None:
    a = failure("a", "1" * 32, category="connectivity", message=REFUSED)
    assert storm_key(a).startswith("connectivity|") and storm_key(a).endswith("|warehouse.internal:5432")
    b = failure("b", "2" * 32, category="external_service",
                message="HTTPSConnectionPool(host='api.vendor.com', port=443): Max retries exceeded (503)")
    assert storm_key(b).endswith("|api.vendor.com:443")
    vague = failure("c", "3" * 32, category="connectivity", message="Connection reset by peer")
    assert storm_key(vague) is None  # no target, no storm: a false merge hides a problem
    not_storm = failure("d", "4" * 32, category="data_format", message=REFUSED)
    assert storm_key(not_storm) is None
    upstream = failure("e", "5" * 32, category="upstream",
                       message="Upstream task 'extract_orders' failed; skipping")
    assert storm_key(upstream).endswith("|upstream:extract_orders")


def test_a_storm_across_pipelines_is_one_incident(store_url: str) -> None:
    store = Store(store_url)
    results = [
        put(store, failure(f"o{i}", f"{i:032x}", category="connectivity", message=REFUSED,
                           pipeline=f"dag_{i % 7}", task=f"task_{i}",
                           at=f"2026-11-27T10:{i:02d}:00+00:00"))
        for i in range(1, 13)
    ]
    assert results[0].correlation.kind == "new"
    assert all(r.correlation.kind == "repeat" and r.correlation.storm for r in results[1:])
    (incident,) = store.incidents()
    assert incident.occurrences == 12
    # A different cause at the same time stays apart.
    other = put(store, failure("x", "f" * 32, category="connectivity",
                               message=REFUSED.replace("warehouse.internal", "billing-db")))
    assert other.correlation.kind == "new"


def test_a_storm_only_joins_within_its_window(store_url: str) -> None:
    store = Store(store_url)
    put(store, failure("a", "a" * 32, category="connectivity", message=REFUSED,
                       at="2026-11-27T10:00:00+00:00"))
    late = put(store, failure("b", "b" * 32, category="connectivity", message=REFUSED,
                              at="2026-11-27T11:00:00+00:00"), storm_window_seconds=900)
    assert late.correlation.kind == "new"


def test_flaky_history() -> None:
    assert not is_flaky(["failed", "success"])
    assert is_flaky(["failed", "success", "failed", "success", "failed"])
    assert is_flaky(["retry_success", "failed"])
    assert not is_flaky(["success", "success", "failed"])


def test_a_flaky_task_is_commented_on_not_redrafted(store_url: str) -> None:
    store = Store(store_url)
    message = "Timeout reading from socket"
    first = put(store, failure("r1", "c" * 32, category="timeout", message=message))
    store.record_success(pipeline="p", task="t", run_id="r2")
    store.set_status(first.correlation.incident, "closed")
    put(store, failure("r3", "c" * 32, category="timeout", message=message))  # regression
    store.record_success(pipeline="p", task="t", run_id="r4")
    flaky_again = put(store, failure("r5", "c" * 32, category="timeout", message=message))
    assert flaky_again.correlation.flaky
    incident = store.incident(flaky_again.correlation.incident)
    assert incident.flaky
    store.set_status(incident.key, "closed")
    after_close = put(store, failure("r6", "c" * 32, category="timeout", message=message))
    assert after_close.correlation.incident == incident.key  # no new issue for a flaky task
    assert store.incident(incident.key).status == "open"


def test_overrides_are_remembered(store_url: str) -> None:
    store = Store(store_url)
    store.add_override("d" * 32, "category", "auth", source="issue #3")
    store.add_override("d" * 32, "category", "config_env", source="issue #3")
    store.add_override("d" * 32, "not_similar", "abc123")
    assert store.overrides_for("d" * 32) == {"category": ["config_env"], "not_similar": ["abc123"]}
