"""The tuner on the real objective it was built for: gnn.train on a synthetic graph, run by the
workflow engine (graph -> search -> evaluate), and the shipped workflows validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.engine import Engine
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.workflow import load_workflow, parse_workflow

REPO = Path(__file__).resolve().parents[3]

WORKFLOW = """
name: tiny-autognn
description: a search small enough for a test
nodes:
  - id: graph
    type: gnn.synthetic
    config: {nodes: 300, classes: 4, homophily: 0.8, features: 16, feature_signal: 0.6}
  - id: search
    type: tuner.search
    inputs:
      objective_inputs: {graph: $graph.path}
      profile: $graph.profile
    config:
      objective: gnn.train
      base_config: {hidden: 16, patience: 20}
      space:
        layer: {choice: [gcn, sage, mlp]}
        lr: {float: [0.003, 0.05], log: true}
        dropout: {float: [0.0, 0.6]}
      space_only: true
      budget: 6
      fidelity: {field: max_epochs, min: 15, max: 60, eta: 4, top_fraction: 0.34}
      workers: 2
      trial_timeout: 120
  - id: evaluate
    type: gnn.evaluate
    config: {seeds: 2}
    inputs: {graph: $graph.path, config: $search.best_config}
outputs:
  best: $search.best_score
  leaderboard: $search.leaderboard_text
  test_mean: $evaluate.test_mean
"""


@pytest.fixture
def gnn_host(autoglm_home: Path) -> Host:
    return Host.load(PluginSelection(allow=("tuner", "gnn")))


@pytest.mark.slow
def test_engine_runs_a_gnn_search_that_beats_chance(gnn_host: Host, autoglm_home: Path):
    workflow = parse_workflow(WORKFLOW, gnn_host)
    engine = Engine(gnn_host, RunStore(autoglm_home / "runs.sqlite"), workers=2)
    result = engine.run(workflow)
    assert result.status == "succeeded", result.error
    chance = 1 / 4
    assert result.outputs["best"] > chance + 0.3
    assert result.outputs["test_mean"] > chance + 0.25
    table = result.outputs["leaderboard"].splitlines()
    assert table[0].split()[:3] == ["rank", "trial", "val_acc"]
    assert "60" in table[2].split()  # the winner was trained at full fidelity


@pytest.mark.parametrize("name", ["quickstart.yaml", "autognn-cora.yaml"])
def test_shipped_workflows_validate(gnn_host: Host, name: str):
    workflow = load_workflow(REPO / "configs" / name, gnn_host)
    assert [node.type for node in workflow.nodes.values()][1] == "tuner.search"
