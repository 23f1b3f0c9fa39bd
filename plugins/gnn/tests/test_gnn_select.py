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


def test_each_run_records_which_validation_nodes_it_got_right(small_graph_file):
    from autoglm_gnn.trainer import train_config

    result = train_config(small_graph_file, {**FAST, "layer": "gcn", "seed": 3})
    assert set(result.val_correct) <= {"0", "1"} and len(result.val_correct) > 10
    assert result.val_correct.count("1") / len(result.val_correct) == result.val_acc
    assert "val_correct" not in result.outputs()  # internal: gnn.train's outputs stay small


def _row(index: int, right: int, nodes: int = 500) -> dict:
    """A ranking row whose candidate got the first ``right`` of ``nodes`` nodes right."""
    scores = [1.0] * right + [0.0] * (nodes - right)
    return {
        "index": index,
        "config": {"id": index},
        "val_mean": right / nodes,
        "node_scores": scores,
    }


def test_the_guard_keeps_the_best_default_against_a_lead_within_node_noise():
    from autoglm_gnn.selection import GUARD_Z, guarded_choice, paired_lead

    default, search = _row(0, 410), _row(2, 412)  # 2 of 500 nodes: Cora's 0.4 points
    lead, error = paired_lead(search["node_scores"], default["node_scores"])
    assert lead == pytest.approx(0.004) and lead < GUARD_Z * error
    ranking = [search, default, _row(1, 300)]
    assert guarded_choice(ranking, defaults=2) is default
    assert guarded_choice(ranking, defaults=2, z=0) is search  # the plain rule
    assert guarded_choice([search, _row(5, 400)], defaults=0) is search  # no defaults: no guard
    # a clear lead (30 nodes, z about 5.6) replaces the default
    clear = _row(3, 440)
    assert guarded_choice([clear, search, default], defaults=2) is clear
    # the guard reads rows in rank order: a later one may pass where the first does not
    assert guarded_choice([search, clear, default], defaults=2) is clear


def test_the_guard_compares_node_by_node_not_by_totals():
    """Same totals, different nodes: a 20-node lead made of 60 gains and 40 losses is noisier
    than one made of 20 gains and nothing lost."""
    from autoglm_gnn.selection import paired_lead

    base = [1.0] * 250 + [0.0] * 250
    clean = [1.0] * 270 + [0.0] * 230
    churned = [0.0] * 40 + [1.0] * 210 + [1.0] * 60 + [0.0] * 190
    clean_lead, clean_error = paired_lead(clean, base)
    churn_lead, churn_error = paired_lead(churned, base)
    assert clean_lead == churn_lead == pytest.approx(0.04)
    assert clean_error < churn_error


def test_seed_fractions_average_runs_per_node():
    from autoglm_gnn.selection import seed_fractions

    assert seed_fractions(["110", "100", "101"]) == [1.0, 1 / 3, 1 / 3]
    assert seed_fractions([]) == []
    with pytest.raises(ValueError):
        seed_fractions(["10", "1"])


def test_the_node_journals_per_node_results_and_reports_the_guard(small_graph_file, tmp_path):
    """Real training: every run's per-node result is journaled, and the node's choice is
    guarded_choice's over the ranking rebuilt from that journal."""
    from autoglm_gnn.selection import guarded_choice, search_candidates, select

    inputs = {
        "graph": str(small_graph_file),
        "best_config": {**FAST, "layer": "gcn", "lr": 0.02},
        "ranking": [{"params": {"hidden": 32}, "status": "ok"}],
    }
    config = {"seeds": 2, "defaults": ["gcn", "mlp"], "top": 1}
    context = make_context(tmp_path, node_id="select", node_type="gnn.select")
    out = run_node(SelectNode, config, inputs, home=tmp_path, context=context)
    entries = list(context.journal_read("run"))
    assert len(entries) == out.runs == 8 and all(set(e["correct"]) <= {"0", "1"} for e in entries)
    assert all("node_scores" not in row for row in out.ranking)
    candidates, defaults = search_candidates(
        inputs["best_config"], inputs["ranking"], 1, ["gcn", "mlp"]
    )
    done = {tuple(e["key"]): (e["val_acc"], e["correct"]) for e in entries}
    ranking = select([small_graph_file], candidates, [50, 51], done=done)
    expected = guarded_choice(ranking, defaults)
    assert out.best_config == expected["config"]
    assert out.guard_kept_default == (expected is not ranking[0])


def test_a_resplit_keeps_each_class_training_size_and_the_test_nodes():
    import numpy as np

    from autoglm_gnn.splits import resplit, seeded_split

    labels = np.repeat(np.arange(3), 40)
    masks = seeded_split(labels, seed=3, train_per_class=5, val_fraction=0.4)
    train, val = resplit(labels, masks["train_mask"], masks["val_mask"], seed=0)
    for cls in range(3):
        assert (train & (labels == cls)).sum() == 5
    assert not (train & val).any()
    assert ((train | val) == (masks["train_mask"] | masks["val_mask"])).all()
    assert not ((train | val) & masks["test_mask"]).any()
    # fresh validation nodes: the search's validation nodes now partly train
    assert (train & masks["val_mask"]).any()
    again, _ = resplit(labels, masks["train_mask"], masks["val_mask"], seed=0)
    other, _ = resplit(labels, masks["train_mask"], masks["val_mask"], seed=1)
    assert (again == train).all() and not (other == train).all()


def test_the_node_judges_on_resplits_written_once(small_graph_file, tmp_path):
    """resplits: 2 scores every candidate on two re-drawn splits (a node's per-node results
    then cover both splits' validation nodes); the files are reused by a second selection."""
    from autoglm_gnn.graphs import load_graph_file

    inputs = {"graph": str(small_graph_file), "best_config": {**FAST, "layer": "gcn"}}
    config = {"seeds": 1, "defaults": ["mlp"], "top": 0, "resplits": 2}
    context = make_context(tmp_path, node_id="select", node_type="gnn.select")
    out = run_node(SelectNode, config, inputs, home=tmp_path, context=context)
    assert out.runs == 4 and all(len(row["val_accs"]) == 2 for row in out.ranking)
    folder = tmp_path / "cache" / "gnn-resplits"
    files = sorted(folder.glob("*.bin"))
    assert len(files) == 2
    original = load_graph_file(small_graph_file)
    for path in files:
        g = load_graph_file(path)
        assert (g.ndata["test_mask"] == original.ndata["test_mask"]).all()
        assert g.ndata["train_mask"].sum() == original.ndata["train_mask"].sum()
        assert not (g.ndata["val_mask"] == original.ndata["val_mask"]).all()
    stamps = [p.stat().st_mtime_ns for p in files]
    fresh = make_context(tmp_path, node_id="select2", node_type="gnn.select")
    run_node(SelectNode, config, inputs, home=tmp_path, context=fresh)
    assert [p.stat().st_mtime_ns for p in sorted(folder.glob("*.bin"))] == stamps
