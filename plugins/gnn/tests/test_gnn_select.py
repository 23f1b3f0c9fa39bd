"""gnn.select: a search's finalists and the untuned defaults, retrained on fresh seeds and
chosen by mean validation accuracy; it never reads test accuracy and resumes from its journal."""

from __future__ import annotations

import pytest

from autoglm.testing import make_context, run_node
from autoglm_gnn.nodes.training import SelectNode
from autoglm_gnn.selection import default_candidates, distinct, select

FAST = {"max_epochs": 20, "patience": 20, "hidden": 16, "k": 4}


def test_distinct_drops_configs_that_train_the_same_model():
    configs = [{"layer": "gcn"}, {"layer": "gcn", "k": 4}, {"layer": "appnp"}, {"layer": "gcn"}]
    assert distinct(configs) == [{"layer": "gcn"}, {"layer": "appnp"}]
    assert default_candidates() == [
        {"layer": "gcn"}, {"layer": "appnp"}, {"layer": "mlp"}, {"layer": "gcnii"},
    ]  # fmt: skip


def test_select_ranks_by_mean_validation_over_graphs_and_seeds(small_graph_file):
    weak = {**FAST, "layer": "mlp", "hidden": 16, "lr": 0.0001}  # barely trains in 20 epochs
    strong = {**FAST, "layer": "gcn", "lr": 0.02}
    ranking = select([small_graph_file, small_graph_file], [weak, strong], [7, 8])
    assert [row["index"] for row in ranking] == [1, 0]
    assert len(ranking[0]["val_accs"]) == 4  # 2 graphs x 2 seeds
    assert ranking[0]["val_mean"] > ranking[1]["val_mean"]


def test_the_node_adds_the_defaults_and_resumes(small_graph_file, tmp_path):
    """A search that found a poor config: the selection falls back to a default."""
    poor = {**FAST, "layer": "mlp", "lr": 0.0001}
    inputs = {
        "graph": str(small_graph_file),
        "best_config": poor,
        "ranking": [{"params": {"layer": "gcn", "lr": 0.0001}, "status": "ok"}],
    }
    config = {"seeds": 2, "defaults": ["gcn", "mlp"], "top": 3}
    context = make_context(tmp_path, node_id="select", node_type="gnn.select")
    out = run_node(SelectNode, config, inputs, home=tmp_path, context=context)
    layers = [row["config"]["layer"] for row in out.ranking]
    assert sorted(layers) == ["gcn", "gcn", "mlp", "mlp"] and out.runs == 8
    assert out.chose_default and out.best_config in ({"layer": "gcn"}, {"layer": "mlp"})
    assert out.val_mean == max(row["val_mean"] for row in out.ranking)
    # a rerun replays every training run from the journal: same answer, no training
    again = run_node(SelectNode, config, inputs, home=tmp_path, context=context)
    assert again.ranking == out.ranking


def test_unknown_default_layers_are_refused():
    with pytest.raises(ValueError, match="unknown layer types"):
        SelectNode.Config.model_validate({"defaults": ["gcn", "transformer"]})


def test_defaults_lead_the_candidates_so_ties_go_to_them():
    from autoglm_gnn.selection import search_candidates

    best = {"layer": "appnp", "lr": 0.02}
    ranking = [{"params": {"layer": "gcn", "lr": 0.03}}, {"params": {"layer": "gcn", "lr": 0.01}}]
    candidates, defaults = search_candidates(best, ranking, top=5, defaults=["gcn", "mlp"])
    assert defaults == 2
    # the second row is gnn.train's default GCN (lr 0.01): a duplicate of the default, dropped
    assert candidates == [
        {"layer": "gcn"}, {"layer": "mlp"}, best, {"layer": "gcn", "lr": 0.03},
    ]  # fmt: skip
