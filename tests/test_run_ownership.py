"""A run is never executed by two processes (issue 10, finding 1), seen from the command line:
``autoglm resume`` of a run another process executes is refused and says who owns it; two
resumes racing on a killed run: exactly one proceeds and no node runs twice; a killed run shows
``interrupted`` in ``autoglm runs``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from core_helpers import AUTOGLM, PRIVATE_PLUGINS, run_cli, wait_until

from autoglm.store import RunStore

GATED = """
name: gated
nodes:
  - id: first
    type: testnodes.count
    config: {{log: "{log}", value: 1}}
  - id: gate
    type: testnodes.gate
    config: {{gate: "{gate}", log: "{log}"}}
    inputs: {{value: $first.value}}
  - id: last
    type: testnodes.count
    config: {{log: "{log}", value: 100}}
    inputs: {{value: $gate.value}}
outputs:
  total: $last.value
"""


def start(args: list[str], home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(AUTOGLM), *args],
        env={**os.environ, "AUTOGLM_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_gated_run(tmp_path: Path) -> tuple[subprocess.Popen[str], RunStore, str, Path, Path]:
    """``autoglm run`` of the gated workflow, returned once its gate node is running."""
    home, log, gate = tmp_path / "home", tmp_path / "log.jsonl", tmp_path / "gate"
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(GATED.format(log=log, gate=gate))
    process = start(["run", str(workflow), "--plugins-dir", str(PRIVATE_PLUGINS)], home)
    wait_until((home / "runs.sqlite").exists)
    store = RunStore(home / "runs.sqlite")

    def gate_running() -> str | None:
        runs = store.list_runs()
        nodes = store.node_states(runs[0].id) if runs else {}
        return runs[0].id if "gate" in nodes and nodes["gate"].status == "running" else None

    return process, store, wait_until(gate_running), log, gate


def executions(log: Path) -> Counter[str]:
    return Counter(json.loads(line)["node"] for line in log.read_text().splitlines())


def test_resume_while_another_process_executes_the_run_is_refused(tmp_path: Path) -> None:
    owner, store, run_id, log, gate = start_gated_run(tmp_path)
    try:
        home = {"AUTOGLM_HOME": str(tmp_path / "home")}
        refused = run_cli("resume", run_id, env=home)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        message = " ".join(refused.stderr.split())
        assert f"run {run_id} is being executed by another process" in message
        assert f"pid {owner.pid} on host {socket.gethostname()}" in message
        assert "owner since" in message and "last heartbeat" in message

        shown = run_cli("runs", run_id, env=home)
        assert "[running]" in shown.stdout and f"owned by pid {owner.pid}" in shown.stdout
    finally:
        gate.write_text("open")
    assert owner.wait(60) == 0, owner.stderr.read() if owner.stderr else ""
    assert store.get_run(run_id).status == "succeeded"
    assert executions(log) == {"first": 1, "gate": 1, "last": 1}  # nothing ran twice


@pytest.mark.slow
def test_killed_run_shows_interrupted_and_racing_resumes_run_it_once(tmp_path: Path) -> None:
    victim, store, run_id, log, gate = start_gated_run(tmp_path)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    home = tmp_path / "home"
    env = {"AUTOGLM_HOME": str(home)}

    assert store.get_run(run_id).status == "interrupted"
    listing = run_cli("runs", env=env)
    assert f"{run_id}" in listing.stdout and "interrupted" in listing.stdout
    assert "running" not in listing.stdout
    only = run_cli("runs", "--status", "interrupted", "--json", env=env)
    assert [r["id"] for r in json.loads(only.stdout)] == [run_id]
    assert json.loads(run_cli("runs", "--status", "running", "--json", env=env).stdout) == []
    detail = run_cli("runs", run_id, env=env).stdout
    assert "[interrupted]" in detail and f"was owned by (dead) pid {victim.pid}" in detail

    racers = [start(["resume", run_id, "--json"], home) for _ in range(2)]
    try:
        # the gate stays shut until the loser has given up, so the winner cannot finish first
        loser = wait_until(lambda: next((r for r in racers if r.poll() is not None), None), 60)
    finally:
        gate.write_text("open")
    winner = next(r for r in racers if r is not loser)
    assert winner.wait(60) == 0, winner.stderr.read() if winner.stderr else ""
    assert json.loads(winner.stdout.read())["status"] == "succeeded"
    assert loser.returncode == 1
    loser_says = " ".join(loser.stderr.read().split())
    assert "is being executed by another process" in loser_says
    assert f"pid {winner.pid}" in loser_says

    # the gate was cut off mid-flight once; every other node ran exactly once
    assert executions(log) == {"first": 1, "gate": 2, "last": 1}
    run = store.get_run(run_id)
    assert run.status == "succeeded" and run.attempt == 2
    assert store.node_states(run_id)["first"].attempts == 1
