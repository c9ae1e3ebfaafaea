"""Real Prefect 3.9 against a temporary server (``prefect_test_harness``), one per session.

Each test gets its own incident store and draft directory, so "one draft" means one file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Before Prefect is imported: no telemetry on a closed network, and a Prefect home of our own
# so that the tests never read or write the user's ~/.prefect.
_HOME = tempfile.mkdtemp(prefix="scribe-prefect-home-")
os.environ["PREFECT_HOME"] = _HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_API_ENABLE_HTTP2"] = "false"
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("SCRIBE_GITHUB_REPO", None)
os.environ.pop("SCRIBE_CONFIG", None)

import pytest  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
EXAMPLES = REPO / "examples" / "prefect"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(EXAMPLES))


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> str:
    """A temporary Prefect server for the whole session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield str(PREFECT_API_URL.value())


class Scribe:
    """Where the core writes for one test, and what a person would read there."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.output = root / "drafts"
        self.store_url = f"sqlite:///{root / 'store.db'}"

    def env(self) -> dict[str, str]:
        return {"SCRIBE_STORE_URL": self.store_url, "SCRIBE_OUTPUT_DIR": str(self.output),
                "SCRIBE_LEAD": "data-oncall"}

    def drafts(self) -> list[Path]:
        return sorted(self.output.glob("*.md")) if self.output.exists() else []

    def only_draft(self) -> str:
        files = self.drafts()
        assert len(files) == 1, f"expected exactly one draft, found {[f.name for f in files]}"
        return files[0].read_text(encoding="utf-8")


@pytest.fixture
def scribe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scribe:
    """A fresh store and draft directory, set in the environment the core reads."""
    s = Scribe(tmp_path)
    for key, value in s.env().items():
        monkeypatch.setenv(key, value)
    return s


@pytest.fixture
def malformed_csv(tmp_path: Path) -> Path:
    """The example's orders file with one row that has an extra field (line 24)."""
    target = tmp_path / "orders_malformed.csv"
    target.write_bytes((EXAMPLES / "data" / "orders_malformed.csv").read_bytes())
    return target
