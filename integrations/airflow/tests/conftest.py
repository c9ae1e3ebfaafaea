"""Real Airflow for the adapter's tests: a temporary AIRFLOW_HOME, a migrated SQLite metadata DB,
DAG files written into a temporary DAGs folder, and the plugin loaded from its installed entry
point (exactly as in a deployment: no test registers it by hand).

Airflow reads its configuration when first imported, so the environment is set at import time
of this conftest, before any test module imports Airflow.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="scribe-airflow-tests-"))
AIRFLOW_HOME = _SESSION_DIR / "airflow"
DAGS_FOLDER = _SESSION_DIR / "dags"
DAGS_FOLDER.mkdir(parents=True)
AIRFLOW_HOME.mkdir(parents=True)

os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(_SESSION_DIR / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_SESSION_DIR / "logs"),
    # Airflow 2 would create ~60 example connections, and creating them registers their
    # passwords ("airflow", "password", ...) with the masker of the test process, which a real
    # task process never sees.
    "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
})
for _var in [v for v in os.environ if v.startswith(("SCRIBE_", "AIRFLOW__POSTMORTEM_SCRIBE__",
                                                        "AIRFLOW_VAR_", "AIRFLOW_CONN_"))]:
    del os.environ[_var]

HERE = Path(__file__).parent
MALFORMED_CSV = textwrap.dedent("""\
    order_id,customer,amount,currency
    1001,ACME Corp,120.50,EUR
    1002,Globex,99.00,EUR
    1003,Umbrella, Ltd,300.00,EUR
    1004,Hooli,12.00,EUR
    """)


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> Iterator[None]:
    """Migrate the metadata DB once per session (about a second in-process)."""
    from airflow.utils import db

    db.initdb()
    yield
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture()
def scribe_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Per-test store and output directory; the drafts land in ``tmp_path / "drafts"``."""
    out = tmp_path / "drafts"
    monkeypatch.setenv("SCRIBE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("SCRIBE_OUTPUT_DIR", str(out))
    # dag.test() runs everything in-process, so the DAG-run path finds in-process reports at
    # once; a short grace keeps tests that exercise the log-only path quick.
    monkeypatch.setenv("AIRFLOW__POSTMORTEM_SCRIBE__DAG_RUN_GRACE_SECONDS", "1")
    return out


@pytest.fixture()
def malformed_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders_2024-06-01.csv"
    path.write_text(MALFORMED_CSV, encoding="utf-8")
    return path


def write_dag(dag_id: str, body: str) -> Path:
    """Write a DAG file into the DAGs folder (a DAG defined in a test module is not
    serialized, and dag.test() refuses it)."""
    path = DAGS_FOLDER / f"{dag_id}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def run_dag(dag_id: str, path: Path) -> object:
    """Parse the DAG file as Airflow does and run it with ``dag.test()``; returns the DagRun.

    Waits for the background DAG-run reports the listener may have started.
    """
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2.x
        from airflow.models.dagbag import DagBag

    from postmortem_scribe_airflow import wait_for_pending

    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found in {path}"
    dag_run = dag.test()
    assert wait_for_pending(timeout=120)
    return dag_run


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")


def drafts(out: Path) -> dict[str, str]:
    """Draft files the local publisher wrote: name -> text as a reader sees it rendered
    (Markdown's backslash escapes removed, so ``manual\\_\\_2024`` reads ``manual__2024``)."""
    if not out.exists():
        return {}
    return {p.name: _MD_ESCAPE.sub(r"\1", p.read_text(encoding="utf-8"))
            for p in sorted(out.glob("*.md"))}
