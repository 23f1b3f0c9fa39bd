"""The plugin's example workflow validates and runs end to end through the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.workflow import load_workflow

WORKFLOW = Path(__file__).resolve().parents[1] / "workflows" / "gnn-synthetic.yaml"


def test_synthetic_workflow_runs_end_to_end(autoglm_home, autoglm_host):
    host = autoglm_host(["gnn"])
    workflow = load_workflow(WORKFLOW, host)
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"), workers=1)
    result = engine.run(workflow)
    assert result.status == "succeeded", result.error
    out = result.outputs
    assert 0.7 < out["homophily"] < 0.9
    # Four classes, homophilous graph: far above chance (0.25) for a trained GNN.
    assert out["val_acc"] > 0.6 and out["test_acc_of_checkpoint"] > 0.6
    assert out["test_mean"] > 0.6 and 0 <= out["test_std"] < 0.1


SEARCH_SELECT_EVALUATE = """
description: search, select with the defaults, evaluate over two splits (the Actor shape)
nodes:
  - {id: graph, type: gnn.synthetic, config: {nodes: 300, classes: 3, features: 16, seed: 1}}
  - id: split1
    type: gnn.synthetic
    config: {nodes: 300, classes: 3, features: 16, seed: 1, val_fraction: 0.5}
  - id: search
    type: tuner.search
    inputs: {objective_inputs: {graph: $graph.path}}
    config:
      objective: gnn.train
      base_config: {max_epochs: 20, patience: 20, hidden: 16}
      space: {layer: {choice: [gcn, mlp]}, lr: {float: [0.005, 0.05], log: true}}
      space_only: true
      optimizer: random
      budget: 3
      final_top_k: 2
      final_seeds: 1
      workers: 1
      warm_start: false
  - id: select
    type: gnn.select
    config: {top: 2, seeds: 1, defaults: [mlp]}
    inputs:
      graph: $graph.path
      extra_graphs: [$split1.path]
      best_config: $search.best_config
      ranking: $search.final_ranking
  - id: evaluate
    type: gnn.evaluate
    config: {seeds: 2, max_epochs: 20}
    inputs: {graph: $graph.path, extra_graphs: [$split1.path], config: $select.best_config}
outputs:
  best_config: $select.best_config
  ranking: $select.ranking
  seeds: $evaluate.seeds
  graph_indices: $evaluate.graph_indices
"""


@pytest.mark.slow
def test_search_select_evaluate_wire_through_the_engine(autoglm_home, autoglm_host, tmp_path):
    """A copied workflow without `name:` is named after its file; the search's finalists
    and a default reach gnn.select, and every split reaches gnn.evaluate."""
    path = tmp_path / "my-graph-search.yaml"
    path.write_text(SEARCH_SELECT_EVALUATE)
    host = autoglm_host(["gnn", "tuner"])
    workflow = load_workflow(path, host)
    store = RunStore(autoglm_home / "runs.sqlite")
    result = Engine(host, store, workers=1).run(workflow)
    assert result.status == "succeeded", result.error
    out = result.outputs
    assert {"layer": "mlp"} in [row["config"] for row in out["ranking"]]
    assert len(out["ranking"]) >= 2 and out["best_config"] == out["ranking"][0]["config"]
    assert out["seeds"] == [100, 101, 100, 101] and out["graph_indices"] == [0, 0, 1, 1]
    assert store.get_run(result.run_id).workflow_name == "my-graph-search"


def test_progress_is_logged_when_there_is_no_live_display(autoglm_home, autoglm_host, tmp_path):
    """Without a terminal the engine logs each progress report at info level (a search's
    trials, a training's epochs), so a long run is never silent."""
    import logging

    import structlog
    from structlog.testing import capture_logs

    path = tmp_path / "quiet.yaml"
    path.write_text(
        "description: progress\nnodes:\n"
        "  - {id: graph, type: gnn.synthetic, config: {nodes: 200, features: 8}}\n"
        "  - id: train\n    type: gnn.train\n"
        "    config: {max_epochs: 20, patience: 20, hidden: 8}\n"
        "    inputs: {graph: $graph.path}\n"
    )
    host = autoglm_host(["gnn"])
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"), workers=1)
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with capture_logs() as logs:
            result = engine.run(load_workflow(path, host))
    finally:
        structlog.configure(**saved)
    assert result.status == "succeeded", result.error
    progress = [e for e in logs if e["event"] == "progress" and e["node"] == "train"]
    assert [e["completed"] for e in progress] == [10, 20] and progress[0]["total"] == 20
    assert all(e["log_level"] == "info" for e in progress)
