"""The incident store on SQLite and PostgreSQL: correlation, the outbox, concurrency, upgrades."""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa

from postmortem_scribe.records import Classification, Fingerprint, FailureRecord
from postmortem_scribe.store import NewMessage, Store


def make_record(key: str, fp: str = "f" * 32, *, run: str = "r1", task: str = "t") -> FailureRecord:
    record = FailureRecord(pipeline="p", task=task, orchestrator="python", occurrence_key=key,
                           run_id=run, detected_at="2026-11-27T00:00:00+00:00")
    record.classification = Classification(category="data_format", confidence=0.9)
    record.fingerprint = Fingerprint(key=fp, basis="test", signature=[1, 2, 3],
                                     normalized_message="msg")
    return record


def open_msg(correlation, incident):
    if correlation.kind in ("new", "regression") and incident.occurrences == 1:
        return [NewMessage(kind="open", title="t", body=f"draft {incident.key}")]
    return [NewMessage(kind="comment", body=f"again {correlation.occurrences}")]


def digest(incident, entries):
    return f"digest of {len(entries)}"


def record(store: Store, rec: FailureRecord, **kw):
    return store.record_occurrence(rec, render=open_msg, render_digest=digest, **kw)


def test_new_then_repeat_then_duplicate(store_url: str) -> None:
    store = Store(store_url)
    first = record(store, make_record("k1"))
    assert first.correlation.kind == "new"
    second = record(store, make_record("k2", run="r2"))
    assert second.correlation.kind == "repeat"
    assert second.correlation.incident == first.correlation.incident
    assert second.correlation.occurrences == 2
    again = record(store, make_record("k2", run="r2"))
    assert again.correlation.kind == "duplicate"
    assert store.incident(first.correlation.incident).occurrences == 2
    kinds = [m["kind"] for m in store.outbox_messages()]
    assert kinds == ["open", "comment"]
    assert store.is_reported("k1") and not store.is_reported("nope")
    assert sorted(store.reported_in_run("python", "r2")) == ["k2"]


def test_comments_are_coalesced_within_the_window(store_url: str) -> None:
    store = Store(store_url)
    now = 1_000_000.0
    record(store, make_record("a0"), now=now)
    outcomes = [record(store, make_record(f"a{i}", run=f"r{i}"), now=now + i)
                for i in range(1, 50)]
    assert not outcomes[0].coalesced and all(o.coalesced for o in outcomes[1:])
    messages = store.outbox_messages()
    assert [m["kind"] for m in messages] == ["open", "comment", "comment"]
    assert messages[-1]["body"] == "digest of 48"
    assert messages[-1]["not_before"] == pytest.approx(now + 1 + 600)
    # The digest is not due before its window ends; the issue and first comment are.
    due = store.claim_due(now=now + 100, limit=10)
    assert [m.kind for m in due] == ["open"]  # one per incident at a time, in order


def test_regression_opens_a_new_generation(store_url: str) -> None:
    store = Store(store_url)
    first = record(store, make_record("x1"))
    store.set_status(first.correlation.incident, "closed")
    second = record(store, make_record("x2", run="r2"))
    assert second.correlation.kind == "regression"
    assert second.correlation.previous_incident == first.correlation.incident
    assert second.correlation.incident != first.correlation.incident
    assert store.incident(second.correlation.incident).previous_key == first.correlation.incident
    third = record(store, make_record("x3", run="r3"))
    assert third.correlation.kind == "repeat"
    assert third.correlation.incident == second.correlation.incident


def test_regression_mode_comment_reopens_the_same_incident(store_url: str) -> None:
    store = Store(store_url)
    first = record(store, make_record("y1"))
    store.set_status(first.correlation.incident, "closed")
    second = record(store, make_record("y2", run="r2"), regression_mode="comment")
    assert second.correlation.kind == "regression"
    assert second.correlation.incident == first.correlation.incident
    assert store.incident(first.correlation.incident).status == "open"


def test_claim_leases_and_retries(store_url: str) -> None:
    store = Store(store_url)
    record(store, make_record("m1"))
    (msg,) = store.claim_due(limit=5)
    assert store.claim_due(limit=5) == []  # leased to us
    store.mark_retry(msg.id, delay=0.0, error="boom")
    (again,) = store.claim_due(limit=5)
    assert again.id == msg.id and again.attempts == 2
    store.mark_sent(again.id, url="https://example.test/1")
    assert store.claim_due(limit=5) == []
    assert store.outbox_counts() == {"sent": 1}


def _report_in_process(args: tuple[str, int]) -> str:
    url, n = args
    store = Store(url)
    result = record(store, make_record(f"proc-{n}", run=f"run-{n}"))
    store.dispose()
    return result.correlation.kind


def test_sixteen_processes_agree_on_one_incident(store_url: str) -> None:
    Store(store_url).dispose()  # create tables once, as a deployed store would have them
    # fork: each child builds its own engine; spawn would re-import everything 16 times.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(16) as pool:
        kinds = pool.map(_report_in_process, [(store_url, n) for n in range(16)])
    assert sorted(kinds).count("new") == 1
    store = Store(store_url)
    (incident,) = store.incidents()
    assert incident.occurrences == 16
    opens = [m for m in store.outbox_messages() if m["kind"] == "open"]
    assert len(opens) == 1


def test_newer_store_is_refused_with_a_clear_message(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("update scribe_meta set value='99' where key='version'"))
    store.dispose()
    with pytest.raises(RuntimeError, match="newer postmortem-scribe"):
        Store(url)


def test_upgrade_in_place_keeps_incidents(tmp_path, monkeypatch) -> None:
    from postmortem_scribe.store import schema

    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store(url)
    first = record(store, make_record("u1"))
    store.dispose()

    def add_column(conn: sa.Connection) -> None:
        conn.execute(sa.text("ALTER TABLE scribe_incidents ADD COLUMN team TEXT"))

    monkeypatch.setattr(schema, "STORE_VERSION", schema.STORE_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.STORE_VERSION, add_column)
    upgraded = Store(url)
    assert upgraded.version() == schema.STORE_VERSION
    assert upgraded.incident(first.correlation.incident).occurrences == 1
    with upgraded.engine.connect() as conn:
        cols = [r[1] for r in conn.execute(sa.text("PRAGMA table_info(scribe_incidents)"))]
    assert "team" in cols


def test_profiles_keep_the_latest(store_url: str) -> None:
    store = Store(store_url)
    for i in range(25):
        store.save_profile("/data/x.csv", {"size": i})
    profiles = store.profiles("/data/x.csv", limit=100)
    assert len(profiles) == 20 and profiles[0]["size"] == 24


def test_incident_lookup_by_prefix(store_url: str) -> None:
    store = Store(store_url)
    first = record(store, make_record("p1", fp="abcdef123456" + "0" * 20))
    assert store.incident("abcdef").key == first.correlation.incident
    assert store.incident("zzz") is None
