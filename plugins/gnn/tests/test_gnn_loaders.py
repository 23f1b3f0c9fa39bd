"""Graph input: Planetoid raw files, the seeded CSBM generator, the shared file format."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from autoglm.testing import run_node
from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.graphs import load_graph_file, save_graph
from autoglm_gnn.nodes.loaders import PlanetoidNode, SyntheticNode
from autoglm_gnn.synthetic import CSBMSpec, generate_csbm


def test_cora_matches_the_data_readme(planetoid_root, tmp_path):
    out = run_node(PlanetoidNode, {"root": str(planetoid_root)}, home=tmp_path)
    g = load_graph_file(out.path)
    assert (g.num_nodes(), g.num_edges()) == (2708, 10556)
    assert g.ndata["feat"].shape == (2708, 1433) and g.ndata["feat"].dtype == torch.float32
    assert int(g.ndata["label"].max()) + 1 == 7
    split = [int(g.ndata[m].sum()) for m in ("train_mask", "val_mask", "test_mask")]
    assert split == [140, 500, 1000]
    # 20 training nodes per class, rows normalised to sum 1.
    assert torch.bincount(g.ndata["label"][g.ndata["train_mask"]]).tolist() == [20] * 7
    assert torch.allclose(g.ndata["feat"].sum(1), torch.ones(2708), atol=1e-5)
    profile = out.profile
    assert profile["nodes"] == 2708 and profile["undirected_edges"] == 5278
    assert profile["classes"] == 7 and profile["feature_dim"] == 1433
    assert profile["isolated_nodes"] == 0 and 0.80 < profile["edge_homophily"] < 0.82


def test_planetoid_root_input_overrides_the_config(planetoid_root, tmp_path):
    """A run input can pick the data folder: the `root` input wins over config.root."""
    out = run_node(
        PlanetoidNode,
        {"root": str(tmp_path / "nowhere")},
        {"root": str(planetoid_root)},
        home=tmp_path,
    )
    assert out.profile["nodes"] == 2708


def test_cora_equals_dgl_own_loader(planetoid_root, tmp_path):
    """DGL's CoraGraphDataset reads the same raw files (copied into a scratch folder)."""
    import dgl.data

    from autoglm_gnn.planetoid import read_planetoid

    raw = tmp_path / "cora_v2_d697a464"
    raw.mkdir()
    for path in planetoid_root.glob("ind.cora.*"):
        shutil.copy(path, raw / path.name.replace("ind.cora.", "ind.cora_v2."))
    theirs = dgl.data.CoraGraphDataset(raw_dir=str(tmp_path), verbose=False)[0]
    ours = read_planetoid(planetoid_root)
    assert torch.allclose(ours.ndata["feat"], theirs.ndata["feat"], atol=1e-6)
    assert torch.equal(ours.ndata["label"], theirs.ndata["label"])
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(ours.ndata[mask], theirs.ndata[mask].bool())
    ours_edges = set(zip(*(t.tolist() for t in ours.edges()), strict=True))
    theirs_edges = set(zip(*(t.tolist() for t in theirs.edges()), strict=True))
    assert ours_edges == theirs_edges


def test_planetoid_names_missing_files(tmp_path):
    (tmp_path / "ind.cora.x").write_bytes(b"not a pickle")
    with pytest.raises(GraphFileError, match=r"ind\.cora\.x: not a readable Planetoid pickle"):
        run_node(PlanetoidNode, {"root": str(tmp_path)}, home=tmp_path / "home")
    with pytest.raises(GraphFileError, match="Planetoid folder not found"):
        run_node(PlanetoidNode, {"root": str(tmp_path / "nope")}, home=tmp_path / "home")


def test_synthetic_is_seeded_and_follows_its_parameters(tmp_path):
    config = {"nodes": 600, "classes": 3, "homophily": 0.9, "avg_degree": 6, "seed": 7}
    first = run_node(SyntheticNode, config, home=tmp_path / "a")
    again = run_node(SyntheticNode, config, home=tmp_path / "b")
    other = run_node(SyntheticNode, {**config, "seed": 8}, home=tmp_path / "c")
    g1, g2, g3 = (load_graph_file(o.path) for o in (first, again, other))
    assert torch.equal(g1.ndata["feat"], g2.ndata["feat"])
    assert torch.equal(torch.stack(g1.edges()), torch.stack(g2.edges()))
    assert not torch.equal(g1.ndata["feat"], g3.ndata["feat"])
    profile = first.profile
    assert profile["nodes"] == 600 and profile["classes"] == 3
    assert abs(profile["edge_homophily"] - 0.9) < 0.03
    assert 5.0 < profile["avg_degree"] <= 6.0  # duplicates and self-loops are dropped
    assert profile["train_nodes"] == 60 and profile["self_loops"] == 0


@pytest.mark.parametrize("homophily", [0.1, 0.5])
def test_csbm_homophily_parameter(homophily):
    g = generate_csbm(CSBMSpec(nodes=800, classes=4, homophily=homophily, seed=2))
    src, dst = g.edges()
    measured = float((g.ndata["label"][src] == g.ndata["label"][dst]).float().mean())
    assert abs(measured - homophily) < 0.04


def test_graph_file_round_trip_and_contract_errors(tmp_path):
    g = generate_csbm(CSBMSpec(nodes=50, classes=2, seed=0))
    path = save_graph(tmp_path / "g.bin", g)
    back = load_graph_file(path)
    assert back.ndata["train_mask"].dtype == torch.bool
    assert torch.equal(back.ndata["feat"], g.ndata["feat"])

    with pytest.raises(GraphFileError, match="graph file not found"):
        load_graph_file(tmp_path / "missing.bin")
    (tmp_path / "junk.bin").write_bytes(b"\x00junk")
    with pytest.raises(GraphFileError, match=r"junk\.bin: not a DGL graph file"):
        load_graph_file(tmp_path / "junk.bin")
    del g.ndata["label"]
    import dgl

    dgl.save_graphs(str(tmp_path / "nolabel.bin"), [g])
    with pytest.raises(GraphFileError, match=r"nolabel\.bin: node data lacks \['label'\]"):
        load_graph_file(tmp_path / "nolabel.bin")


def test_seeded_split_is_stratified_and_disjoint():
    from autoglm_gnn.splits import seeded_split

    labels = np.repeat(np.arange(4), 50)
    masks = seeded_split(labels, seed=3, train_fraction=0.5, val_fraction=0.25)
    assert [int(m.sum()) for m in masks.values()] == [100, 48, 52]
    assert not (masks["train_mask"] & masks["val_mask"]).any()
    assert not (masks["val_mask"] & masks["test_mask"]).any()
    assert np.bincount(labels[masks["train_mask"]]).tolist() == [25] * 4
    again = seeded_split(labels, seed=3, train_fraction=0.5, val_fraction=0.25)
    assert all(np.array_equal(masks[k], again[k]) for k in masks)
