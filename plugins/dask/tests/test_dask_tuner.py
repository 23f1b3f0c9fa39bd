"""A tuner search whose trials go through the run's Dask executor finds exactly what the local
pool finds for the same seed, with its trials run on the cluster's workers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autoglm.engine import Engine
from autoglm.executors import ExecutorChoice
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow

TOY = Path(__file__).resolve().parents[2] / "tuner" / "tests" / "toy_plugins"

pytestmark = pytest.mark.slow

SEARCH = textwrap.dedent(
    """
    nodes:
      - id: search
        type: tuner.search
        config: {objective: toy.quadratic, metric: score, budget: 8, seed: 3, workers: 2,
                 warm_start: false}
    outputs: {search: $search}
    """
)


def test_a_search_on_dask_gives_the_local_pools_results(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGLM_HOME", str(tmp_path / "home"))
    host = Host.load(PluginSelection(allow=("tuner", "toy", "dask"), plugin_dirs=(str(TOY),)))
    wf = parse_workflow(SEARCH, host)
    store = RunStore(tmp_path / "home" / "runs.sqlite")
    local = Engine(host, store, use_cache=False).run(wf)
    remote = Engine(
        host, store, use_cache=False, executor=ExecutorChoice("dask", {"n_workers": 2})
    ).run(wf)
    assert local.status == remote.status == "succeeded", remote.error

    def board(result):
        return [
            (r["trial"], r["params"], r["score"]) for r in result.outputs["search"]["leaderboard"]
        ]

    assert board(local) == board(remote) and len(board(remote)) == 8
    assert remote.outputs["search"]["best_config"] == local.outputs["search"]["best_config"]
    journal = store.journal_read(remote.run_id, "search", "trial")
    assert len(journal) == 8
