"""Shared fixtures for the core tests: isolated stores (SQLite and PostgreSQL), configs and
output directories, so no test touches the user's real store or another test's data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "SCRIBE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read the developer's config or write to the default store."""
    for var in list(os.environ):
        if var.startswith("SCRIBE_"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SCRIBE_STORE_URL", f"sqlite:///{tmp_path / 'default-store.sqlite'}")
    monkeypatch.setenv("SCRIBE_OUTPUT_DIR", str(tmp_path / "postmortems"))


def _postgres_available() -> bool:
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def postgres_ok() -> bool:
    ok = _postgres_available()
    if not ok and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI but not reachable at {PG_ADMIN_URL}")
    return ok


def postgres_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema per test, found through ``search_path``; dropped afterwards."""
    import sqlalchemy as sa

    schema = f"scribe_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    try:
        yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        from postmortem_scribe.store import store as store_module

        for url in [u for u in store_module._STORES if schema in u]:
            store_module._STORES.pop(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each backend; PostgreSQL tests skip locally when it is down."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    if not request.getfixturevalue("postgres_ok"):
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    yield from postgres_schema_url()


@pytest.fixture
def make_config(tmp_path: Path):
    """Build a Config for a store URL with drafts written under tmp_path."""
    from postmortem_scribe.config import load_config

    def make(store_url: str | None = None, **overrides):
        values = {"store_url": store_url or f"sqlite:///{tmp_path / 'store.sqlite'}",
                  "output_dir": str(tmp_path / "drafts"), **overrides}
        return load_config(env={}, overrides=values)

    return make
