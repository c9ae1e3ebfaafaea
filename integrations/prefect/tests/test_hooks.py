"""In-process hooks on real Prefect runs: one draft per failure, naming what a person needs."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import flows_under_test as f
import postmortem_scribe_prefect as psp
import pytest
from conftest import EXAMPLES, Scribe
from postmortem_scribe_prefect import _compat
from prefect.settings import PREFECT_LOGGING_TO_API_ENABLED, temporary_settings


def test_install_leaves_decorators_alone_and_drafts_a_task_failure_once(
    scribe: Scribe, malformed_csv: Path
) -> None:
    from orders_flow import daily_orders, read_orders, total_revenue

    installed = psp.install(daily_orders)
    again = psp.install(daily_orders)  # idempotent

    assert installed.flows == ["daily-orders"] and again.flows == ["daily-orders"]
    assert set(installed.tasks) == {"read_orders", "total_revenue"}
    assert daily_orders.on_failure_hooks.count(psp.on_flow_failure) == 1
    assert daily_orders.on_crashed_hooks.count(psp.on_flow_failure) == 1
    assert read_orders.on_failure_hooks.count(psp.on_task_failure) == 1
    assert total_revenue.on_failure_hooks.count(psp.on_task_failure) == 1
    # The decorator's own settings are untouched.
    assert read_orders.retries == 1 and daily_orders.name == "daily-orders"

    state = daily_orders(str(malformed_csv), return_state=True)

    assert state.is_failed()
    assert "Expected 4 fields in line 24, saw 5" in state.message  # Prefect's own state, as it was
    draft = scribe.only_draft()  # the task's failure failed the flow: one incident, not two
    assert "daily-orders" in draft  # the flow
    assert "read_orders" in draft  # the task
    assert "ValueError" in draft and "Expected 4 fields in line 24, saw 5" in draft  # exception
    assert "orders_flow.py" in draft  # a frame of the user's code from the live traceback
    assert "reading orders from" in draft  # a log excerpt, read back from the Prefect API
    assert "orders_malformed.csv" in draft  # the input file ...
    assert "line 24" in draft and "5 fields" in draft  # ... with its diagnosis


def test_flow_body_failure_is_one_draft(scribe: Scribe) -> None:
    state = f.flow_body_fails(return_state=True)

    assert state.is_failed()
    draft = scribe.only_draft()
    assert "flow-body-fails" in draft
    assert "RuntimeError" in draft and "threshold 3 exceeded: 7 rejected rows" in draft
    assert "checking the threshold 3" in draft


def test_subflow_failure_is_one_incident(scribe: Scribe, malformed_csv: Path) -> None:
    installed = psp.install(f.parent_orchestrator)
    assert {"parent-orchestrator", "child-loader"} <= set(installed.flows)
    assert "parse-batch" in installed.tasks

    state = f.parent_orchestrator(str(malformed_csv), return_state=True)

    assert state.is_failed()
    draft = scribe.only_draft()  # task, child flow and parent flow all failed: one draft
    assert "child-loader" in draft and "parse-batch" in draft
    assert "Expected 4 fields in line 24, saw 5" in draft
    assert "orders_malformed.csv" in draft


def test_retries_give_one_draft_for_the_last_try(scribe: Scribe, tmp_path: Path) -> None:
    source = tmp_path / "extract.sql"
    source.write_text("select 1\n", encoding="utf-8")

    state = f.retrying_flow(str(source), return_state=True)

    assert state.is_failed()
    draft = scribe.only_draft()
    assert "flaky-extract" in draft and "retrying-flow" in draft
    assert "Connection refused" in draft
    assert "3" in draft and "ran it 3 times" in draft  # the last of 3 tries


def test_async_flow_and_task(scribe: Scribe, malformed_csv: Path) -> None:
    import asyncio

    psp.install(f.async_flow)

    state = asyncio.run(f.async_flow(str(malformed_csv), return_state=True))

    assert state.is_failed()
    draft = scribe.only_draft()
    assert "async-flow" in draft and "async-read" in draft
    assert "ValueError" in draft and "Expected 4 fields in line 24, saw 5" in draft
    assert "flows_under_test.py" in draft  # the traceback came from the live exception
    assert "async reading" in draft


def test_crash_by_system_exit_is_drafted_by_on_crashed(scribe: Scribe) -> None:
    # Prefect marks the run Crashed, runs on_crashed hooks, then lets SystemExit go on.
    with pytest.raises(SystemExit):
        f.exits_hard(return_state=True)

    draft = scribe.only_draft()
    assert "exits-hard" in draft
    assert "crashed" in draft.lower()
    assert "SystemExit" in draft or "sys.exit" in draft


def test_logs_come_from_the_process_when_the_api_has_none(scribe: Scribe) -> None:
    with temporary_settings(updates={PREFECT_LOGGING_TO_API_ENABLED: False}):
        state = f.flow_body_fails(threshold=9, return_state=True)

    assert state.is_failed()
    draft = scribe.only_draft()
    assert "checking the threshold 9" in draft  # from the in-process buffer


def test_hook_never_changes_the_state_even_when_reporting_cannot_work(
    scribe: Scribe, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the store's directory should be", encoding="utf-8")
    monkeypatch.setenv("SCRIBE_STORE_URL", f"sqlite:///{blocked / 'store.db'}")
    monkeypatch.setenv("SCRIBE_OUTPUT_DIR", str(blocked / "drafts"))

    state = f.flow_body_fails(threshold=5, return_state=True)

    assert state.is_failed()
    assert state.message == (
        "Flow run encountered an exception: RuntimeError: threshold 5 exceeded: 7 rejected rows"
    )


def test_hook_gives_up_waiting_after_its_timeout(
    scribe: Scribe, monkeypatch: pytest.MonkeyPatch, malformed_csv: Path
) -> None:
    from orders_flow import daily_orders

    psp.install(daily_orders)
    monkeypatch.setenv("SCRIBE_PREFECT_HOOK_TIMEOUT", "0")

    state = daily_orders(str(malformed_csv), return_state=True)

    assert state.is_failed()  # the run went on without waiting for the reports ...
    for thread in threading.enumerate():
        if thread.name.startswith("postmortem-scribe"):
            thread.join(60)
    draft = scribe.only_draft()  # ... which finished in the background: still one incident
    assert "read_orders" in draft and "Expected 4 fields in line 24, saw 5" in draft


def test_hooks_have_the_parameter_names_prefect_calls_by_keyword() -> None:
    # The runner calls crash hooks as hook(flow=..., flow_run=..., state=...).
    assert list(inspect.signature(psp.on_flow_failure).parameters) == ["flow", "flow_run", "state"]
    assert list(inspect.signature(psp.on_task_failure).parameters) == ["task", "task_run", "state"]
    flow_params = ["flow", "flow_run", "state"]
    assert list(inspect.signature(psp.on_flow_completion).parameters) == flow_params


def test_a_success_profile_lets_the_draft_say_what_changed(scribe: Scribe, tmp_path: Path) -> None:
    psp.install(f.profiled_flow)
    data = tmp_path / "incoming" / "orders.csv"
    data.parent.mkdir()
    shutil.copy(EXAMPLES / "data" / "orders_good.csv", data)

    ok = f.profiled_flow(str(data), return_state=True)  # the completion hook profiles the input
    assert ok.is_completed()
    assert scribe.drafts() == []

    # The next upload renamed a column and has a ragged row.
    bad = (EXAMPLES / "data" / "orders_malformed.csv").read_text(encoding="utf-8")
    data.write_text(bad.replace("order_id,customer,", "order_id,client,", 1), encoding="utf-8")
    failed = f.profiled_flow(str(data), return_state=True)

    assert failed.is_failed()
    draft = scribe.only_draft()
    assert "orders.csv" in draft and "line 24" in draft
    assert "'customer'" in draft and "'client'" in draft  # what changed since it last worked


def test_a_flow_that_fails_and_passes_in_turn_is_labelled_flaky(scribe: Scribe,
                                                                 tmp_path: Path) -> None:
    psp.install(f.profiled_flow)
    data = tmp_path / "drop" / "orders.csv"
    data.parent.mkdir()
    good = (EXAMPLES / "data" / "orders_good.csv").read_text(encoding="utf-8")
    bad = (EXAMPLES / "data" / "orders_malformed.csv").read_text(encoding="utf-8")
    # The completion hooks record each success; fail, pass, fail, pass, fail is a pattern.
    for content in (bad, good, bad, good, bad):
        data.write_text(content, encoding="utf-8")
        f.profiled_flow(str(data), return_state=True)

    draft = scribe.only_draft()  # one incident, commented on, never re-drafted
    labels = next(line for line in draft.splitlines() if line.startswith("<!-- Labels:"))
    assert "flaky" in labels and "repeat-failure" in labels


def test_token_from_a_named_secret_block_never_reaches_the_draft(
    scribe: Scribe, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    from prefect.blocks.system import Secret

    token = "wobbly-kettle-7731-plum-gantry"  # no known token shape: only the block reveals it
    Secret(value=token).save("scribe-test-token", overwrite=True)
    monkeypatch.setenv("SCRIBE_PREFECT_SECRET_BLOCK", "scribe-test-token")

    state = f.leaky_flow(token, return_state=True)

    assert state.is_failed()
    draft = scribe.only_draft()
    assert "leaky-flow" in draft and "PermissionError" in draft and "403 Forbidden" in draft
    assert "calling the partner API as" in draft
    assert token not in draft

    check = subprocess.run(
        [str(Path(sys.executable).with_name("scribe-prefect")), "check"],
        env={**os.environ, "PREFECT_API_URL": prefect_api}, capture_output=True, text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert "Prefect Secret block 'scribe-test-token'" in check.stdout
    assert token not in check.stdout + check.stderr


def test_every_run_of_a_mapped_task_failing_is_one_draft(scribe: Scribe, tmp_path: Path) -> None:
    psp.install(f.mapped_flow)
    parts = [str(tmp_path / f"part-{i}.csv") for i in range(4)]

    state = f.mapped_flow(parts, return_state=True)

    assert state.is_failed()
    draft = scribe.only_draft()
    assert "mapped-flow" in draft and "score-part" in draft and "header row missing" in draft


def test_install_reports_what_is_not_a_flow() -> None:
    result = psp.install(object())
    assert result.flows == [] and result.problems and "not a Prefect flow" in result.problems[0]


def test_compat_flags_match_the_installed_prefect() -> None:
    import prefect

    assert _compat.PREFECT_VERSION == prefect.__version__
    assert _compat.PREFECT_3_PLUS
