"""DDP training with real gloo ranks: after k steps the 2-rank run's weights equal one
process's on the same global batch; micro-batch accumulation equals one big batch; fp16
gradient compression halves the bytes sent (counted by the comm hook) at the same accuracy."""

from __future__ import annotations

import textwrap

import pytest
import torch

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow

pytestmark = pytest.mark.slow

#: a graph big enough for ~20 steps of 256 seeds, small enough for 2 cores shared by many;
#: all neighbours (fanout -1) and no dropout, so one process and two ranks see the same data
WORKFLOW = textwrap.dedent(
    """
    nodes:
      - id: graph
        type: gnn.synthetic
        config: {nodes: 4000, classes: 4, features: 16, feature_signal: 1.2,
                 train_per_class: 500, seed: 3}
      - id: ddp
        type: gnn.train_distributed
        config:
          hidden: 16
          fanouts: [-1, -1]
          batch_size: 256
          epochs: 3
          lr: 0.02
          eval_nodes: 2000
          distributed: {world_size: 2, backend: gloo, accumulate_steps: 2}
        inputs: {graph: $graph.path}
    outputs: {graph: $graph.path, ddp: $ddp}
    """
)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """The node's 2-rank DDP run (with accumulation) through the engine, and its graph."""
    import os

    home = tmp_path_factory.mktemp("home")
    os.environ["AUTOGLM_HOME"] = str(home)
    from autoglm.plugins import Host, PluginSelection

    host = Host.load(PluginSelection(allow=("gnn",)))
    result = Engine(host, RunStore(home / "runs.sqlite"), workers=1).run(
        parse_workflow(WORKFLOW, host)
    )
    assert result.status == "succeeded", result.error
    return result.outputs, home


def _job(graph: str, out_dir, **changes):
    from autoglm_gnn.distributed.training import Job

    settings = dict(
        graph=graph,
        out_dir=str(out_dir),
        hidden=16,
        fanouts=[-1, -1],
        batch_size=256,
        epochs=3,
        lr=0.02,
        eval_nodes=2000,
        threads=1,
    )
    return Job(**{**settings, **changes})


def _weights(folder) -> dict[str, torch.Tensor]:
    from autoglm_gnn.distributed.training import MODEL_FILE

    return torch.load(folder / MODEL_FILE)


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-5, rtol=1e-4), name


def test_ddp_weights_match_one_process_on_the_same_global_batch(ddp_run, tmp_path):
    from pathlib import Path

    from autoglm_gnn.distributed.training import launch

    outputs, _ = ddp_run
    single = launch(_job(outputs["graph"], tmp_path / "single"))
    assert single["steps"] == outputs["ddp"]["steps"] > 10
    _assert_same(_weights(tmp_path / "single"), _weights(Path(outputs["ddp"]["checkpoint"]).parent))
    assert outputs["ddp"]["test_acc"] == pytest.approx(single["test_accuracy"], abs=0.001)
    assert outputs["ddp"]["test_acc"] > 0.6  # it learnt something (4 classes: chance 0.25)


def test_accumulated_micro_batches_match_one_batch(ddp_run, tmp_path):
    from autoglm_gnn.distributed.training import launch

    graph = ddp_run[0]["graph"]
    launch(_job(graph, tmp_path / "one", max_steps=5))
    launch(_job(graph, tmp_path / "four", max_steps=5, accumulate_steps=4))
    _assert_same(_weights(tmp_path / "one"), _weights(tmp_path / "four"))


def test_fp16_compression_halves_the_bytes_at_the_same_accuracy(ddp_run, tmp_path):
    from autoglm_gnn.distributed.training import launch

    outputs, _ = ddp_run
    fp16 = launch(
        _job(
            outputs["graph"],
            tmp_path / "fp16",
            world_size=2,
            compression="fp16",
            accumulate_steps=2,
        )
    )
    assert fp16["bytes_sent"] * 2 == outputs["ddp"]["bytes_sent"] > 0
    assert abs(fp16["test_accuracy"] - outputs["ddp"]["test_acc"]) <= 0.005
