"""Checkpoints reload and predict; gnn.evaluate retrains over seeds, selects by validation,
and resumes from its journal; gnn.profile reports the loaders' statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autoglm.testing import make_context, run_node
from autoglm_gnn.checkpoint import load_checkpoint
from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.nodes.profile import ProfileNode
from autoglm_gnn.nodes.training import EvaluateNode, PredictNode, TrainNode

FAST = {"max_epochs": 25, "patience": 25, "hidden": 16, "k": 4}


@pytest.mark.parametrize("layer", ["gat", "appnp", "gcnii"])
def test_checkpoint_reloads_and_predicts_like_the_trained_model(small_graph_file, tmp_path, layer):
    config = {**FAST, "layer": layer, "heads": 2, "norm": "batch", "save_checkpoint": True}
    trained = run_node(TrainNode, config, {"graph": str(small_graph_file)}, home=tmp_path)
    saved = load_checkpoint(trained.checkpoint)
    assert saved.config.layer == layer and saved.metadata["val_acc"] == trained.val_acc
    inputs = {"checkpoint": trained.checkpoint, "graph": str(small_graph_file)}
    val = run_node(PredictNode, {"mask": "val"}, inputs, home=tmp_path)
    assert val.accuracy == pytest.approx(trained.val_acc)
    rows = np.loadtxt(val.predictions, delimiter=",", skiprows=1, dtype=np.int64)
    assert rows.shape == (300, 4) and sum(val.class_counts) == 300
    in_mask = rows[:, 3] == 1
    assert (rows[in_mask, 1] == rows[in_mask, 2]).mean() == pytest.approx(val.accuracy)
    train = run_node(PredictNode, {"mask": "train"}, inputs, home=tmp_path)
    assert train.accuracy == pytest.approx(trained.train_acc)


def test_predict_rejects_foreign_files(small_graph_file, cora_file, tmp_path):
    config = {**FAST, "save_checkpoint": True}
    trained = run_node(TrainNode, config, {"graph": str(small_graph_file)}, home=tmp_path)
    with pytest.raises(GraphFileError, match="graph has 1433 features per node but the checkpoint"):
        run_node(
            PredictNode, {}, {"checkpoint": trained.checkpoint, "graph": str(cora_file)},
            home=tmp_path,
        )  # fmt: skip
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(GraphFileError, match="expected a 'autoglm-gnn/checkpoint' checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(GraphFileError, match="checkpoint file not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_evaluate_over_seeds_selects_by_validation_and_resumes(small_graph_file, tmp_path):
    node_inputs = {"graph": str(small_graph_file), "config": {**FAST, "layer": "gcn"}}
    context = make_context(tmp_path, node_id="evaluate", node_type="gnn.evaluate")
    out = run_node(EvaluateNode, {"seeds": 3, "max_epochs": 30}, node_inputs, home=tmp_path,
                   context=context)  # fmt: skip
    # fresh seeds by default: not the 0-3 a search selected on
    assert out.seeds == [100, 101, 102] and len(out.test_accs) == 3
    assert out.test_mean == pytest.approx(np.mean(out.test_accs))
    assert out.test_std == pytest.approx(np.std(out.test_accs))
    assert out.val_accs[out.seeds.index(out.best_seed)] == max(out.val_accs)
    assert out.config["max_epochs"] == 30 and out.config["layer"] == "gcn"
    best = load_checkpoint(out.checkpoint)
    assert best.config.seed == out.best_seed

    # A second run of the same node in the same run reads its journal: nothing is retrained.
    journal = context.journal_read("seed")
    assert [entry["record"]["seed"] for entry in journal] == [100, 101, 102]
    stamps = {p.name: p.stat().st_mtime_ns for p in context.artifacts_dir.glob("seed-*.pt")}
    again = run_node(EvaluateNode, {"seeds": 3, "max_epochs": 30}, node_inputs, home=tmp_path,
                     context=context)  # fmt: skip
    assert again.test_accs == out.test_accs
    assert stamps == {p.name: p.stat().st_mtime_ns for p in context.artifacts_dir.glob("seed-*.pt")}
    assert len(context.journal_read("seed")) == 3


def test_evaluate_rejects_an_invalid_config(small_graph_file, tmp_path):
    from autoglm_gnn.errors import GNNConfigError

    inputs = {"graph": str(small_graph_file), "config": {"layer": "gcn", "hiden": 32}}
    with pytest.raises(GNNConfigError, match="hiden"):
        run_node(EvaluateNode, {"seeds": 1}, inputs, home=tmp_path)


def test_profile_node_reports_headline_statistics(small_graph_file, tmp_path):
    out = run_node(ProfileNode, {}, {"graph": str(small_graph_file)}, home=tmp_path)
    assert (out.nodes, out.classes, out.feature_dim) == (300, 3, 16)
    assert out.edges == out.profile["edges"] and out.profile["symmetric"]
    assert 0.7 < out.edge_homophily < 0.9
    assert sum(out.profile["class_counts"]) == 300
    assert sum(out.profile["degree"]["histogram"].values()) == 300


def test_evaluate_over_extra_graphs_runs_every_seed_on_every_split(small_graph_file, tmp_path):
    """Actor-style reporting: one config, several splits, every seed on each."""
    from autoglm_gnn.graphs import load_graph_file, save_graph

    g = load_graph_file(small_graph_file)
    g.ndata["train_mask"], g.ndata["val_mask"] = g.ndata["val_mask"], g.ndata["train_mask"]
    other = save_graph(tmp_path / "other-split.bin", g)
    node_inputs = {
        "graph": str(small_graph_file),
        "extra_graphs": [other],
        "config": {**FAST, "layer": "mlp"},
    }
    out = run_node(EvaluateNode, {"seeds": 2}, node_inputs, home=tmp_path)
    assert out.seeds == [100, 101, 100, 101] and out.graph_indices == [0, 0, 1, 1]
    assert len(set(out.val_accs)) > 1 and out.test_mean == pytest.approx(np.mean(out.test_accs))


def test_a_seed_ensemble_averages_its_members_and_reloads(small_graph_file, tmp_path):
    """Member 0 is the single model of the seed; the ensemble predicts the mean of its
    members' probabilities, and its checkpoint rebuilds the whole ensemble."""
    import torch.nn.functional as F

    from autoglm_gnn.models.ensemble import SeedEnsemble, member_seed
    from autoglm_gnn.tensors import load_tensors
    from autoglm_gnn.trainer import train_config

    config = {**FAST, "layer": "gcn", "seed": 4}
    single = train_config(small_graph_file, config)
    ensemble = train_config(small_graph_file, {**config, "ensemble": 3})
    assert isinstance(ensemble.model, SeedEnsemble) and len(ensemble.model.members) == 3
    assert ensemble.params == 3 * single.params and ensemble.epochs >= 3 * FAST["patience"]
    data = load_tensors(small_graph_file, torch.device("cpu"), "auto")
    with torch.no_grad():
        first = ensemble.model.members[0](data, data.feat)
        assert torch.equal(first, single.model(data, data.feat))  # member 0 = the single model
        members = [F.softmax(m(data, data.feat), -1) for m in ensemble.model.members]
        mean = torch.stack(members).mean(0)
        assert torch.allclose(ensemble.model(data, data.feat).exp(), mean, atol=1e-6)
    assert member_seed(4, 0) == 4 and member_seed(4, 1) != member_seed(5, 0)

    trained = run_node(
        TrainNode, {**config, "ensemble": 3, "save_checkpoint": True},
        {"graph": str(small_graph_file)}, home=tmp_path,
    )  # fmt: skip
    assert trained.val_acc == ensemble.val_acc
    inputs = {"checkpoint": trained.checkpoint, "graph": str(small_graph_file)}
    val = run_node(PredictNode, {"mask": "val"}, inputs, home=tmp_path)
    assert val.accuracy == pytest.approx(trained.val_acc)


def test_evaluate_can_turn_each_seed_into_an_ensemble(small_graph_file, tmp_path):
    node_inputs = {"graph": str(small_graph_file), "config": {**FAST, "layer": "gcn"}}
    out = run_node(EvaluateNode, {"seeds": 2, "ensemble": 2}, node_inputs, home=tmp_path)
    assert out.config["ensemble"] == 2 and load_checkpoint(out.checkpoint).config.ensemble == 2
    assert len(load_checkpoint(out.checkpoint).model.members) == 2
