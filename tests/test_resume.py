"""A run killed with SIGKILL mid-way resumes to completion without re-running finished nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from core_helpers import AUTOGLM, PRIVATE_PLUGINS, run_cli, wait_until

from autoglm.store import RunStore


def test_sigkill_mid_run_then_resume(tmp_path: Path):
    home, log, gate = tmp_path / "home", tmp_path / "log.jsonl", tmp_path / "gate"
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(
        f"""
name: killable
nodes:
  - id: first
    type: testnodes.count
    config: {{log: "{log}", value: 1}}
  - id: second
    type: testnodes.count
    config: {{log: "{log}", value: 10}}
    inputs: {{value: $first.value}}
  - id: gate
    type: testnodes.gate
    config: {{gate: "{gate}", log: "{log}"}}
    inputs: {{value: $second.value}}
  - id: last
    type: testnodes.count
    config: {{log: "{log}", value: 100}}
    inputs: {{value: $gate.value}}
outputs:
  total: $last.value
"""
    )
    env = {**os.environ, "AUTOGLM_HOME": str(home)}
    process = subprocess.Popen(
        [str(AUTOGLM), "run", str(workflow), "--plugins-dir", str(PRIVATE_PLUGINS)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    store_path = home / "runs.sqlite"
    wait_until(store_path.exists)
    store = RunStore(store_path)

    def gate_running():
        runs = store.list_runs()
        if not runs:
            return None
        nodes = store.node_states(runs[0].id)
        return runs[0].id if nodes.get("gate") and nodes["gate"].status == "running" else None

    run_id = wait_until(gate_running)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
    # died without a chance to record anything: its owner is gone, so it reads as interrupted
    assert store.get_run(run_id).status == "interrupted"
    states = store.node_states(run_id)
    assert {n: s.status for n, s in states.items()} == {
        "first": "succeeded",
        "second": "succeeded",
        "gate": "running",
    }

    gate.write_text("open")
    resumed = run_cli("resume", run_id, "--json", env={"AUTOGLM_HOME": str(home)})
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["status"] == "succeeded"
    assert result["outputs"] == {"total": 111}
    executions = [json.loads(line)["node"] for line in log.read_text().splitlines()]
    assert executions.count("first") == 1
    assert executions.count("second") == 1
    assert executions.count("gate") == 2  # the interrupted node runs again, from its inputs
    assert executions.count("last") == 1
    assert store.get_run(run_id).attempt == 2


def test_resume_replays_recorded_routing_decisions(make_workflow, engine, store, tmp_path):
    """A skip recorded before the interruption stays a skip: it is not re-decided or lost."""
    counter = tmp_path / "c"
    wf = make_workflow(
        f"""
        inputs:
          mode: {{type: str, default: fast}}
        nodes:
          - id: slow_path
            type: core.const
            config: {{value: slow}}
            when: "inputs.mode == 'slow'"
          - id: fast_path
            type: core.const
            config: {{value: fast}}
            when: "inputs.mode == 'fast'"
          - id: flaky
            type: testnodes.flaky
            config: {{counter: "{counter}", fail_times: 1}}
          - id: out
            type: core.noop
            inputs:
              value: {{first_of: [$slow_path.value, $fast_path.value]}}
          - id: done
            type: core.noop
            inputs: {{value: $flaky.value}}
        outputs:
          path: $out.value
          flaky: $done.value
        """
    )
    first = engine.run(wf)
    assert first.status == "failed"
    assert first.nodes["slow_path"].status == "skipped"
    resumed = engine.execute(first.run_id)
    assert resumed.status == "succeeded"
    assert resumed.outputs == {"path": "fast", "flaky": 2}
    assert resumed.nodes["slow_path"].status == "skipped"
    assert resumed.nodes["out"].status == "succeeded"
