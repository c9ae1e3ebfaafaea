"""Every fault GitHub (or the network) can throw at a delivery.

For each: nothing escapes, the draft waits in the outbox with a plain reason, and once the fault
clears a flush leaves exactly one issue per incident.  Rate-limit waits run on a simulated clock
(the client adds what it would sleep to the clock), so minutes pass in an instant.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from github_fake import DEFAULT_TOKEN, FakeGitHub
from github_fake.fixtures import github, sqlite_store, store  # noqa: F401
from github_fake.scenario import SimClock, flush, make_due, make_publisher, record, requeue_failed

from postmortem_scribe.publish.base import OutboxMessage
from postmortem_scribe.publish.marker import incident_marker
from postmortem_scribe.store import utc_now


@dataclass
class Case:
    name: str
    inject: Callable[[FakeGitHub], object]
    says: str
    """Words the stored reason must contain."""
    clear: Callable[[FakeGitHub, SimClock], object] | None = None
    failed: bool = False
    """GitHub refused the content: kept as failed for a person, not retried by itself."""
    applied: bool = False
    """GitHub carried the request out before the fault (the answer was lost)."""
    min_wait: float | None = None
    """The stored next try is at least this far away (seconds)."""


def _clear(fake: FakeGitHub, clock: SimClock, advance: float = 0.0) -> None:
    fake.clear_faults()
    fake.repo_exists = True
    fake.issues_enabled = True
    fake.start()
    clock.advance(advance)


CASES = [
    Case("500", lambda f: f.fail(500, times=None), "GitHub is having trouble (500"),
    Case("502-html", lambda f: f.fail(502, times=None), "GitHub is having trouble (502"),
    Case("503", lambda f: f.fail(503, times=None), "GitHub is having trouble (503"),
    Case("read-timeout", lambda f: f.timeout(1.2, times=None), "did not answer"),
    Case("read-timeout-after-create",
         lambda f: f.timeout(1.2, method="POST", path=r"/issues$", apply=True),
         "outcome is unknown", applied=True),
    Case("connection-refused", lambda f: f.stop(), "connection refused"),
    Case("closed-socket", lambda f: f.drop(times=None), "could not reach"),
    Case("closed-socket-after-create", lambda f: f.drop(method="POST", path=r"/issues$", apply=True),
         "could not reach", applied=True),
    Case("401", lambda f: f.fail(401, times=None),
         "the GitHub token was rejected (401); check SCRIBE_GITHUB_TOKEN", min_wait=600),
    Case("404-repository", lambda f: setattr(f, "repo_exists", False),
         "check SCRIBE_GITHUB_REPO", min_wait=300),
    Case("410-issues-disabled", lambda f: setattr(f, "issues_enabled", False),
         "issues are disabled", min_wait=300),
    Case("403-secondary-retry-after", lambda f: f.secondary_limit(retry_after=120, times=None),
         "retry after 120 s", clear=lambda f, c: _clear(f, c, 121), min_wait=119),
    Case("403-secondary", lambda f: f.secondary_limit(times=None), "secondary rate limit",
         clear=lambda f, c: _clear(f, c, 600), min_wait=59),
    Case("403-primary", lambda f: f.primary_limit(reset_in=300), "rate limit spent until",
         clear=lambda f, c: _clear(f, c, 302), min_wait=250),
    Case("429", lambda f: f.fail(429, times=None, headers={"retry-after": "90"}), "retry after 90 s",
         clear=lambda f, c: _clear(f, c, 91), min_wait=89),
    Case("429-no-retry-after", lambda f: f.fail(429, times=None), "secondary rate limit",
         clear=lambda f, c: _clear(f, c, 600), min_wait=59),
    Case("422", lambda f: f.fail(422, method="POST", path=r"/issues$", times=None),
         "rejected POST /repos/acme/pipelines/issues as invalid (422", failed=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_leaves_the_draft_waiting_then_one_issue(case: Case, github: FakeGitHub, store,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)
    outcome = record(store)
    key = outcome.incident.key
    draft = store.outbox_messages(incident=key)[0]

    case.inject(github)
    before = time.time()
    result = flush(store, publisher)  # must not raise

    assert result.sent == 0
    (message,) = store.outbox_messages(incident=key)
    assert message["status"] == ("failed" if case.failed else "pending")
    assert case.says in message["last_error"]
    assert message["body"] == draft["body"] and message["title"] == draft["title"]  # nothing lost
    if case.min_wait is not None:
        assert message["not_before"] >= before + case.min_wait
    assert len(github.issues_for(key)) == (1 if case.applied else 0)

    (case.clear or (lambda f, c: _clear(f, c)))(github, clock)
    requeue_failed(store)
    make_due(store)
    again = flush(store, publisher)

    assert again.sent == 1, again.errors
    issues = github.issues_for(key)
    assert len(issues) == 1
    assert store.incident(key).issue_number == issues[0]["number"]
    assert store.outbox_messages(incident=key)[0]["status"] == "sent"
    # The token is nowhere: not in reasons, not in logs, not in what was stored or published.
    everything = caplog.text + repr(publisher) + repr(publisher.client) + str(result.errors) + str(
        store.outbox_messages()) + str(github.issues) + str(github.comments)
    assert DEFAULT_TOKEN not in everything


COMMENT_CASES = [c for c in CASES if c.name in (
    "500", "read-timeout-after-create", "connection-refused", "closed-socket-after-create",
    "403-secondary", "401")]


@pytest.mark.parametrize("case", COMMENT_CASES, ids=[c.name for c in COMMENT_CASES])
def test_fault_on_a_repeat_gives_exactly_one_comment(case: Case, github: FakeGitHub,
                                                     sqlite_store) -> None:
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)
    record(sqlite_store, run_id="run-1")
    flush(sqlite_store, publisher)
    record(sqlite_store, run_id="run-2")
    if case.name.endswith("after-create"):
        # Same faults, aimed at the comment instead of the issue.
        kind = "timeout" if "timeout" in case.name else "drop"
        if kind == "timeout":
            github.timeout(1.2, method="POST", path=r"/comments$", apply=True)
        else:
            github.drop(method="POST", path=r"/comments$", apply=True)
    else:
        case.inject(github)

    assert flush(sqlite_store, publisher).sent == 0
    (case.clear or (lambda f, c: _clear(f, c)))(github, clock)
    make_due(sqlite_store)
    assert flush(sqlite_store, publisher).sent == 1

    incident = sqlite_store.incidents()[0]
    assert len(github.issues) == 1
    assert len(github.comment_bodies(incident.issue_number)) == 1


# ---------------------------------------------------------------------- rate limits in detail


def _message(incident: str = "rl1", attempts: int = 1) -> OutboxMessage:
    return OutboxMessage(id=1, incident=incident, kind="open", title="Post-mortem draft",
                         body=incident_marker(incident) + "\nbody", labels=["postmortem"],
                         assignees=[], attempts=attempts, created_at=utc_now())


def test_secondary_limit_without_retry_after_waits_a_minute_then_longer(github: FakeGitHub) -> None:
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)
    github.secondary_limit(times=None, method="POST")

    first = publisher.deliver(_message())
    assert first.status == "retry" and 60 <= first.retry_after < 70

    calls = len(github.calls)
    blocked = publisher.deliver(_message(attempts=2))  # still inside the wait: GitHub is not asked
    assert blocked.status == "retry" and blocked.calls == 0 and len(github.calls) == calls

    clock.advance(first.retry_after + 1)
    second = publisher.deliver(_message(attempts=3))
    assert second.status == "retry" and 120 <= second.retry_after < 135  # exponential

    github.clear_faults()
    clock.advance(second.retry_after + 1)
    assert publisher.deliver(_message(attempts=4)).status == "sent"
    assert len(github.issues_for("rl1")) == 1


def test_short_retry_after_is_waited_within_the_same_delivery(github: FakeGitHub) -> None:
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)
    github.secondary_limit(retry_after=5, method="POST", path=r"/issues$")

    delivery = publisher.deliver(_message(), deadline=clock.monotonic() + 30)

    assert delivery.status == "sent"
    assert any(4.9 <= s <= 5.1 for s in clock.slept)
    assert [c.status for c in github.requests_to("POST", r"/issues$")] == [403, 201]


def test_a_wait_past_the_deadline_returns_retry_instead_of_waiting(github: FakeGitHub) -> None:
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)
    github.fail(429, headers={"retry-after": "20"}, times=None)

    delivery = publisher.deliver(_message(), deadline=clock.monotonic() + 3)

    assert delivery.status == "retry" and delivery.retry_after == 20
    assert not any(s >= 3 for s in clock.slept)


def test_primary_limit_is_respected_until_the_reset(github: FakeGitHub) -> None:
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)
    github.primary_limit(reset_in=100)

    first = publisher.deliver(_message())
    assert first.status == "retry" and 95 <= first.retry_after <= 105
    assert "rate limit spent until" in first.error

    calls = len(github.calls)
    assert publisher.deliver(_message(attempts=2)).calls == 0
    assert len(github.calls) == calls

    github.clear_faults()
    clock.advance(first.retry_after + 1)
    assert publisher.deliver(_message(attempts=3)).status == "sent"


def test_spent_limit_on_a_successful_answer_stops_the_next_call(github: FakeGitHub) -> None:
    github.rate_limit = 3  # the third answer says remaining 0
    clock = SimClock()
    publisher = make_publisher(github, clock=clock)

    delivery = publisher.deliver(_message())

    assert delivery.status == "retry" and delivery.retry_after > 3000
    assert len(github.calls) == 3 and all(c.status != 403 for c in github.calls)


def test_unauthorised_token_is_retried_slowly_with_a_clear_reason(github: FakeGitHub) -> None:
    publisher = make_publisher(github, token="ghp_wrong_token_000000000000000000000000")
    delivery = publisher.deliver(_message())

    assert delivery.status == "retry"
    assert delivery.error.startswith("the GitHub token was rejected (401); check SCRIBE_GITHUB_TOKEN")
    assert delivery.retry_after >= 600
    assert "ghp_wrong_token" not in delivery.error
    assert delivery.calls == 1


def test_validation_failure_is_failed_not_retried(github: FakeGitHub) -> None:
    github.fail(422, method="POST", path=r"/issues$", body={
        "message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
        "errors": [{"resource": "Issue", "code": "custom", "field": "body",
                    "message": "body is too long (maximum is 65536 characters)"}]})
    delivery = make_publisher(github).deliver(_message())

    assert delivery.status == "failed"
    assert "body is too long (maximum is 65536 characters)" in delivery.error
    assert "kept as failed in the outbox" in delivery.error
