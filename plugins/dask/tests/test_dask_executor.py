"""The dask executor on a real 2-worker LocalCluster: same outputs as local, progress reaches
the driver, a timeout kills the attempt's process on the worker, and a worker killed mid-node
costs only that node's attempt."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time
from pathlib import Path

import pytest

from autoglm.engine import Engine
from autoglm.executors import ExecutorChoice
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow

NODES = Path(__file__).parent / "dask_nodes"
DASK = ExecutorChoice("dask", {"n_workers": 2})

pytestmark = pytest.mark.slow


@pytest.fixture
def host(tmp_path, monkeypatch) -> Host:
    monkeypatch.setenv("AUTOGLM_HOME", str(tmp_path / "home"))
    return Host.load(PluginSelection(allow=("daskt", "dask"), plugin_dirs=(str(NODES),)))


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "home" / "runs.sqlite")


class Recorder:
    """A progress reporter that keeps what the engine tells the display."""

    def __init__(self) -> None:
        self.progress: list[tuple[str, float, str | None]] = []

    def run_started(self, run_id: str, total: int, done: int) -> None: ...
    def node_started(self, node_id: str) -> None: ...
    def node_progress(self, node_id, completed, total, message) -> None:
        self.progress.append((node_id, completed, message))

    def node_finished(self, node_id: str, status: str) -> None: ...
    def run_finished(self, status: str) -> None: ...


def branches(log: Path, hold: Path | None = None) -> str:
    held = f', hold_file: "{hold}"' if hold else ""
    return textwrap.dedent(
        f"""
        nodes:
          - id: a
            type: daskt.work
            config: {{log: "{log}", add: 1}}
          - id: b
            type: daskt.work
            config: {{log: "{log}", add: 10{held}}}
            inputs: {{value: $a.value}}
          - id: c
            type: daskt.work
            config: {{log: "{log}", add: 100, sleep: 0.3}}
            inputs: {{value: $a.value}}
          - id: d
            type: daskt.work
            config: {{log: "{log}", add: 1000, sleep: 0.3}}
            inputs: {{value: $a.value}}
          - id: e
            type: core.noop
            inputs: {{value: [$b.value, $c.value, $d.value]}}
        outputs: {{result: $e.value}}
        """
    )


def executions(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_parallel_branches_give_the_same_outputs_on_local_and_dask(host, store, tmp_path):
    local = Engine(host, store).run(parse_workflow(branches(tmp_path / "l.jsonl"), host))
    recorder = Recorder()
    engine = Engine(host, store, use_cache=False, reporter=recorder, executor=DASK)
    remote = engine.run(parse_workflow(branches(tmp_path / "d.jsonl"), host))
    assert local.status == remote.status == "succeeded", remote.error
    assert local.outputs == remote.outputs == {"result": [11, 101, 1001]}
    ran = executions(tmp_path / "d.jsonl")
    assert sorted(r["node"] for r in ran) == ["a", "b", "c", "d"]
    assert all(r["pid"] != os.getpid() for r in ran)  # on the workers, not the driver
    assert ("c", 1, "half way") in recorder.progress  # a worker's progress reached the display
    assert store.get_run(remote.run_id).options["executor"]["name"] == "dask"


def test_a_timeout_kills_the_attempt_on_the_dask_worker(host, store, tmp_path):
    hold = tmp_path / "hold.json"
    text = textwrap.dedent(
        f"""
        executor: {{name: dask, options: {{n_workers: 2}}}}
        nodes:
          - id: stuck
            type: daskt.work
            config: {{log: "{tmp_path / "log.jsonl"}", hold_file: "{hold}"}}
            timeout: 4
            retry: {{attempts: 1}}
        """
    )
    wf = parse_workflow(text, host)
    result = Engine(host, store).run(wf)
    assert result.status == "failed" and "timeout" in (result.error or "")
    pids = json.loads(hold.read_text())
    assert pids["ppid"] != os.getpid()  # the isolated process was a Dask worker's child
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pids["pid"]):
        time.sleep(0.1)
    assert not _alive(pids["pid"]), "the timed-out attempt's process still runs"


def test_a_worker_killed_mid_node_is_retried_elsewhere_and_nothing_finished_reruns(
    host, store, tmp_path
):
    log, hold = tmp_path / "log.jsonl", tmp_path / "hold.json"
    wf = parse_workflow(branches(log, hold), host)
    engine = Engine(host, store, use_cache=False, executor=DASK)
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("r", engine.run(wf)))
    runner.start()
    deadline = time.monotonic() + 90
    while not hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hold.exists(), "node b never started"
    time.sleep(0.2)
    killed = json.loads(hold.read_text())["pid"]  # thread isolation: the Dask worker itself
    assert killed != os.getpid()
    os.kill(killed, signal.SIGKILL)
    runner.join(120)
    result = outcome["r"]
    assert result.status == "succeeded", result.error
    assert result.outputs == {"result": [11, 101, 1001]}
    ran = executions(log)
    assert sorted(r["node"] for r in ran) == ["a", "b", "c", "d"]  # each finished node once
    [b] = [r for r in ran if r["node"] == "b"]
    assert b["pid"] != killed  # finished on another (or a restarted) worker


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
