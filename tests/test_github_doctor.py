"""``scribe doctor``'s GitHub checks against the fake GitHub."""

from __future__ import annotations

import os
import subprocess
import sys

from github_fake import DEFAULT_TOKEN, FakeGitHub
from github_fake.fixtures import github, sqlite_store  # noqa: F401
from github_fake.scenario import Drafts, flush, make_publisher, record

from postmortem_scribe.config import Config, RouteRule
from postmortem_scribe.publish.github.doctor import github_checks, wanted_labels


def config_for(fake: FakeGitHub, **kw) -> Config:
    values = {"github_repo": fake.full_name, "github_token": DEFAULT_TOKEN,
              "github_api_url": fake.api_url, "default_lead": "alice", **kw}
    return Config(**values)


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


def test_everything_in_order(github: FakeGitHub, sqlite_store) -> None:
    config = config_for(github, routes=[RouteRule(name="finance", lead="bob")])
    for name in wanted_labels(config):
        github.add_label(name)

    checks = by_name(github_checks(config, sqlite_store))

    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert checks["github token"].detail == "accepted"
    assert checks["github rate limit"].detail.startswith("5000 of 5000 requests left")  # /rate_limit is free
    assert "reachable and has issues enabled" in checks["github repository"].detail
    assert checks["github lead alice"].detail == "can be assigned"
    assert checks["github lead bob"].ok
    assert all(c.method == "GET" for c in github.calls)  # doctor changes nothing by default


def test_missing_labels_are_a_warning_and_can_be_created(github: FakeGitHub) -> None:
    config = config_for(github)
    labels = by_name(github_checks(config))["github labels"]
    assert not labels.ok and labels.warning and "postmortem" in labels.detail

    created = by_name(github_checks(config, create_labels=True,
                                    publisher=make_publisher(github)))["github labels"]
    assert created.ok and created.detail.startswith("created postmortem")
    assert github.labels["regression"]["color"] == "b60205"
    assert by_name(github_checks(config))["github labels"].ok


def test_rejected_token(github: FakeGitHub) -> None:
    checks = by_name(github_checks(config_for(github, github_token="ghp_expired_000000000000000000")))
    token = checks["github token"]
    assert not token.ok and "rejected by GitHub (401" in token.detail
    assert "Issues: read and write" in token.detail and "ghp_expired" not in token.detail
    assert "github repository" not in checks  # nothing else can be told with a bad token


def test_missing_token(github: FakeGitHub) -> None:
    token = by_name(github_checks(config_for(github, github_token=None)))["github token"]
    assert not token.ok and "SCRIBE_GITHUB_TOKEN" in token.detail and github.calls == []


def test_unreachable_repository_and_disabled_issues(github: FakeGitHub) -> None:
    wrong = by_name(github_checks(config_for(github, github_repo="acme/typo")))["github repository"]
    assert not wrong.ok and "acme/typo was not found" in wrong.detail

    github.issues_enabled = False
    disabled = by_name(github_checks(config_for(github)))["github repository"]
    assert not disabled.ok and "issues are disabled in acme/pipelines" in disabled.detail


def test_lead_who_cannot_be_assigned(github: FakeGitHub) -> None:
    lead = by_name(github_checks(config_for(github, default_lead="zed")))["github lead zed"]
    assert not lead.ok and not lead.warning
    assert "cannot be assigned issues in acme/pipelines" in lead.detail


def test_lead_found_unassignable_while_publishing_is_reported(github: FakeGitHub, sqlite_store) -> None:
    record(sqlite_store, drafts=Drafts(lead="carol"))  # a lead no configuration names
    flush(sqlite_store, make_publisher(github))

    checks = by_name(github_checks(config_for(github), sqlite_store))

    assert not checks["github lead carol"].ok


def test_low_rate_limit_and_waiting_deliveries(github: FakeGitHub, sqlite_store) -> None:
    github.rate_limit = 40
    record(sqlite_store)
    github.fail(503, times=None, path=r"/issues$")
    flush(sqlite_store, make_publisher(github))
    github.clear_faults()

    checks = by_name(github_checks(config_for(github), sqlite_store))

    assert checks["github rate limit"].warning and "running low" in checks["github rate limit"].detail
    deliveries = checks["github deliveries"]
    assert deliveries.warning and "1 waiting" in deliveries.detail and "503" in deliveries.detail


def test_enterprise_server_without_rate_limiting(sqlite_store) -> None:
    fake = FakeGitHub(prefix="/api/v3").start()
    try:
        fake.fail(404, path=r"^/rate_limit$", body={"message": "Rate limiting is not enabled.",
                                                    "documentation_url": "https://docs.github.com"})
        checks = by_name(github_checks(config_for(fake), sqlite_store))
    finally:
        fake.stop()
    assert checks["github rate limit"].detail == "rate limiting is not enabled on this server"
    assert checks["github repository"].ok
    assert fake.contract_errors == []


def test_scribe_doctor_prints_the_github_checks(github: FakeGitHub, tmp_path) -> None:
    for name in wanted_labels(Config()):
        github.add_label(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}
    env.update(SCRIBE_GITHUB_REPO=github.full_name, SCRIBE_GITHUB_TOKEN=DEFAULT_TOKEN,
               SCRIBE_GITHUB_API_URL=github.api_url, SCRIBE_LEAD="alice",
               SCRIBE_STORE_URL=f"sqlite:///{tmp_path / 'store.sqlite'}",
               SCRIBE_OUTPUT_DIR=str(tmp_path / "drafts"))
    done = subprocess.run([sys.executable, "-m", "postmortem_scribe", "doctor"], env=env,
                          capture_output=True, text=True, timeout=120)

    out = done.stdout
    assert "[ok  ] github token" in out
    assert "[ok  ] github repository" in out and "acme/pipelines is reachable" in out
    assert "[ok  ] github lead alice" in out
    assert DEFAULT_TOKEN not in out + done.stderr
