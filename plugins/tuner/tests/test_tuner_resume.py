"""A search process killed with SIGKILL mid-way resumes from its journal: recorded trials are
replayed, not re-run, and the finished search equals an uninterrupted one."""

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

from autoglm.store import RunStore

TOY_DIR = Path(__file__).parent / "toy_plugins"
BUDGET = 10


def config(log_file: Path, design: str) -> dict:
    return {
        "initial_design": design,
        "objective": "toy.quadratic",
        "metric": "score",
        "budget": BUDGET,
        "seed": 3,
        "workers": 2,
        "warm_start": False,
        "base_config": {"sleep": 0.4, "log_file": str(log_file)},
    }


SCRIPT = textwrap.dedent(
    """
    import json, sys
    from autoglm.plugins import PluginSelection
    from autoglm.testing import make_context, run_node
    from autoglm_tuner.node import SearchNode

    if __name__ == "__main__":
        home, toy_dir, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        selection = PluginSelection(allow=("tuner", "toy"), plugin_dirs=(toy_dir,))
        context = make_context(home, node_id="search", node_type="tuner.search",
                               run_id="killed", selection=selection)
        run_node(SearchNode, config, {}, home=home, context=context)
    """
)


def executed(log_file: Path) -> Counter:
    """How often each (trial, rung) node ran, from the toy objective's own log."""
    lines = log_file.read_text().split() if log_file.exists() else []
    return Counter(word for word in lines if word.startswith("search."))


@pytest.mark.parametrize("design", ["default", "star"])
def test_killed_search_resumes_without_rerunning_recorded_trials(
    run_search, autoglm_home: Path, tmp_path: Path, design: str
):
    """The star design waits for its screen before its follow-up point, and a resumed search
    replays that too."""
    log_file = tmp_path / "executions.log"
    script = tmp_path / "search_script.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(autoglm_home),
            str(TOY_DIR),
            json.dumps(config(log_file, design)),
        ],
    )
    store = RunStore(autoglm_home / "runs.sqlite")
    recorded = sigkill_search_after(process, store, 4, timeout=120)
    assert 4 <= len(recorded) < BUDGET
    time.sleep(1.5)  # orphaned workers notice their parent is gone and exit
    before_resume = executed(log_file)
    time.sleep(1.0)
    assert executed(log_file) == before_resume, "orphaned workers kept running trials"

    resumed = run_search(config(log_file, design), run_id="killed")
    runs = executed(log_file)
    for trial in recorded:
        assert runs[f"search.trial{trial:04d}.r0"] == 1, f"recorded trial {trial} ran again"
    assert sorted(runs) == [f"search.trial{t:04d}.r0" for t in range(BUDGET)]
    assert resumed.trials == BUDGET
    assert len(store.journal_read("killed", "search", "trial")) == BUDGET

    fresh_log = tmp_path / "fresh.log"
    fresh = run_search(config(fresh_log, design), run_id="uninterrupted")
    assert resumed.best_params == fresh.best_params
    assert [(r["trial"], r["params"]) for r in resumed.leaderboard] == [
        (r["trial"], r["params"]) for r in fresh.leaderboard
    ]
