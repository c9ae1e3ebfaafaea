"""The watcher against real events: killed runs are drafted once, replays draft nothing new.

One scenario, run once for the module (it costs about a minute of wall time):

1. a served process offers two deployments that sleep until killed; one has our hooks;
2. watcher #1 (``scribe-prefect watch``) starts and follows the events stream, through a TCP
   proxy that then drops every connection and refuses new ones for a few seconds (a server
   restart, as the watcher sees it); everything below happens after that;
3. both flow runs are killed with SIGKILL; Prefect's runner marks them Crashed (and runs the
   hooked flow's crash hook in the serving process);
4. an unhooked flow fails normally in this process;
5. watcher #1 stops after its time; watcher #2 starts, receives the replay of the recent
   events and catches up on recent failed runs, and must draft nothing new.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from conftest import HERE, Scribe
from prefect import flow, task
from prefect.client.orchestration import get_client

SCRIBE_PREFECT = str(Path(sys.executable).with_name("scribe-prefect"))


@dataclass
class Scenario:
    scribe: Scribe
    runs: dict[str, str] = field(default_factory=dict)
    """flow name -> flow run id"""
    first: str = ""
    """watcher #1's stderr"""
    second: str = ""
    drafts_after_first: dict[str, str] = field(default_factory=dict)
    drafts_after_second: dict[str, str] = field(default_factory=dict)

    def draft_for(self, flow_name: str) -> list[str]:
        run_id = self.runs[flow_name]
        return [text for text in self.drafts_after_second.values() if run_id in text]


