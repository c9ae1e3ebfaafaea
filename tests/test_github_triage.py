"""What people do on GitHub flows back: a closed issue makes the next failure a regression
without waiting for `scribe sync`, and a corrected category label is learned."""

from __future__ import annotations

from github_fake import FakeGitHub
from github_fake.fixtures import github  # noqa: F401
from test_github_report import fail_loading, github_config

from postmortem_scribe.publish.github.sync import sync
from postmortem_scribe.store import open_store


def test_a_person_closing_the_issue_is_seen_by_the_next_report(github: FakeGitHub, make_config,
                                                               store_url: str) -> None:
    config = github_config(make_config, store_url, github)
    first = fail_loading(config, "run-1")
    assert first.action == "opened", first.message
    (issue,) = github.issues_for(first.incident)
    github.close_issue(issue["number"])  # nobody ran `scribe sync`
    second = fail_loading(config, "run-2")
    assert second.action == "regression", second.message
    assert second.incident != first.incident
    new_issue = github.issues_for(second.incident)[0]
    assert "regression" in [label["name"] for label in new_issue["labels"]]
    assert f"#{issue['number']}" in new_issue["body"] or issue["html_url"] in new_issue["body"]


def test_a_corrected_category_label_is_learned_by_sync(github: FakeGitHub, make_config,
                                                       store_url: str) -> None:
    config = github_config(make_config, store_url, github)
    first = fail_loading(config, "run-1")
    assert first.category != "auth"
    (issue,) = github.issues_for(first.incident)
    github.add_label("auth")
    with github.lock:  # a triager swaps the category label in the UI
        stored = github.issues[issue["number"]]
        stored["labels"] = [name for name in stored["labels"] if name != first.category] + ["auth"]
    result = sync(open_store(config.store_url), config)
    assert f"{first.incident} is auth" in result.summary()
    github.close_issue(issue["number"])
    again = fail_loading(config, "run-2")
    assert again.action == "regression" and again.category == "auth"
    body = github.issues_for(again.incident)[0]["body"]
    assert "a person set this category" in body
