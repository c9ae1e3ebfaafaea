"""The fake GitHub itself: it follows GitHub's recorded behaviour and its OpenAPI contract, and its
contract check really catches drift (a fake that cannot fail would prove nothing)."""

from __future__ import annotations

import json

import pytest
import requests
from github_fake import DEFAULT_TOKEN, FakeGitHub
from github_fake.contract import Contract, api_dir
from github_fake.fixtures import github  # noqa: F401


def recordings(scenario: str) -> list[dict]:
    path = api_dir() / "fixtures" / "api.github.com" / scenario / "normalized-fixture.json"
    return json.loads(path.read_text(encoding="utf-8"))


def replay(scenario: str, owner: str, repo: str) -> list[str]:
    contract = Contract(owner, repo)
    problems: list[str] = []
    for rec in recordings(scenario):
        path, _, query = rec["path"].partition("?")
        path = path.replace("/repositories/1000/", f"/repos/{owner}/{repo}/")
        body = rec["response"]
        if scenario == "search-issues":
            body = {**body, "search_type": "lexical"}  # known quirk 2 of the spec
        problems += contract.check(
            rec["method"].upper(), path, query,
            json.dumps(rec["body"]).encode() if rec["body"] not in (None, "") else b"",
            rec["status"], json.dumps(body).encode() if body not in (None, "") else b"",
            {k: str(v) for k, v in rec["headers"].items()})
    return problems


@pytest.mark.parametrize("scenario,repo", [
    ("add-labels-to-issue", "add-labels-to-issue"), ("paginate-issues", "paginate-issues"),
    ("errors", "errors"), ("search-issues", "search-issues"),
])
def test_recorded_github_answers_pass_the_contract_check(scenario: str, repo: str) -> None:
    assert replay(scenario, "octokit-fixture-org", repo) == []


def test_labels_recording_passes_for_the_operations_we_use() -> None:
    contract = Contract("octokit-fixture-org", "labels")
    list_, create = recordings("labels")[:2]
    for rec in (list_, create):
        assert contract.check(rec["method"].upper(), rec["path"], "",
                              json.dumps(rec["body"]).encode() if rec["body"] else b"",
                              rec["status"], json.dumps(rec["response"]).encode(),
                              {k: str(v) for k, v in rec["headers"].items()}) == []


def _session() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {DEFAULT_TOKEN}"
    return s


def test_contract_check_catches_a_broken_answer_and_a_foreign_request() -> None:
    fake = FakeGitHub().start()
    try:
        original = fake._issue_json

        def broken(issue):
            data = original(issue)
            del data["user"]  # a required field
            return data

        fake._issue_json = broken
        s = _session()
        s.post(f"{fake.api_url}/repos/acme/pipelines/issues", json={"title": "t"})
        s.get(f"{fake.api_url}/repos/acme/pipelines")  # not one of the 12 operations
    finally:
        fake.stop()
    assert any("'user' is a required property" in e for e in fake.contract_errors)
    assert any("PathNotFound" in e or "Path not found" in e for e in fake.contract_errors)


def test_injected_undeclared_faults_skip_only_response_validation(github: FakeGitHub) -> None:
    github.fail(500)
    github.fail(429, headers={"retry-after": "1"})
    s = _session()
    assert s.get(f"{github.api_url}/repos/acme/pipelines/labels").status_code == 500
    assert s.get(f"{github.api_url}/repos/acme/pipelines/labels").status_code == 429
    assert github.contract_errors == []  # and the fixture asserts the same at teardown


def test_github_limits_are_enforced(github: FakeGitHub) -> None:
    s = _session()
    issues = f"{github.api_url}/repos/acme/pipelines/issues"
    assert s.post(issues, json={"title": "t" * 257}).status_code == 422
    assert s.post(issues, json={"title": "t" * 256}).status_code == 201
    assert s.post(issues, json={"title": "t", "body": "b" * 65537}).status_code == 422
    assert s.post(issues, json={"title": "t", "body": "b" * 65536}).status_code == 201
    labels = f"{github.api_url}/repos/acme/pipelines/labels"
    too_long = s.post(labels, json={"name": "x" * 51, "color": "ededed"})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["message"] == "name is too long (maximum is 50 characters)"
    assert s.post(labels, json={"name": "x" * 50, "color": "ededed"}).status_code == 201
    bad_color = s.post(labels, json={"name": "c", "color": "#ff0000"})
    assert bad_color.json()["errors"] == [{"resource": "Label", "field": "color", "code": "invalid"}]


def test_unassignable_assignee_fails_the_whole_create_as_observed(github: FakeGitHub) -> None:
    s = _session()
    assert s.get(f"{github.api_url}/repos/acme/pipelines/assignees/zed").status_code == 404
    answer = s.post(f"{github.api_url}/repos/acme/pipelines/issues",
                    json={"title": "t", "assignees": ["zed"]})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"value": "zed", "resource": "Issue", "field": "assignees",
                                        "code": "invalid"}]
    assert github.issues == {}


def test_without_push_access_labels_and_assignees_are_silently_dropped(github: FakeGitHub) -> None:
    github.add_token("ghp_reader", "reader", push=False)
    s = requests.Session()
    s.headers["Authorization"] = "Bearer ghp_reader"
    answer = s.post(f"{github.api_url}/repos/acme/pipelines/issues",
                    json={"title": "t", "labels": ["bug"], "assignees": ["alice"]})
    assert answer.status_code == 201
    assert answer.json()["labels"] == [] and answer.json()["assignees"] == []


def test_search_lags_new_issues_and_pages_link_by_repository_id() -> None:
    fake = FakeGitHub(search_delay=60).start()
    try:
        s = _session()
        for i in range(5):
            s.post(f"{fake.api_url}/repos/acme/pipelines/issues", json={"title": f"sesame {i}"})
        found = s.get(f"{fake.api_url}/search/issues", params={"q": "sesame repo:acme/pipelines"})
        assert found.json()["total_count"] == 0 and found.json()["search_type"] == "lexical"
        assert found.headers["x-ratelimit-resource"] == "search"
        page = s.get(f"{fake.api_url}/repos/acme/pipelines/issues", params={"per_page": 2})
        assert page.links["next"]["url"].startswith(f"{fake.api_url}/repositories/1000/issues?")
        assert int(page.headers["x-ratelimit-remaining"]) < 5000
    finally:
        fake.stop()
    assert fake.contract_errors == []


def test_etag_and_304_on_issue(github: FakeGitHub) -> None:
    s = _session()
    s.post(f"{github.api_url}/repos/acme/pipelines/issues", json={"title": "t"})
    first = s.get(f"{github.api_url}/repos/acme/pipelines/issues/1")
    again = s.get(f"{github.api_url}/repos/acme/pipelines/issues/1",
                  headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]  # 304s are free
