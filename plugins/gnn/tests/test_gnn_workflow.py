"""The plugin's example workflow validates and runs end to end through the real engine."""

from __future__ import annotations

from pathlib import Path

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
