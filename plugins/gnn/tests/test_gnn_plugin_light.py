"""Listing plugins must stay cheap: the entry point never imports torch or DGL."""

from __future__ import annotations

import subprocess
import sys

from autoglm.space import Choice, FloatRange, search_space


def test_plugin_import_does_not_load_torch_or_dgl():
    code = (
        "import sys, autoglm_gnn.plugin as p; "
        "assert p.NODE_TYPES; "
        "bad = [m for m in ('torch', 'dgl', 'numpy', 'scipy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_host_lists_every_gnn_node_type(autoglm_host):
    host = autoglm_host(["gnn"])
    names = ["synthetic", "planetoid", "files", "profile", "train", "evaluate", "predict"]
    for name in (f"gnn.{n}" for n in names):
        assert host.get_node_type(name).name == name


def test_train_search_space_follows_the_shared_contract():
    from autoglm_gnn.config import TrainConfig

    space = search_space(TrainConfig)
    assert {"gcn", "gat", "sage", "gin", "appnp", "sgc"} <= set(space["layer"].values)
    assert space["num_layers"] == Choice([1, 2, 3], ordered=True)
    assert space["hidden"] == Choice([16, 32, 64, 128, 256], ordered=True)
    assert space["heads"] == Choice([1, 2, 4, 8], ordered=True)
    assert space["aggregator"].values == ["mean", "pool", "gcn"]
    assert space["activation"].values == ["relu", "elu", "leaky_relu"]
    assert space["dropout"] == FloatRange(0.0, 0.8)
    assert space["residual"].values == [False, True]
    assert space["norm"].values == ["none", "batch", "layer"]
    assert space["lr"] == FloatRange(1e-3, 5e-2, log=True)
    assert space["weight_decay"] == FloatRange(1e-5, 1e-2, log=True)
    for fidelity_or_plumbing in ["max_epochs", "patience", "seed", "device", "threads"]:
        assert fidelity_or_plumbing not in space
    defaults = TrainConfig()
    assert (defaults.layer, defaults.max_epochs, defaults.patience) == ("gcn", 200, 100)


def test_gcnii_defaults_to_its_deep_setting_unless_a_field_is_given():
    from autoglm_gnn.config import LAYER_DEFAULTS, TrainConfig
    from autoglm_gnn.selection import default_candidates

    deep = TrainConfig.model_validate({"layer": "gcnii"})
    assert (deep.k, deep.dropout, deep.max_epochs) == (32, 0.6, 1000)
    assert TrainConfig(layer="gcnii").k == 32  # keyword construction too
    given = TrainConfig.model_validate({"layer": "gcnii", "k": 8, "max_epochs": 100})
    assert (given.k, given.dropout, given.max_epochs) == (8, 0.6, 100)
    # other layer types keep the shared defaults
    appnp = TrainConfig.model_validate({"layer": "appnp"})
    assert (appnp.k, appnp.dropout, appnp.max_epochs) == (10, 0.5, 200)
    assert set(LAYER_DEFAULTS) == {"gcnii"}
    # the selection's untuned GCNII is the deep one
    (gcnii,) = [c for c in default_candidates() if c["layer"] == "gcnii"]
    assert TrainConfig.model_validate(gcnii).k == 32
