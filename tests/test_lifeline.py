"""Workers die with their engine (issue 10, finding 2): a process-isolated node's worker, and
what that worker started, are gone within seconds of the engine's SIGKILL; a cancel (or a
timeout) kills the worker's whole process group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from core_helpers import AUTOGLM, PRIVATE_PLUGINS, wait_until

from autoglm.ownership import pid_alive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after waiting up to ``seconds`` for all of them to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if pid_alive(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if pid_alive(pid)]


def test_die_with_parent_ends_a_child_whose_parent_was_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    parent_code = textwrap.dedent(
        f"""
        import os, subprocess, sys, time
        child = (
            "import os, sys, time\\n"
            "from autoglm.lifeline import die_with_parent\\n"
            "die_with_parent(int(sys.argv[1]))\\n"
            "open(sys.argv[2], 'w').write(str(os.getpid()))\\n"
            "time.sleep(120)\\n"
        )
        subprocess.Popen([sys.executable, "-c", child, str(os.getpid()), {str(pid_file)!r}])
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        child_pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), 60))
        assert pid_alive(child_pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    assert gone_within([child_pid], 5) == []


WORKFLOW = """
name: isolated
nodes:
  - id: work
    type: testnodes.spawn
    config: {{pid_file: "{pid_file}", seconds: {seconds}}}
    isolation: process
    timeout: {timeout}
"""


def test_sigkill_of_the_engine_ends_its_worker_and_the_workers_child(tmp_path: Path) -> None:
    pid_file, workflow = tmp_path / "pids.json", tmp_path / "wf.yaml"
    workflow.write_text(WORKFLOW.format(pid_file=pid_file, seconds=120, timeout=300))
    engine = subprocess.Popen(
        [str(AUTOGLM), "run", str(workflow), "--plugins-dir", str(PRIVATE_PLUGINS)],
        env={**os.environ, "AUTOGLM_HOME": str(tmp_path / "home")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pids = json.loads(wait_until(lambda: pid_file.exists() and pid_file.read_text(), 60))
        assert pids["worker"] != engine.pid and pid_alive(pids["grandchild"])
        assert os.getpgid(pids["worker"]) == pids["worker"]  # a process group of its own
    finally:
        engine.send_signal(signal.SIGKILL)  # the engine only: no group kill from here
        engine.wait(10)
    assert gone_within([pids["worker"], pids["grandchild"]], 5) == []


def test_cancelling_kills_the_processes_the_node_started(make_workflow, engine, tmp_path) -> None:
    """The engine stops a worker by its process group (on timeout or cancel): the node's own
    child goes with it."""
    pid_file = tmp_path / "pids.json"
    wf = make_workflow(WORKFLOW.format(pid_file=pid_file, seconds=120, timeout=300))
    run_id = engine.submit(wf)
    results = []
    thread = threading.Thread(target=lambda: results.append(engine.execute(run_id, wf)))
    thread.start()
    pids = json.loads(wait_until(lambda: pid_file.exists() and pid_file.read_text(), 60))
    engine.cancel(run_id)
    thread.join(30)
    assert results[0].status == "cancelled"
    assert gone_within([pids["worker"], pids["grandchild"]], 5) == []
