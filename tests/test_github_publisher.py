"""GitHubPublisher against the fake GitHub: issues, comments, labels, assignees, exactly once.

Every exchange is checked against GitHub's OpenAPI description by the ``github`` fixture.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading

import pytest

from github_fake import DEFAULT_TOKEN, FakeGitHub
from github_fake.fixtures import assert_contract, github, sqlite_store, store  # noqa: F401
from github_fake.scenario import (
    Drafts,
    SimClock,
    flush,
    forget_delivery,
    make_due,
    make_publisher,
    record,
)

from postmortem_scribe.config import Config
from postmortem_scribe.publish.base import RECURRENCE_END, RECURRENCE_START, OutboxMessage
from postmortem_scribe.publish.github import GitHubPublisher
from postmortem_scribe.publish.github.publisher import unassignable_leads, utf16_len
from postmortem_scribe.publish.marker import find_incident, incident_marker, message_marker
from postmortem_scribe.store import utc_now


def open_message(incident: str = "abc123", *, id: int = 1, attempts: int = 1, body: str | None = None,
                 labels: list[str] | None = None, assignees: list[str] | None = None,
                 title: str = "Post-mortem draft: daily_sales.load failed") -> OutboxMessage:
    return OutboxMessage(
        id=id, incident=incident, kind="open", title=title,
        body=body if body is not None else f"{incident_marker(incident)}\nLead: @alice\n\n"
        f"{RECURRENCE_START}First occurrence.{RECURRENCE_END}\n",
        labels=labels if labels is not None else ["postmortem", "data_format"],
        assignees=assignees if assignees is not None else ["alice"],
        attempts=attempts, created_at=utc_now(),
    )


# ---------------------------------------------------------------------- new incidents


def test_new_incident_opens_one_labelled_assigned_issue(github: FakeGitHub, store) -> None:
    record(store)
    result = flush(store, make_publisher(github))

    assert result.sent == 1 and result.retrying == 0 and result.failed == 0
    incident = store.incidents()[0]
    issues = github.issues_for(incident.key)
    assert len(issues) == 1
    issue = issues[0]
    assert issue["title"] == "Post-mortem draft: daily_sales.load failed"
    assert [lab["name"] for lab in issue["labels"]] == ["postmortem", "data_format"]
    assert [a["login"] for a in issue["assignees"]] == ["alice"]
    assert find_incident(issue["body"]) == incident.key
    # Labels were created before use, with our colour and description (not GitHub's grey).
    assert github.labels["postmortem"]["color"] == "5319e7"
    assert "post-mortem" in github.labels["postmortem"]["description"]
    assert github.labels["data_format"]["description"].startswith("Input data malformed")
    # The store knows the issue, so repeats comment on it.
    assert incident.issue_number == issue["number"]
    assert incident.issue_url == issue["html_url"]
    assert result.calls == len(github.calls)


def test_second_incident_reuses_the_label_list(github: FakeGitHub, sqlite_store) -> None:
    publisher = make_publisher(github)
    record(sqlite_store, "first")
    flush(sqlite_store, publisher)
    record(sqlite_store, "second")
    flush(sqlite_store, publisher)

    assert len(github.requests_to("GET", r"/labels$")) == 1  # listed once, then cached
    assert len(github.requests_to("POST", r"/labels$")) == 2  # created once each
    assert len(github.requests_to("GET", r"/assignees/alice$")) == 1
    assert len(github.issues) == 2


def test_repeat_comments_on_the_open_issue_and_refreshes_recurrence(github: FakeGitHub, store) -> None:
    publisher = make_publisher(github)
    record(store, run_id="run-1")
    flush(store, publisher)
    record(store, run_id="run-2")
    result = flush(store, publisher)

    assert result.sent == 1
    incident = store.incidents()[0]
    assert len(github.issues) == 1
    (body,) = github.comment_bodies(incident.issue_number)
    assert "Failed again" in body
    message_id = store.outbox_messages(incident=incident.key)[-1]["id"]
    assert message_marker(message_id) in body
    issue = github.issue(incident.issue_number)
    assert f"{RECURRENCE_START}Seen 2 times" in issue["body"]


def test_burst_of_repeats_gives_at_most_one_comment_per_window(github: FakeGitHub, store) -> None:
    publisher = make_publisher(github)
    record(store, run_id="run-0", now=1000.0)
    flush(store, publisher)
    for i in range(1, 30):
        record(store, run_id=f"run-{i}", now=1000.0 + i)
    flush(store, publisher)  # the first repeat is due now, the digest waits for the window
    make_due(store)          # the window has passed
    flush(store, publisher)

    incident = store.incidents()[0]
    assert incident.occurrences == 30
    comments = github.comment_bodies(incident.issue_number)
    assert len(comments) == 2
    assert comments[1].startswith("28 more failures in this window")
    assert len(github.issues) == 1


# ---------------------------------------------------------------------- exactly once


def test_crash_between_201_and_store_write_does_not_open_a_second_issue(github: FakeGitHub, store) -> None:
    publisher = make_publisher(github)
    outcome = record(store)
    flush(store, publisher)
    message = store.outbox_messages(incident=outcome.incident.key)[0]
    forget_delivery(store, message["id"], outcome.incident.key)
    assert store.incident(outcome.incident.key).issue_number is None

    result = flush(store, publisher)

    assert result.sent == 1
    assert len(github.issues_for(outcome.incident.key)) == 1
    assert len(github.requests_to("POST", r"/issues$")) == 1
    row = store.incident(outcome.incident.key)
    assert row.issue_number == github.issues_for(outcome.incident.key)[0]["number"]


def test_lost_answer_on_a_first_attempt_is_found_too(github: FakeGitHub, sqlite_store) -> None:
    publisher = make_publisher(github)
    outcome = record(sqlite_store)
    flush(sqlite_store, publisher)
    message = sqlite_store.outbox_messages(incident=outcome.incident.key)[0]
    forget_delivery(sqlite_store, message["id"], outcome.incident.key, attempts=0)

    flush(sqlite_store, publisher)

    assert len(github.issues_for(outcome.incident.key)) == 1


def test_new_issue_not_yet_in_search_is_still_not_duplicated(sqlite_store) -> None:
    # Search lags new issues (LIMITS.md section 5); the lookup lists issues instead.
    fake = FakeGitHub(search_delay=3600).start()
    try:
        publisher = make_publisher(fake)
        outcome = record(sqlite_store)
        flush(sqlite_store, publisher)
        key = outcome.incident.key
        searched = publisher.client.get("/search/issues", params={
            "q": f'"incident={key}" repo:{fake.full_name} is:issue'})
        assert searched.data["total_count"] == 0  # search would have said "not there"
        forget_delivery(sqlite_store, sqlite_store.outbox_messages()[0]["id"], key)
        flush(sqlite_store, publisher)
        assert len(fake.issues_for(key)) == 1
    finally:
        fake.stop()
    assert_contract(fake)


def test_comment_whose_answer_was_lost_is_posted_once(github: FakeGitHub, store) -> None:
    publisher = make_publisher(github)
    record(store, run_id="run-1")
    flush(store, publisher)
    record(store, run_id="run-2")
    # GitHub stores the comment, then the connection drops before the answer arrives.
    github.drop(method="POST", path=r"/comments$", apply=True)
    first = flush(store, publisher)
    assert first.retrying == 1
    make_due(store)
    second = flush(store, publisher)

    assert second.sent == 1
    incident = store.incidents()[0]
    assert len(github.comment_bodies(incident.issue_number)) == 1
    assert len(github.requests_to("POST", r"/comments$")) == 1


def test_marker_lookup_follows_link_pagination(github: FakeGitHub) -> None:
    # 250 newer labelled issues bury ours on page 3; the lookup must follow rel="next".
    github.add_label("postmortem")
    publisher = make_publisher(github)
    assert publisher.deliver(open_message("old1")).status == "sent"
    for i in range(250):
        with github.lock:
            github._create_issue({"title": f"other {i}", "body": incident_marker(f"x{i}"),
                                  "labels": ["postmortem"]}, github.users[DEFAULT_TOKEN])
    delivery = publisher.deliver(open_message("old1", attempts=2))

    assert delivery.status == "sent" and delivery.issue_number == 1
    assert len(github.issues_for("old1")) == 1
    pages = [c for c in github.calls if c.path.startswith("/repositories/1000/issues")]
    assert len(pages) >= 2  # the next links, as GitHub writes them


# ---------------------------------------------------------------------- assignees and labels


def test_unassignable_lead_still_gets_an_issue_that_names_them(github: FakeGitHub, store) -> None:
    record(store, drafts=Drafts(lead="zed"))
    result = flush(store, make_publisher(github))

    assert result.sent == 1
    (issue,) = github.issues.values()
    data = github.issue(issue["number"])
    assert data["assignees"] == []
    assert "@zed" in data["body"] and "could not be assigned" in data["body"]
    assert "zed" in unassignable_leads(github.full_name)
    assert len(github.requests_to("POST", r"/issues$")) == 1  # no 422 round trip


def test_lead_who_lost_access_after_the_check_gets_an_unassigned_issue(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    assert publisher.deliver(open_message("first", id=1)).status == "sent"  # alice checked: 204
    github.collaborators.discard("alice")  # access removed; the 204 is still cached

    delivery = publisher.deliver(open_message("second", id=2))

    assert delivery.status == "sent"
    assert "cannot be assigned" in delivery.error
    issue = github.issues_for("second")
    assert len(issue) == 1 and issue[0]["assignees"] == []
    assert [c.status for c in github.requests_to("POST", r"/issues$")] == [201, 422, 201]


def test_silent_drops_without_push_access_are_reported(github: FakeGitHub, caplog) -> None:
    github.add_token("ghp_readonly_0000000000000000000000000000", "reader", push=False)
    publisher = make_publisher(github, token="ghp_readonly_0000000000000000000000000000")
    with caplog.at_level(logging.WARNING, logger="postmortem_scribe.github"):
        delivery = publisher.deliver(open_message("ro1"))

    assert delivery.status == "sent"
    assert "silently dropped the labels postmortem, data_format" in delivery.error
    assert "silently dropped the assignees alice" in delivery.error
    assert "silently dropped" in caplog.text
    # A retry must still find the issue although it lacks our label.
    again = publisher.deliver(open_message("ro1", attempts=2))
    assert again.status == "sent" and again.issue_number == delivery.issue_number
    assert len(github.issues_for("ro1")) == 1


def test_concurrent_label_creation_by_another_process_is_fine(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    publisher._known_labels = set()  # believes nothing exists (listed before the other process)
    github.add_label("postmortem", "5319e7", "created by another process")

    delivery = publisher.deliver(open_message("race"))

    assert delivery.status == "sent" and not delivery.error
    assert github.labels["postmortem"]["description"] == "created by another process"


def test_overlong_label_is_left_out_with_a_note(github: FakeGitHub) -> None:
    delivery = make_publisher(github).deliver(open_message("lbl", labels=["postmortem", "x" * 51]))

    assert delivery.status == "sent"
    assert "at most 50 characters" in delivery.error
    assert [lab["name"] for lab in github.issues_for("lbl")[0]["labels"]] == ["postmortem"]


def test_title_and_body_are_kept_within_github_limits(github: FakeGitHub) -> None:
    body = "🔥" * 40000  # 80000 UTF-16 units; GitHub would refuse it
    delivery = make_publisher(github).deliver(open_message("big", title="T" * 300, body=body))

    assert delivery.status == "sent"
    (issue,) = github.issues_for("big")
    assert len(issue["title"]) <= 256 and issue["title"].endswith("…")
    assert utf16_len(issue["body"]) <= 65536
    assert find_incident(issue["body"]) == "big"


def test_marker_is_added_when_a_template_forgot_it(github: FakeGitHub) -> None:
    make_publisher(github).deliver(open_message("nomark", body="A custom template without marker"))
    (issue,) = github.issues_for("nomark")
    assert issue["body"].startswith(incident_marker("nomark"))


# ---------------------------------------------------------------------- comment, reopen, update


def _opened(github: FakeGitHub, publisher: GitHubPublisher, incident: str = "inc1") -> int:
    delivery = publisher.deliver(open_message(incident))
    assert delivery.status == "sent"
    return delivery.issue_number


def test_recurrence_patch_is_skipped_when_unchanged(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    number = _opened(github, publisher)
    comment = OutboxMessage(id=7, incident="inc1", kind="comment", body="again", issue_number=number,
                            attempts=1, recurrence="First occurrence.")
    assert publisher.deliver(comment).status == "sent"
    assert github.requests_to("PATCH", r"/issues/\d+$") == []

    comment2 = OutboxMessage(id=8, incident="inc1", kind="comment", body="again", issue_number=number,
                             attempts=1, recurrence="Seen 3 times.")
    assert publisher.deliver(comment2).status == "sent"
    assert len(github.requests_to("PATCH", r"/issues/\d+$")) == 1
    assert f"{RECURRENCE_START}Seen 3 times.{RECURRENCE_END}" in github.issue(number)["body"]


def test_issue_is_read_with_a_conditional_get(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    number = _opened(github, publisher)
    # A comment changes the issue (and its ETag); recurrence-only updates do not.
    for i in range(2):
        publisher.deliver(OutboxMessage(id=10 + i, incident="inc1", kind="update",
                                        issue_number=number, attempts=1,
                                        recurrence="First occurrence."))
    gets = github.requests_to("GET", rf"/issues/{number}$")
    # The ETag of the create answer already serves: nothing changed, nothing counted.
    assert [c.status for c in gets] == [304, 304]
    assert all(c.if_none_match for c in gets)
    assert github.requests_to("PATCH", r"/issues/\d+$") == []


def test_reopen_reopens_and_explains(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    number = _opened(github, publisher)
    github.close_issue(number)
    delivery = publisher.deliver(OutboxMessage(
        id=20, incident="inc1", kind="reopen", body="The failure came back after the post-mortem "
        "was closed.", labels=["regression"], issue_number=number, attempts=1,
        recurrence="Seen 2 times."))

    assert delivery.status == "sent" and delivery.issue_number == number
    issue = github.issue(number)
    assert issue["state"] == "open" and issue["state_reason"] == "reopened"
    assert "regression" in [lab["name"] for lab in issue["labels"]]
    assert github.labels["regression"]["color"] == "b60205"
    assert "came back" in github.comment_bodies(number)[0]
    assert "Seen 2 times." in issue["body"]


def test_update_adds_labels_without_removing_a_persons_labels(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    number = _opened(github, publisher)
    with github.lock:
        github.issues[number]["labels"].append("triaged")
        github.add_label("triaged")
    delivery = publisher.deliver(OutboxMessage(id=30, incident="inc1", kind="update",
                                               labels=["repeat-failure"], issue_number=number,
                                               attempts=1, recurrence="Seen 5 times."))

    assert delivery.status == "sent"
    names = [lab["name"] for lab in github.issue(number)["labels"]]
    assert {"postmortem", "data_format", "triaged", "repeat-failure"} <= set(names)
    assert "Seen 5 times." in github.issue(number)["body"]


def test_comment_for_an_issue_the_store_does_not_know_finds_it_by_marker(github: FakeGitHub) -> None:
    publisher = make_publisher(github)
    number = _opened(github, publisher)
    delivery = publisher.deliver(OutboxMessage(id=40, incident="inc1", kind="comment", body="again",
                                               issue_number=None, attempts=1))
    assert delivery.status == "sent"
    assert delivery.issue_number == number
    assert delivery.issue_url == github.issue(number)["html_url"]  # stored as the issue URL


def test_comment_waits_while_the_issue_does_not_exist(github: FakeGitHub) -> None:
    delivery = make_publisher(github).deliver(OutboxMessage(id=41, incident="nope", kind="comment",
                                                            body="x", attempts=1))
    assert delivery.status == "retry"
    assert "not on GitHub yet" in delivery.error


def test_unknown_kind_fails_plainly(github: FakeGitHub) -> None:
    delivery = make_publisher(github).deliver(OutboxMessage(id=42, incident="i", kind="frobnicate"))
    assert delivery.status == "failed" and "expected open, comment, update or reopen" in delivery.error


# ---------------------------------------------------------------------- pacing and configuration


def test_writes_are_serial_and_paced_across_publishers(github: FakeGitHub) -> None:
    # Two publishers of the same repository and token in two threads share one pacing.
    interval = 0.25
    publishers = [make_publisher(github, write_interval=interval) for _ in range(2)]
    threads = [threading.Thread(target=p.deliver, args=(open_message(f"pace{i}", id=i),))
               for i, p in enumerate(publishers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    writes = sorted(github.writes(), key=lambda c: c.started)
    assert len(writes) >= 4  # 2 labels + 2 issues
    for before, after in zip(writes, writes[1:]):
        assert after.started - before.ended >= interval  # never overlapping, never closer


def test_from_config_caches_one_publisher_and_paces_at_one_second(github: FakeGitHub) -> None:
    config = Config(github_repo=github.full_name, github_token=DEFAULT_TOKEN,
                    github_api_url=github.api_url)
    first = GitHubPublisher.from_config(config)
    assert GitHubPublisher.from_config(config) is first
    assert first.client is first.client
    assert first.client.write_interval == 1.0
    assert first.marker_label == "postmortem"


def test_github_enterprise_server_api_root(sqlite_store) -> None:
    fake = FakeGitHub(prefix="/api/v3").start()
    try:
        assert fake.api_url.endswith("/api/v3")
        record(sqlite_store)
        result = flush(sqlite_store, make_publisher(fake))
        assert result.sent == 1
        assert all(c.path != "/__outside_prefix__" for c in fake.calls)
        assert len(fake.issues) == 1
    finally:
        fake.stop()
    assert_contract(fake)


def test_no_token_keeps_the_draft_and_says_what_to_set(github: FakeGitHub, sqlite_store) -> None:
    record(sqlite_store)
    publisher = GitHubPublisher(github.full_name, None, api_url=github.api_url)
    result = flush(sqlite_store, publisher)

    assert result.retrying == 1 and github.calls == []
    (waiting,) = sqlite_store.outbox_messages(status="pending")
    assert "set SCRIBE_GITHUB_TOKEN" in waiting["last_error"]


def test_simulated_clock_helper_is_used_by_the_client(github: FakeGitHub) -> None:
    clock = SimClock()
    publisher = make_publisher(github, clock=clock, write_interval=1.0)
    publisher.deliver(open_message("clk"))
    # Two label creations and the issue: two paced gaps of about a second, slept on the clock.
    assert sum(1 for s in clock.slept if s > 0.5) == 2


def _deliver_in_child(config: Config, results) -> None:
    fresh = GitHubPublisher._CACHE == {}
    publisher = GitHubPublisher.from_config(config)
    results.put((fresh, publisher.deliver(open_message("forked")).status))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork() with the fake's threads alive
def test_a_forked_worker_builds_its_own_publisher_and_session(github: FakeGitHub) -> None:
    # Airflow's executors fork task processes from a parent that may have reported already.
    config = Config(github_repo=github.full_name, github_token=DEFAULT_TOKEN,
                    github_api_url=github.api_url)
    parent = GitHubPublisher.from_config(config)
    assert parent.deliver(open_message("parent")).status == "sent"
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_deliver_in_child, args=(config, results))
    child.start()
    fresh, status = results.get(timeout=60)
    child.join(timeout=30)

    assert fresh and status == "sent"
    assert len(github.issues_for("forked")) == 1
