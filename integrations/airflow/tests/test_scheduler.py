"""One real deployment in miniature: API server, scheduler (LocalExecutor) and DAG processor as
separate processes, the plugin loaded from its entry point in each of them.

- A task that SIGKILLs itself (as the OOM killer would): nothing runs in its process after the
  kill, so only the scheduler's DAG-run-failed hook can draft it, from the task's log file.
- A task that raises on a malformed CSV: drafted in the task process, with the log excerpt read
  from the JSON-lines log file the supervisor writes.
- The DAG-run-failed hook also sees the ordinary failure, finds it reported, and adds nothing.
  (A scheduler restart that replays DAG-run-failed lands on the same check; test_listener calls
  the hook again on a finished run to cover it without a second scheduler start.)

On Airflow 2.x the same test runs the scheduler alone (it parses DAGs itself and there is no
API server), with the SequentialExecutor (2.x refuses SQLite with the LocalExecutor); the task
log is text, and the hard kill shows as its supervisor's "Task exited with return code -9".

Bounded: every wait has a deadline, and all processes are stopped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import drafts
from postmortem_scribe_airflow.version_compat import AIRFLOW_V_3_0_PLUS

pytestmark = [pytest.mark.scheduler, pytest.mark.timeout(420)]

AIRFLOW = str(Path(sys.executable).parent / "airflow")

KILL_DAG = '''
from __future__ import annotations

import datetime
import os

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator


def transform(input_path):
    print(f"reading {{input_path}} into memory")
    os.kill(os.getpid(), 9)


with DAG("kill_orders", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False,
         tags=["sales"], default_args={{"owner": "data-eng"}}):
    PythonOperator(task_id="transform", python_callable=transform,
                   op_kwargs={{"input_path": "{csv}"}})
'''

FAIL_DAG = '''
from __future__ import annotations

import csv
import datetime

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.common.compat.standard.operators import PythonOperator


def load_orders(input_path):
    print(f"loading {{input_path}}")
    with open(input_path, newline="") as fh:
        return sum(float(row["amount"]) for row in csv.DictReader(fh))


with DAG("fail_orders", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    PythonOperator(task_id="load_orders", python_callable=load_orders,
                   op_kwargs={{"input_path": "{csv}"}})
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """Starts and stops the Airflow processes of one test; each in its own process group."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        port = _free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("AIRFLOW__", "AIRFLOW_HOME"))}
        self.env.update({
            "AIRFLOW_HOME": str(root / "home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(root / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "SCRIBE_STORE_URL": f"sqlite:///{root / 'store.db'}",
            "SCRIBE_OUTPUT_DIR": str(out),
        })
        if AIRFLOW_V_3_0_PLUS:
            self.env.update({
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            })
        else:  # Airflow 2.x: the scheduler parses DAGs; no API server is needed by tasks
            self.env.update({
                # The 2.x executors start each task as `airflow tasks run ...`, found on PATH.
                "PATH": os.pathsep.join([str(Path(AIRFLOW).parent), os.environ.get("PATH", "")]),
                "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
                "AIRFLOW__WEBSERVER__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            })
        (root / "home").mkdir(parents=True, exist_ok=True)

    def cli(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen([AIRFLOW, *args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.root,
                                            start_new_session=True)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        # Its own session: the group holds exactly the processes this one started
        # (LocalExecutor workers, log server, task supervisors).
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def run_state(self, dag_id: str) -> str | None:
        """State of the DAG's latest run, read from the SQLite metadata DB (no CLI start-up)."""
        import sqlite3

        db = self.root / "home" / "airflow.db"
        if not db.exists():
            return None
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("select state from dag_run where dag_id = ? order by id desc",
                               (dag_id,)).fetchone()
        return row[0] if row else None

    def api_ready(self) -> bool:
        import urllib.request

        url = self.env["AIRFLOW__API__BASE_URL"] + "/api/v2/monitor/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return response.status == 200
        except OSError:
            return False

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture()
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    dep = Deployment(tmp_path, tmp_path / "drafts")
    try:
        yield dep
    finally:
        dep.stop_all()


def _wait_for(predicate, timeout: float, what: str, dep: Deployment) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(2)
    tails = "\n".join(f"--- {n} ---\n{dep.log(n)[-3000:]}" for n in ("scheduler", "api-server",
                                                                     "dag-processor"))
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


def test_sigkilled_task_and_failing_task_each_get_one_draft_from_a_real_scheduler(
        deployment: Deployment, malformed_csv: Path) -> None:
    dep = deployment
    out = dep.root / "drafts"
    (dep.root / "dags").mkdir()
    (dep.root / "dags" / "kill_orders.py").write_text(KILL_DAG.format(csv=malformed_csv))
    (dep.root / "dags" / "fail_orders.py").write_text(FAIL_DAG.format(csv=malformed_csv))
    dep.cli("db", "migrate")
    dep.cli("dags", "reserialize")
    assert "postmortem_scribe" in dep.cli("plugins")

    if AIRFLOW_V_3_0_PLUS:
        dep.start("api-server", "api-server")
        dep.start("scheduler", "scheduler")
        dep.start("dag-processor", "dag-processor")
        # Task supervisors talk to the API server: a task started before it listens fails with
        # "Connection refused" (a different failure than the one under test).
        _wait_for(dep.api_ready, 120, "the API server to answer", dep)
    else:
        dep.start("scheduler", "scheduler")
    dep.cli("dags", "trigger", "kill_orders")
    dep.cli("dags", "trigger", "fail_orders")

    _wait_for(lambda: len(drafts(out)) >= 2 and dep.run_state("kill_orders") == "failed"
              and dep.run_state("fail_orders") == "failed",
              240, "both runs to fail and two drafts to appear", dep)

    files = drafts(out)
    assert len(files) == 2, files
    killed = next(t for t in files.values() if "kill_orders" in t)
    failed = next(t for t in files.values() if "fail_orders" in t)

    # The hard kill: drafted by the scheduler from the log file.
    assert "transform" in killed and "try 1 of 1" in killed
    assert "signal 9" in killed  # the evidence the adapter found in the log
    # The supervisor's record, in the excerpt (JSON lines on 3.x, a text line on 2.x).
    if AIRFLOW_V_3_0_PLUS:
        assert "Process terminated by signal" in killed
    else:
        assert "Task exited with return code -9" in killed
    assert "reading " in killed  # the task's own output, from the log excerpt
    assert str(malformed_csv) in killed  # the input, from op_kwargs of the serialized task
    assert "manual__" in killed  # the run id

    # The ordinary failure: drafted in the task process, with the live exception and the log.
    assert "ValueError" in failed and "could not convert string to float" in failed
    assert "loading " in failed  # a line the task printed, read back from its log file
    assert str(malformed_csv) in failed
    _wait_for(lambda: "already reported" in dep.log("scheduler"), 60,
              "the DAG-run hook to find the task's own report", dep)
    assert len(drafts(out)) == 2
