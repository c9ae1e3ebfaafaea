"""Configuration from an Airflow Variable, the GitHub token from an Airflow connection, and
secrets masked by Airflow's masker as well as the core's scrubber."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from conftest import drafts, run_dag, write_dag

RAISER = '''
from __future__ import annotations

import datetime

from airflow.providers.common.compat.sdk import DAG, BaseHook
from airflow.providers.common.compat.standard.operators import PythonOperator


def call_warehouse():
    conn = BaseHook.get_connection("warehouse")
    # No "password=" near the value: only Airflow's masker knows it is a secret.
    raise RuntimeError(f"login to {{conn.host}} refused, server echoed {{conn.password}}; "
                       f"token {token!r}")


with DAG("{dag_id}", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    PythonOperator(task_id="call_warehouse", python_callable=call_warehouse)
'''

WAREHOUSE_PASSWORD = "wh-pass-7f3a91c2d4"
GITHUB_TOKEN = "ghp_Tk9xQw2mZr8LpV5nB3cD7fG1hJ4kL6sA0eYu"


@pytest.fixture()
def warehouse_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db.internal", "login": "etl",
        "password": WAREHOUSE_PASSWORD}))


def test_config_comes_from_the_airflow_variable_and_env_wins(
        scribe_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        warehouse_connection: None) -> None:
    elsewhere = tmp_path / "variable-output"
    monkeypatch.setenv("AIRFLOW_VAR_POSTMORTEM_SCRIBE_CONFIG", json.dumps({
        "routing": {"default_lead": "carol"},
        "output": {"dir": str(elsewhere)},
    }))
    path = write_dag("cfg_variable", RAISER.format(dag_id="cfg_variable", token=""))
    run_dag("cfg_variable", path)

    files = drafts(scribe_env)  # SCRIBE_OUTPUT_DIR is set, so it beats the Variable's dir
    assert len(files) == 1, files
    assert not elsewhere.exists()
    assert "carol" in next(iter(files.values()))  # the Variable's default lead


def test_a_malformed_variable_is_reported_not_fatal(
        scribe_env: Path, monkeypatch: pytest.MonkeyPatch, warehouse_connection: None) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_POSTMORTEM_SCRIBE_CONFIG", "{not json")
    path = write_dag("cfg_broken", RAISER.format(dag_id="cfg_broken", token=""))
    run_dag("cfg_broken", path)

    files = drafts(scribe_env)
    assert len(files) == 1, files
    assert "postmortem_scribe_config" in next(iter(files.values()))  # the problem is named


def test_connection_passwords_never_reach_the_draft(
        scribe_env: Path, warehouse_connection: None) -> None:
    path = write_dag("secret_pw", RAISER.format(dag_id="secret_pw", token=""))
    run_dag("secret_pw", path)

    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    assert "login to db.internal refused" in text
    assert WAREHOUSE_PASSWORD not in text
    assert "server echoed [redacted" in text  # the value Airflow's masker knew, scrubbed


def test_github_token_comes_from_the_connection_and_is_scrubbed(
        scribe_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        warehouse_connection: None) -> None:
    """With a repository configured, the token is read from ``github_default``; GitHub is not
    reachable here (a closed local port), so the draft waits in the outbox, token-free."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.setenv("SCRIBE_GITHUB_REPO", "acme/pipelines")
    monkeypatch.setenv("SCRIBE_GITHUB_API_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps({
        "conn_type": "github", "password": GITHUB_TOKEN}))
    path = write_dag("secret_token", RAISER.format(dag_id="secret_token", token=GITHUB_TOKEN))
    run_dag("secret_token", path)

    from postmortem_scribe.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    messages = store.outbox_messages()
    assert len(messages) == 1, messages
    body = json.dumps(messages[0], default=str)
    assert "call_warehouse" in body
    assert GITHUB_TOKEN not in body
    assert WAREHOUSE_PASSWORD not in body
    assert "no GitHub token" not in body  # the connection supplied it


def test_a_connection_password_that_is_the_word_airflow_leaves_names_alone(
        scribe_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 2's masker registers any password, even "airflow" (the password of its default
    connections); scrubbing that word would blank every DAG id, path and frame containing it.
    Airflow 3's masker never masks it, and neither does the draft on either release."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db.internal", "login": "etl", "password": "airflow"}))
    path = write_dag("airflow_usage", RAISER.format(dag_id="airflow_usage", token=""))
    run_dag("airflow_usage", path)

    files = drafts(scribe_env)
    assert len(files) == 1, files
    text = next(iter(files.values()))
    assert "airflow_usage → call_warehouse" in text  # the DAG id, unscrubbed
    assert "redacted" not in text
