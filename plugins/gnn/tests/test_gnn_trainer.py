"""The trainer: every layer type builds and trains, seeds reproduce, selection is by
validation only, and the gnn.train node follows the shared contract."""

from __future__ import annotations

import pytest

from autoglm.space import search_space
from autoglm.testing import run_node
from autoglm_gnn.config import LAYERS, TrainConfig
from autoglm_gnn.nodes.training import TrainNode
from autoglm_gnn.trainer import train_config

FAST = {"max_epochs": 30, "patience": 30, "hidden": 16, "k": 4}


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_type_trains_above_chance(small_graph_file, layer):
    result = train_config(small_graph_file, {**FAST, "layer": layer, "heads": 2, "lr": 0.02})
    # Three balanced classes with a clear feature signal: chance is 1/3.
    assert result.val_acc > 0.5, result
    assert result.train_acc >= result.val_acc - 0.2
    assert 1 <= result.best_epoch <= result.epochs <= 30
    assert result.params > 0
    assert result.test_acc is None  # not asked for: never computed


@pytest.mark.parametrize(
    "options",
    [
        {"layer": "gcn", "residual": True, "norm": "batch", "num_layers": 3},
        {"layer": "gat", "heads": 4, "attn_dropout": 0.3, "norm": "layer", "residual": True},
        {"layer": "sage", "aggregator": "pool", "activation": "elu"},
        {"layer": "sage", "aggregator": "gcn", "activation": "leaky_relu"},
        {"layer": "gin", "num_layers": 1},
        {"layer": "appnp", "num_layers": 3, "residual": True, "norm": "batch", "alpha": 0.3},
        {"layer": "gcnii", "k": 8, "theta": 1.2, "norm": "layer"},
    ],
)
def test_options_of_the_space_build_and_train(small_graph_file, options):
    result = train_config(small_graph_file, {**FAST, "max_epochs": 10, **options})
    assert 0.0 <= result.val_acc <= 1.0 and result.epochs == 10


def test_every_grid_value_of_the_space_builds(small_graph_file):
    """Each value of each categorical dimension, one at a time, builds a working model."""
    from autoglm.space import Choice

    for field, dim in search_space(TrainConfig).items():
        if not isinstance(dim, Choice) or field == "layer":
            continue
        for value in dim.values:
            for layer in ("gat", "appnp"):
                cfg = {**FAST, "max_epochs": 2, "layer": layer, field: value}
                assert train_config(small_graph_file, cfg).epochs == 2, cfg


def test_same_seed_same_result_other_seed_differs(small_graph_file):
    cfg = {**FAST, "layer": "gat", "heads": 2, "dropout": 0.5, "report_test": True}
    first = train_config(small_graph_file, {**cfg, "seed": 3})
    again = train_config(small_graph_file, {**cfg, "seed": 3})
    other = train_config(small_graph_file, {**cfg, "seed": 4})
    keys = ("val_acc", "train_acc", "test_acc", "best_epoch", "epochs")
    assert [getattr(first, k) for k in keys] == [getattr(again, k) for k in keys]
    state_a, state_b = first.model.state_dict(), other.model.state_dict()
    assert any(not state_a[k].equal(state_b[k]) for k in state_a)


def test_early_stopping_keeps_best_validation_epoch(small_graph_file):
    result = train_config(small_graph_file, {**FAST, "max_epochs": 200, "patience": 5})
    assert result.epochs < 200
    assert result.epochs - result.best_epoch == 5


def test_sparse_and_dense_first_layer_agree(small_graph_file):
    cfg = {**FAST, "layer": "gcn", "input_dropout": 0.0, "dropout": 0.0}
    sparse = train_config(small_graph_file, {**cfg, "sparse_features": "on"})
    dense = train_config(small_graph_file, {**cfg, "sparse_features": "off"})
    assert abs(sparse.val_acc - dense.val_acc) <= 0.02
    assert abs(sparse.train_acc - dense.train_acc) <= 0.02


def test_train_node_reports_contract_outputs_and_checkpoint(small_graph_file, tmp_path):
    config = {**FAST, "layer": "sage", "report_test": True, "save_checkpoint": True}
    out = run_node(TrainNode, config, {"graph": str(small_graph_file)}, home=tmp_path)
    assert set(out.model_dump()) == {
        "val_acc", "train_acc", "test_acc", "best_epoch", "epochs", "seconds", "checkpoint",
        "params",
    }  # fmt: skip
    assert out.test_acc is not None and out.checkpoint.endswith(".pt")
    assert out.seconds > 0


def test_unknown_layer_and_bad_device_are_clear_errors(small_graph_file):
    from autoglm_gnn.errors import GNNConfigError

    with pytest.raises(GNNConfigError, match="unknown layer 'transformer'"):
        train_config(small_graph_file, {"layer": "transformer"})
    with pytest.raises(GNNConfigError, match="unknown device 'tpu'"):
        train_config(small_graph_file, {**FAST, "device": "tpu"})


def test_cora_gcn_reaches_published_range(cora_file):
    """The default 2-layer GCN on Cora's public split lands near the published 81.5."""
    result = train_config(cora_file, {"layer": "gcn", "report_test": True})
    assert 0.79 <= result.test_acc <= 0.84, result
    assert result.val_acc >= 0.77


def test_cuda_request_without_usable_cuda_is_a_clear_error(small_graph_file):
    from autoglm_gnn.errors import GNNConfigError
    from autoglm_gnn.runtime import resolve_device

    if resolve_device("auto") != "cpu":
        pytest.skip("CUDA is usable here")
    with pytest.raises(GNNConfigError, match="CUDA is not usable by torch and DGL"):
        train_config(small_graph_file, {**FAST, "device": "cuda"})


def test_random_points_of_the_whole_space_build_and_train(small_graph_file):
    """Points drawn from every dimension at once (as a tuner does) build and train."""
    import random

    from autoglm.space import Choice, FloatRange

    rng = random.Random(0)
    space = search_space(TrainConfig)
    for layer in LAYERS:
        point = {}
        for field, dim in space.items():
            if isinstance(dim, Choice):
                point[field] = rng.choice(dim.values)
            elif isinstance(dim, FloatRange):
                point[field] = rng.uniform(dim.low, dim.high)
        point.update(layer=layer, max_epochs=3, patience=3)
        result = train_config(small_graph_file, point)
        assert result.epochs == 3 and 0.0 <= result.val_acc <= 1.0, point


def test_effective_config_leaves_out_exactly_what_the_layer_ignores(small_graph_file):
    """Two configs with the same effective config train the same model (so a tuner may skip
    the second); a field the layer reads changes the effective config."""
    gcn = {"layer": "gcn", "k": 2, "alpha": 0.3, "max_epochs": 15}
    effective = TrainNode.effective_config(gcn)
    assert "k" not in effective and "alpha" not in effective and "heads" not in effective
    assert effective["max_epochs"] == 15 and effective["hidden"] == 64  # defaults filled in
    other = {**gcn, "k": 16, "alpha": 0.1}
    assert TrainNode.effective_config(other) == effective
    first, second = train_config(small_graph_file, gcn), train_config(small_graph_file, other)
    assert (first.val_acc, first.train_acc, first.best_epoch) == (
        second.val_acc,
        second.train_acc,
        second.best_epoch,
    )
    appnp = {"layer": "appnp", "k": 2, "max_epochs": 15}
    assert TrainNode.effective_config(appnp) != TrainNode.effective_config({**appnp, "k": 4})
    assert TrainNode.effective_config({"layer": "nope"}) == {"layer": "nope"}  # left to validation
