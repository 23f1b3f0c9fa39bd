"""A search's trial workers die with the engine that runs it (issue 10, finding 2), also when
the search itself runs in a process-isolated node worker: engine -> node worker -> trials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autoglm.ownership import pid_alive

TOY_DIR = Path(__file__).parent / "toy_plugins"
AUTOGLM = Path(sys.executable).parent / "autoglm"

WORKFLOW = """
name: search-then-die
nodes:
  - id: search
    type: tuner.search
    isolation: process
    timeout: 300
    config:
      objective: toy.quadratic
      metric: score
      budget: 4
      workers: 2
      warm_start: false
      base_config: {{sleep: 120, log_file: "{log}"}}
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_trial_workers_end_within_seconds_of_the_engines_sigkill(tmp_path: Path) -> None:
    log, workflow = tmp_path / "trials.log", tmp_path / "wf.yaml"
    workflow.write_text(WORKFLOW.format(log=log))
    engine = subprocess.Popen(
        [str(AUTOGLM), "run", str(workflow), "--plugins-dir", str(TOY_DIR)],
        env={**os.environ, "AUTOGLM_HOME": str(tmp_path / "home")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            lines = log.read_text().split("\n") if log.exists() else []
            trial_pids = {int(line.split()[1]) for line in lines if line.strip()}
            if len(trial_pids) == 2:
                break
            assert engine.poll() is None, "the run ended before its trials started"
            assert time.monotonic() < deadline, "the trials did not start in time"
            time.sleep(0.1)
    finally:
        engine.send_signal(signal.SIGKILL)
        engine.wait(10)
    deadline = time.monotonic() + 5
    while any(pid_alive(pid) for pid in trial_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in trial_pids if pid_alive(pid)] == []
