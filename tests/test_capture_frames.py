"""Which frames are the pipeline's own code, and module names from file names."""

from __future__ import annotations

import json
import os
import sysconfig

import pytest

from postmortem_scribe.capture import is_in_app, module_from_filename


@pytest.mark.parametrize(("filename", "module"), [
    ("/opt/airflow/dags/etl/load.py", "unusual_prefix_" + "0" * 40 + "_load"),
    ("/home/me/pipelines/flows/orders.py", "orders"),
    ("/srv/app/src/company_etl/jobs/load.py", "company_etl.jobs.load"),
    ("<string>", None),
    ("<stdin>", "__main__"),
    ("etl/load.py", None),
])
def test_the_pipelines_own_code_is_in_app(filename: str, module: str | None) -> None:
    assert is_in_app(filename, module) is True


@pytest.mark.parametrize(("filename", "module"), [
    ("/usr/local/lib/python3.11/site-packages/pandas/io/parsers/readers.py", "pandas.io.parsers.readers"),
    ("/usr/lib/python3/dist-packages/psycopg2/__init__.py", None),
    ("/work/.venv/lib/python3.12/site-packages/airflow/models/taskinstance.py", None),
    ("/usr/lib/python3.11/concurrent/futures/thread.py", None),
    ("/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py", "json.decoder"),
    ("C:\\Python311\\Lib\\json\\decoder.py", None),
    ("<frozen importlib._bootstrap>", "importlib._bootstrap"),
    ("parsers.pyx", "pandas._libs.parsers"),
    # Orchestrator code outside site-packages: official images, source checkouts.
    ("/opt/airflow/airflow-core/src/airflow/models/taskinstance.py", None),
    ("/opt/airflow/task-sdk/src/airflow/sdk/execution_time/task_runner.py", None),
    ("/src/prefect/src/prefect/task_engine.py", None),
    ("/anywhere/runner.py", "prefect.runner.runner"),
    ("/anywhere/x.py", "anyio._backends._asyncio"),
    ("/anywhere/y.py", "postmortem_scribe.capture.logs"),
    ("/app/lib.zip/vendored/mod.py", None),
])
def test_libraries_stdlib_and_orchestrators_are_not(filename: str, module: str | None) -> None:
    assert is_in_app(filename, module) is False


def test_this_interpreters_standard_library_is_not_in_app() -> None:
    assert is_in_app(json.__file__, "json") is False
    stdlib = sysconfig.get_paths()["stdlib"]
    assert is_in_app(os.path.join(stdlib, "made_up_module.py"), None) is False


def test_app_roots_win() -> None:
    pandas_file = "/usr/local/lib/python3.11/site-packages/pandas/io/parsers/readers.py"
    assert is_in_app(pandas_file, "pandas.io.parsers.readers", ["pandas"]) is True
    assert is_in_app(pandas_file, "pandas.io.parsers.readers", ["pandas.io"]) is True
    assert is_in_app(pandas_file, "pandas.io.parsers.readers", ["pand"]) is False
    assert is_in_app(pandas_file, None, ["/usr/local/lib/python3.11/site-packages/pandas"]) is True
    assert is_in_app(pandas_file, None, ["/usr/local/lib/python3.11/site-packages/pan"]) is False
    assert is_in_app("/home/me/jobs/x.py", "company.jobs.x", ["company."]) is True


def test_bad_input_counts_as_in_app_and_never_raises() -> None:
    assert is_in_app(None, None) is True  # type: ignore[arg-type]
    assert is_in_app("/app/x.py", 42, [None, 3, ""]) is True  # type: ignore[arg-type, list-item]


@pytest.mark.parametrize(("filename", "module"), [
    ("/opt/airflow/dags/etl/load.py", "etl.load"),
    ("/opt/airflow/dags/load.py", "load"),
    ("/opt/airflow/plugins/helpers/db.py", "helpers.db"),
    ("/usr/local/lib/python3.11/site-packages/pandas/io/parsers/readers.py", "pandas.io.parsers.readers"),
    ("/usr/local/lib/python3.11/site-packages/pandas/__init__.py", "pandas"),
    ("/usr/lib/python3/dist-packages/psycopg2/extras.py", "psycopg2.extras"),
    ("/usr/lib/python3.11/concurrent/futures/thread.py", "concurrent.futures.thread"),
    ("C:\\Python311\\Lib\\json\\decoder.py", "json.decoder"),
    ("C:\\venv\\Lib\\site-packages\\requests\\api.py", "requests.api"),
    ("/srv/repo/src/company_etl/jobs/load.py", "company_etl.jobs.load"),
    ("/home/me/my jobs/load.py", "load"),
    ("/home/me/jobs/load.py", "load"),
    ("load.py", "load"),
    ("parsers.pyx", "parsers"),
    ("<frozen importlib._bootstrap>", "importlib._bootstrap"),
    ("<string>", None),
    ("/tmp/data.csv", None),
    ("", None),
])
def test_module_from_filename(filename: str, module: str | None) -> None:
    assert module_from_filename(filename) == module


def test_module_from_filename_never_raises() -> None:
    assert module_from_filename(None) is None  # type: ignore[arg-type]
    assert module_from_filename(b"/x.py") is None  # type: ignore[arg-type]
