"""``scribe sync`` and the single-incident refresh: GitHub's state of our issues in the store."""

from __future__ import annotations

from github_fake import DEFAULT_TOKEN, FakeGitHub
from github_fake.fixtures import github, store  # noqa: F401
from github_fake.scenario import Drafts, flush, forget_delivery, make_publisher, record

from postmortem_scribe.config import Config
from postmortem_scribe.publish.github.sync import refresh_incident, sync


def config_for(fake: FakeGitHub) -> Config:
    return Config(github_repo=fake.full_name, github_token=DEFAULT_TOKEN, github_api_url=fake.api_url)


def opened(fake: FakeGitHub, store, name: str = "bad-csv") -> tuple[str, int]:
    publisher = make_publisher(fake)
    outcome = record(store, name)
    flush(store, publisher)
    row = store.incident(outcome.incident.key)
    return row.key, row.issue_number


def test_sync_reads_closed_reopened_labels_and_assignee(github: FakeGitHub, store) -> None:
    key_a, issue_a = opened(github, store, "a")
    key_b, issue_b = opened(github, store, "b")
    github.close_issue(issue_a)
    github.close_issue(issue_b)
    github.reopen_issue(issue_b)
    github.assign(issue_b, "bob")
    with github.lock:
        github.issues[issue_b]["labels"].append("triaged")
        github.add_label("triaged")

    result = sync(store, config_for(github), publisher=make_publisher(github))

    assert result.ok, result.errors
    assert result.closed == [key_a] and result.reopened == []
    a, b = store.incident(key_a), store.incident(key_b)
    assert a.status == "closed" and a.issue_state == "closed"
    assert b.status == "open" and b.issue_state == "reopened"
    assert b.lead == "bob"
    assert "triaged" in b.labels
    assert result.checked == 2
    assert "closed: " + key_a in result.summary()


def test_closed_then_synced_incident_turns_the_next_failure_into_a_regression(github: FakeGitHub,
                                                                              store) -> None:
    key, number = opened(github, store)
    github.close_issue(number)
    sync(store, config_for(github), publisher=make_publisher(github))

    again = record(store, run_id="run-2")

    assert again.correlation.kind == "regression"
    assert again.correlation.previous_issue_url == github.issue(number)["html_url"]


def test_sync_finds_an_issue_the_store_lost_after_a_crash(github: FakeGitHub, store) -> None:
    key, number = opened(github, store)
    forget_delivery(store, store.outbox_messages(incident=key)[0]["id"], key)
    store.mark_sent(store.outbox_messages(incident=key)[0]["id"], url=None)  # nothing to redo

    result = sync(store, config_for(github), publisher=make_publisher(github))

    assert result.linked == [key]
    assert store.incident(key).issue_number == number


def test_sync_fetches_an_issue_that_lost_our_label(github: FakeGitHub, store) -> None:
    key, number = opened(github, store)
    with github.lock:
        github.issues[number]["labels"] = []  # a person removed "postmortem"
    github.close_issue(number)

    result = sync(store, config_for(github), publisher=make_publisher(github))

    assert store.incident(key).status == "closed"
    assert result.closed == [key]
    assert github.requests_to("GET", rf"/issues/{number}$")


def test_sync_does_not_undo_a_reopen_still_in_the_outbox(github: FakeGitHub, store) -> None:
    key, number = opened(github, store)
    github.close_issue(number)
    sync(store, config_for(github), publisher=make_publisher(github))
    again = record(store, run_id="run-2", regression_mode="reopen", drafts=_ReopenDrafts())
    assert again.correlation.kind == "regression" and store.incident(key).status == "open"

    sync(store, config_for(github), publisher=make_publisher(github))  # GitHub still says closed

    assert store.incident(key).status == "open"


class _ReopenDrafts(Drafts):
    def render(self, correlation, row):
        from postmortem_scribe.store import NewMessage

        return [NewMessage(kind="reopen", body=""), NewMessage(kind="comment", body="back again")]


def test_refresh_incident_uses_one_conditional_get(github: FakeGitHub, store) -> None:
    key, number = opened(github, store)
    config, publisher = config_for(github), make_publisher(github)

    first = refresh_incident(store, config, key, publisher=publisher)
    assert first.error is None and first.calls == 1 and not first.not_modified
    assert store.incident(key).issue_etag

    second = refresh_incident(store, config, key, publisher=publisher)
    assert second.not_modified and second.calls == 1 and not second.changed

    github.close_issue(number)
    third = refresh_incident(store, config, key, publisher=publisher)
    assert third.changed and third.incident.status == "closed"
    gets = github.requests_to("GET", rf"/issues/{number}$")
    assert [c.status for c in gets] == [200, 304, 200]
    assert gets[1].if_none_match == gets[2].if_none_match


def test_refresh_and_sync_never_raise_when_github_is_down(github: FakeGitHub, store) -> None:
    key, _ = opened(github, store)
    github.stop()
    config, publisher = config_for(github), make_publisher(github)

    refreshed = refresh_incident(store, config, key, publisher=publisher)
    synced = sync(store, config, publisher=publisher)

    assert "could not reach" in refreshed.error and refreshed.incident.key == key
    assert not synced.ok and "could not reach" in synced.errors[0]
    assert refresh_incident(store, config, "no-such-incident").error == "no incident 'no-such-incident' in the store"
