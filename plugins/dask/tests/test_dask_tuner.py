"""A tuner search whose trials go through the run's Dask executor: its driver killed with
SIGKILL mid-search, the run resumed on Dask replays the journaled trials instead of running
them again, and the finished search equals the local pool's for the same seed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from core_helpers import sigkill_search_after

from autoglm.engine import Engine
from autoglm.executors import ExecutorChoice
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow

TOY = Path(__file__).resolve().parents[2] / "tuner" / "tests" / "toy_plugins"
BUDGET = 10
DASK = {"name": "dask", "options": {"n_workers": 2}}

pytestmark = pytest.mark.slow


def search(log: Path) -> str:
    return textwrap.dedent(
        f"""
        nodes:
          - id: search
            type: tuner.search
            config: {{objective: toy.quadratic, metric: score, budget: {BUDGET}, seed: 3,
                     workers: 2, warm_start: false,
                     base_config: {{sleep: 0.4, log_file: "{log}"}}}}
        outputs: {{search: $search}}
        """
    )


DRIVER = textwrap.dedent(
    """
    import json, sys
    from autoglm.engine import Engine
    from autoglm.executors import ExecutorChoice
    from autoglm.plugins import PluginSelection, Host
    from autoglm.store import RunStore
    from autoglm.workflow import parse_workflow

    if __name__ == "__main__":
        home, toy, text, executor = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        host = Host.load(PluginSelection(allow=("tuner", "toy", "dask"), plugin_dirs=(toy,)))
        engine = Engine(host, RunStore(home + "/runs.sqlite"), use_cache=False,
                        executor=ExecutorChoice.from_dict(executor))
        engine.run(parse_workflow(text, host), run_id="killed")
    """
)


def executed(log: Path) -> Counter:
    words = log.read_text().split() if log.exists() else []
    return Counter(word for word in words if word.startswith("search."))


def board(result) -> list:
    return [(r["trial"], r["params"], r["score"]) for r in result.outputs["search"]["leaderboard"]]


def test_a_killed_search_on_dask_resumes_and_equals_the_local_search(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AUTOGLM_HOME", str(home))
    host = Host.load(PluginSelection(allow=("tuner", "toy", "dask"), plugin_dirs=(str(TOY),)))
    store = RunStore(home / "runs.sqlite")
    local = Engine(host, store, use_cache=False).run(
        parse_workflow(search(tmp_path / "local.log"), host)
    )
    assert local.status == "succeeded", local.error

    log = tmp_path / "dask.log"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen(
        [sys.executable, str(script), str(home), str(TOY), search(log), json.dumps(DASK)]
    )
    sigkill_search_after(driver, store, 4, timeout=150)
    time.sleep(2.0)  # the LocalCluster's workers, and their trial processes, die with it
    # The search's own process may outlive the driver for a moment and see its in-flight
    # trials cancelled with the lost scheduler: those are not the trials' failures, so none
    # may be journaled (a resumed search must run them, not replay them as failed).
    journaled = store.journal_read("killed", "search", "trial")
    assert all(r["status"] == "ok" for r in journaled), [r["error"] for r in journaled]
    recorded = {r["trial"] for r in journaled}
    assert 4 <= len(recorded) < BUDGET
    before = executed(log)
    time.sleep(1.0)
    assert executed(log) == before, "orphaned workers kept running trials"

    resumed = Engine(host, store, use_cache=False, executor=ExecutorChoice.from_dict(DASK))
    result = resumed.execute("killed")
    assert result.status == "succeeded", result.error
    runs = executed(log)
    for trial in recorded:
        assert runs[f"search.trial{trial:04d}.r0"] == 1, f"journaled trial {trial} ran again"
    assert len(store.journal_read("killed", "search", "trial")) == BUDGET
    assert board(result) == board(local)  # the same search, whichever executor ran it