class _Reader:
    """Collects a subprocess's stderr in a thread, so the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.2)
        return False

    def text(self) -> str:
        self._thread.join(5)
        return "".join(self.lines)


class _Proxy:
    """A TCP proxy to the Prefect API that can drop all connections, like a server restart."""

    def __init__(self, api_url: str) -> None:
        parts = urlsplit(api_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._server = socket.create_server(("127.0.0.1", 0))
        port = self._server.getsockname()[1]
        self.url = urlunsplit((parts.scheme, f"127.0.0.1:{port}", parts.path, "", ""))
        self._open = True
        self._live: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def outage(self, seconds: float) -> None:
        """Cut every live connection and refuse new ones for ``seconds``."""
        self._open = False
        with self._lock:
            live, self._live = self._live, []
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        time.sleep(seconds)
        self._open = True

    def close(self) -> None:
        self._open = False
        self._server.close()


@task(name="summarise-sales")
def summarise_sales(sales_path: str) -> None:
    raise KeyError("column 'region' not found in sales extract")


@flow(name="fails-unhooked")
def fails_unhooked(sales_path: str) -> None:
    summarise_sales(sales_path)


def _env(api: str, scribe: Scribe) -> dict[str, str]:
    env = dict(os.environ)
    env.update(scribe.env())
    env.update({
        "PREFECT_API_URL": api,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _wait(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _read_drafts(scribe: Scribe) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in scribe.drafts()}


# The session's other tests fail flows on the same server within the replay and catch-up
# windows; they reported into their own stores, so the watchers here look at these flows only.
WATCHED = ("--flow", "killed-*", "--flow", "fails-unhooked")


def _watch(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], _Reader]:
    proc = subprocess.Popen([SCRIBE_PREFECT, "watch", *WATCHED, *args], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, _Reader(proc)


@pytest.fixture(scope="module")
def scenario(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    scribe = Scribe(tmp_path_factory.mktemp("watcher"))
    env = _env(prefect_api, scribe)
    result = Scenario(scribe)
    served = subprocess.Popen([sys.executable, str(HERE / "served_flows.py")], cwd=HERE, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = _Proxy(prefect_api)
    watcher = None
    try:
        with get_client(sync_client=True) as client:
            deployments = {}
            for name in ("killed-unhooked/unhooked", "killed-hooked/hooked"):
                deployments[name] = _wait(lambda n=name: _try(client.read_deployment_by_name, n),
                                          60, f"deployment {name}")

            # The grace must cover the runner's crash hook (3-4 s here): the watcher looks
            # only after it, finds the hook's report and drafts nothing.
            watcher, reader = _watch({**env, "PREFECT_API_URL": proxy.url}, "--grace", "12",
                                     "--settle", "2", "--catch-up", "0", "--exit-after", "45")
            assert reader.wait_for("connected to the Prefect events stream", 30), reader.text()
            started = time.monotonic()
            proxy.outage(4.0)  # the watcher's events stream and API client lose the server

            pid_files = {}
            for name, deployment in deployments.items():
                flow_name = name.split("/")[0]
                pid_file = scribe.root / f"{flow_name}.pid"
                pid_files[flow_name] = pid_file
                run = client.create_flow_run_from_deployment(
                    deployment.id, parameters={"pid_file": str(pid_file)})
                result.runs[flow_name] = str(run.id)
            for flow_name, pid_file in pid_files.items():
                pid = int(_wait(lambda p=pid_file: p.exists() and p.read_text(), 60,
                                f"{flow_name} to start"))
                os.kill(pid, signal.SIGKILL)
            for flow_name, run_id in result.runs.items():
                _wait(lambda r=run_id: client.read_flow_run(r).state.is_crashed(), 30,
                      f"{flow_name} to be marked Crashed")

            state = fails_unhooked(str(scribe.root / "sales.csv"), return_state=True)
            assert state.is_failed()
            result.runs["fails-unhooked"] = str(state.state_details.flow_run_id)

        watcher.wait(timeout=max(10.0, 45 - (time.monotonic() - started)) + 60)
        result.first = reader.text()
        result.drafts_after_first = _read_drafts(scribe)

        # A restarted watcher gets the replay of the last minute and a catch-up of failed runs.
        watcher, reader = _watch(env, "--grace", "1", "--settle", "1", "--catch-up", "600",
                                 "--exit-after", "8")
        watcher.wait(timeout=90)
        result.second = reader.text()
        result.drafts_after_second = _read_drafts(scribe)
    finally:
        proxy.close()
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
        served.send_signal(signal.SIGINT)
        try:
            served.wait(timeout=15)
        except subprocess.TimeoutExpired:
            served.kill()
            served.wait(timeout=5)
    return result


def _try(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - not there yet
        return None


def test_killed_run_without_hooks_is_drafted_by_the_watcher_once(scenario: Scenario) -> None:
    drafts = scenario.draft_for("killed-unhooked")
    assert len(drafts) == 1, scenario.first
    draft = drafts[0]
    assert "killed-unhooked" in draft
    assert "SIGKILL" in draft
    assert "postmortem-scribe (watcher)" in draft
    assert "working on the nightly aggregate" in draft  # the run's log, read from the API


def test_killed_run_with_hooks_is_drafted_once_by_the_runners_crash_hook(
    scenario: Scenario,
) -> None:
    drafts = scenario.draft_for("killed-hooked")
    assert len(drafts) == 1, scenario.first
    assert "SIGKILL" in drafts[0]
    assert "postmortem-scribe (hook)" in drafts[0]
    assert "postmortem-scribe (watcher)" not in drafts[0]


def test_failure_of_a_flow_without_hooks_is_drafted_with_its_task_and_traceback(
    scenario: Scenario,
) -> None:
    drafts = scenario.draft_for("fails-unhooked")
    assert len(drafts) == 1, scenario.first
    draft = drafts[0]
    assert "fails-unhooked" in draft and "summarise-sales" in draft
    assert "KeyError" in draft and "column 'region' not found in sales extract" in draft
    assert "test_watcher.py" in draft  # a frame parsed from the traceback in the run's logs
    assert "postmortem-scribe (watcher)" in draft


def test_the_watcher_outlived_a_lost_connection(scenario: Scenario) -> None:
    # Every event came after the outage, so drafting them all needed a new connection.
    connections = re.search(r"(\d+) connections", scenario.first)
    assert connections and int(connections.group(1)) >= 2, scenario.first
    drafted = [run for run in scenario.runs.values()
               if any(run in text for text in scenario.drafts_after_first.values())]
    assert len(drafted) == 3, scenario.first


def test_replay_and_catch_up_draft_nothing_new(scenario: Scenario) -> None:
    assert len(scenario.drafts_after_first) == 3, scenario.first
    assert scenario.drafts_after_second == scenario.drafts_after_first, scenario.second
    assert "0 drafted" in scenario.second
