"""Pytest fixtures for the GitHub tests; test modules import them by name.

``github`` is a started :class:`FakeGitHub` whose contract problems fail the test at teardown.
``store`` is a fresh incident store on each backend: it builds on the root conftest's
``store_url`` (SQLite, and PostgreSQL on 127.0.0.1:5432 in its own schema).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postmortem_scribe.store import Store

from .server import FakeGitHub


def assert_contract(fake: FakeGitHub) -> None:
    """Fail with every request/response that broke GitHub's OpenAPI description."""
    errors = list(fake.contract_errors)
    assert not errors, "exchanges that break GitHub's contract:\n" + "\n".join(errors[:20])


def forget_github_state() -> None:
    """Process-wide state is keyed by API URL and token; a later fake may get an earlier fake's
    port, so each test starts without the cached publishers, throttles and refresh times."""
    from postmortem_scribe import pipeline
    from postmortem_scribe.publish.github import client, publisher

    with publisher.GitHubPublisher._CACHE_LOCK:
        publisher.GitHubPublisher._CACHE.clear()
    with client._THROTTLES_LOCK:
        client._THROTTLES.clear()
    pipeline._refreshed.clear()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A fake GitHub serving ``acme/pipelines``; its contract check runs at teardown."""
    forget_github_state()
    fake = FakeGitHub()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
        forget_github_state()
    assert_contract(fake)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        yield s
    finally:
        s.dispose()
