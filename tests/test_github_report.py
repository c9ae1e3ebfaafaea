"""``postmortem_scribe.report()`` end to end against the fake GitHub, on SQLite and PostgreSQL.

What a user sees: the issue on GitHub, the outcome of ``report()``, what waits in the outbox.
Nothing here imports the publisher's internals except to read how long GitHub asked us to wait.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from github_fake import DEFAULT_TOKEN, FakeGitHub
from github_fake.fixtures import github  # noqa: F401
from github_fake.workers import PRELOAD, report_once

import postmortem_scribe
from postmortem_scribe.api import flush
from postmortem_scribe.config import Config
from postmortem_scribe.publish.github import GitHubPublisher
from postmortem_scribe.store import open_store


def github_config(make_config, store_url: str, fake: FakeGitHub, **overrides) -> Config:
    config = make_config(store_url, github_repo=fake.full_name, github_token=DEFAULT_TOKEN,
                         github_api_url=fake.api_url, default_lead="alice", **overrides)
    # Writes are paced at one per second by default; the tests check pacing on their own and
    # use a short interval here (see the report: a `github_write_interval_seconds` setting).
    config.github_write_interval_seconds = 0.05
    return config


def fail_loading(config: Config, run_id: str = "run-1"):
    try:
        raise ValueError("row 17 of sales.csv: expected 5 columns, got 4")
    except ValueError as exc:
        return postmortem_scribe.report(exc, pipeline="daily_sales", task="load", run_id=run_id,
                                        config=config)


def subprocess_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}
    env.update(SCRIBE_STORE_URL=config.store_url, SCRIBE_GITHUB_REPO=config.github_repo,
               SCRIBE_GITHUB_TOKEN=config.github_token, SCRIBE_GITHUB_API_URL=config.github_api_url,
               SCRIBE_LEAD=config.default_lead or "", SCRIBE_OUTPUT_DIR=config.output_dir)
    return env


# ---------------------------------------------------------------------- the happy path


def test_report_opens_an_issue_then_comments_on_repeats(github: FakeGitHub, make_config,
                                                        store_url: str) -> None:
    config = github_config(make_config, store_url, github)

    first = fail_loading(config, "run-1")
    assert first.action == "opened", first.message
    (issue,) = github.issues_for(first.incident)
    assert first.issue_url == issue["html_url"]
    assert [a["login"] for a in issue["assignees"]] == ["alice"]
    names = [lab["name"] for lab in issue["labels"]]
    assert "postmortem" in names and github.labels["postmortem"]["color"] == "5319e7"

    second = fail_loading(config, "run-2")
    assert second.action == "commented", second.message
    assert second.incident == first.incident
    assert len(github.issues) == 1
    assert len(github.comment_bodies(issue["number"])) == 1
    assert "Seen 2 times" in github.issue(issue["number"])["body"]


def test_closed_issue_makes_the_next_failure_a_regression(github: FakeGitHub, make_config,
                                                          store_url: str) -> None:
    config = github_config(make_config, store_url, github)
    first = fail_loading(config, "run-1")
    (issue,) = github.issues_for(first.incident)
    github.close_issue(issue["number"])  # a person closed the post-mortem

    from postmortem_scribe.publish.github.sync import sync

    assert sync(open_store(config.store_url), config).closed == [first.incident]
    again = fail_loading(config, "run-2")

    assert again.action == "regression", again.message
    assert again.incident != first.incident
    (new_issue,) = github.issues_for(again.incident)
    assert issue["html_url"] in new_issue["body"]  # links the closed post-mortem
    assert "regression" in [lab["name"] for lab in new_issue["labels"]]


# ---------------------------------------------------------------------- faults through report()


@dataclass
class Fault:
    name: str
    inject: Callable[[FakeGitHub], object]
    applied: bool = False


FAULTS = [
    Fault("500", lambda f: f.fail(500, times=None)),
    Fault("502", lambda f: f.fail(502, times=None)),
    Fault("503", lambda f: f.fail(503, times=None)),
    Fault("read-timeout", lambda f: f.timeout(3.5, times=None)),
    Fault("read-timeout-after-create", lambda f: f.timeout(3.5, method="POST", path=r"/issues$",
                                                           apply=True), applied=True),
    Fault("connection-refused", lambda f: f.stop()),
    Fault("closed-socket", lambda f: f.drop(times=None)),
    Fault("401", lambda f: f.fail(401, times=None)),
    Fault("404-repository", lambda f: setattr(f, "repo_exists", False)),
    Fault("410-issues-disabled", lambda f: setattr(f, "issues_enabled", False)),
    Fault("403-secondary-retry-after", lambda f: f.secondary_limit(retry_after=2, times=None)),
    Fault("403-secondary", lambda f: f.secondary_limit(times=None)),
    Fault("403-primary", lambda f: f.primary_limit(reset_in=1)),
    Fault("429", lambda f: f.fail(429, times=None, headers={"retry-after": "2"})),
    Fault("429-no-retry-after", lambda f: f.fail(429, times=None)),
    Fault("422", lambda f: f.fail(422, method="POST", path=r"/issues$", times=None)),
]


# Every fault on SQLite; on PostgreSQL a representative set (the store-level matrix in
# test_github_faults.py runs every fault on both backends through the same outbox code).
ON_POSTGRES = {"500", "read-timeout-after-create", "connection-refused", "401",
               "403-secondary-retry-after", "422"}
COMBOS = [pytest.param("sqlite", f, id=f"sqlite-{f.name}") for f in FAULTS] + [
    pytest.param("postgres", f, id=f"postgres-{f.name}") for f in FAULTS if f.name in ON_POSTGRES]


@pytest.mark.parametrize("store_url,fault", COMBOS, indirect=["store_url"])
def test_report_under_a_fault_queues_the_draft_then_flush_opens_one_issue(
        fault: Fault, github: FakeGitHub, make_config, store_url: str) -> None:
    config = github_config(make_config, store_url, github, budget_seconds=2.0)
    fault.inject(github)

    outcome = fail_loading(config)  # returns; never raises

    store = open_store(config.store_url)
    assert outcome.incident, outcome.message
    (draft,) = [m for m in store.outbox_messages(incident=outcome.incident) if m["kind"] == "open"]
    if fault.name == "422":
        assert draft["status"] == "failed" and "422" in draft["last_error"]
    else:
        assert outcome.action == "queued", outcome.message
        assert draft["status"] == "pending" and draft["last_error"]
    assert "Post-mortem" in draft["title"] or draft["title"]
    assert len(github.issues_for(outcome.incident)) == (1 if fault.applied else 0)

    github.clear_faults()
    github.repo_exists = github.issues_enabled = True
    github.start()
    waiting = GitHubPublisher.from_config(config).client.rate_limit_state()["blocked_for"]
    if waiting > 5:
        # GitHub asked for a minute or more; a later `scribe flush --all` (a new process, as from
        # cron) delivers it.
        done = subprocess.run([sys.executable, "-m", "postmortem_scribe", "flush", "--all"],
                              env=subprocess_env(config), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        time.sleep(waiting + 0.05)
        if fault.name == "422":  # a person fixed the cause and retries it
            from github_fake.scenario import requeue_failed

            requeue_failed(store)
        store.make_all_due()
        result = flush(config=config)
        assert result.sent >= 1, result.errors

    issues = github.issues_for(outcome.incident)
    assert len(issues) == 1
    assert open_store(config.store_url).incident(outcome.incident).issue_number == issues[0]["number"]


def test_token_is_never_in_outcomes_drafts_or_issues(github: FakeGitHub, make_config, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    config = github_config(make_config, f"sqlite:///{tmp_path / 's.sqlite'}", github, budget_seconds=2.0)
    github.fail(401, times=1)
    try:
        raise RuntimeError(f"upstream refused token {DEFAULT_TOKEN}")  # even if the error has it
    except RuntimeError as exc:
        outcome = postmortem_scribe.report(exc, pipeline="p", task="t", run_id="r", config=config)
    github.clear_faults()
    open_store(config.store_url).make_all_due()
    flush(config=config)

    store = open_store(config.store_url)
    seen = (str(outcome) + caplog.text + str(store.outbox_messages()) + str(github.issues)
            + str(github.comments) + str([r.__dict__ for r in store.incidents()]))
    assert DEFAULT_TOKEN not in seen
    assert len(github.issues) == 1


# ---------------------------------------------------------------------- many processes at once


@pytest.mark.slow
def test_sixteen_processes_reporting_one_failure_open_one_issue(github: FakeGitHub, make_config,
                                                                store_url: str) -> None:
    config = github_config(make_config, store_url, github)
    open_store(config.store_url)  # tables exist before the stampede
    # A forkserver with the package preloaded starts 16 real processes quickly; a barrier
    # releases them at once so that they race on the same store and the same GitHub.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    barrier, results = ctx.Barrier(16), ctx.Queue()
    workers = [ctx.Process(target=report_once, args=(i, config, barrier, results)) for i in range(16)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for w in workers:
        w.join(timeout=60)

    assert [w.exitcode for w in workers] == [0] * 16
    assert "failed" not in {action for _, action, _, _ in outcomes}, outcomes
    incidents = {incident for _, _, incident, _ in outcomes}
    assert len(incidents) == 1, outcomes
    (key,) = incidents
    store = open_store(config.store_url)
    store.make_all_due()  # the grouped comment's window
    flush(config=config)

    assert len(github.issues) == 1
    assert len(github.issues_for(key)) == 1
    row = store.incident(key)
    assert row.occurrences == 16
    assert len(store.incident_occurrences(key, limit=100)) == 16
    assert row.issue_number == github.issues_for(key)[0]["number"]
    assert len(github.comment_bodies(row.issue_number)) <= 2  # coalesced, not 15 comments
    assert store.outbox_counts().get("pending", 0) == 0
