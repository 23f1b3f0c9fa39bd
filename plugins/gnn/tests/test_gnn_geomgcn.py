"""The Geom-GCN loader on the real Actor ("film") files: the data README's figures, the raw
files read independently, the 10 splits, and errors that name the file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from autoglm.testing import run_node
from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.geomgcn import read_geomgcn
from autoglm_gnn.graphs import load_graph_file
from autoglm_gnn.nodes.loaders import GeomGCNNode


def test_actor_matches_the_data_readme(geomgcn_root, tmp_path):
    out = run_node(GeomGCNNode, {"root": str(geomgcn_root), "name": "actor"}, home=tmp_path)
    g = load_graph_file(out.path)
    assert g.num_nodes() == 7600
    assert g.ndata["feat"].shape == (7600, 932)
    assert int(g.ndata["label"].max()) + 1 == 5
    profile = out.profile
    assert profile["symmetric"] and profile["self_loops"] == 0
    assert profile["classes"] == 5 and profile["feature_dim"] == 932
    assert 0.20 < profile["edge_homophily"] < 0.23  # README: about 0.22 (heterophilous)
    # 60/20/20 of split 0, disjoint.
    masks = [g.ndata[m] for m in ("train_mask", "val_mask", "test_mask")]
    assert [int(m.sum()) for m in masks] == [3648, 2432, 1520]
    assert int(sum(m.long() for m in masks).max()) == 1
    # rows normalised (every actor has at least one keyword)
    assert torch.allclose(g.ndata["feat"].sum(1), torch.ones(7600), atol=1e-5)


def test_actor_edges_and_features_equal_the_raw_files(geomgcn_root):
    """Read the text again with plain Python: the undirected pairs and one node's keywords."""
    g = read_geomgcn(geomgcn_root, "film", 0, normalise=False)
    rows = (geomgcn_root / "film" / "out1_graph_edges.txt").read_text().splitlines()[1:]
    pairs = {tuple(sorted(map(int, r.split("\t")))) for r in rows}
    pairs = {p for p in pairs if p[0] != p[1]}
    src, dst = g.edges()
    assert g.num_edges() == 2 * len(pairs)
    assert {(int(a), int(b)) for a, b in zip(src, dst, strict=True) if a < b} == pairs
    first = (geomgcn_root / "film" / "out1_node_feature_label.txt").read_text().splitlines()[1]
    node, keywords, label = first.split("\t")
    active = torch.nonzero(g.ndata["feat"][int(node)]).flatten().tolist()
    assert active == sorted({int(k) for k in keywords.split(",")})
    assert int(g.ndata["label"][int(node)]) == int(label)


def test_the_ten_splits_differ_and_match_their_files(geomgcn_root):
    g0 = read_geomgcn(geomgcn_root, "film", 0)
    g9 = read_geomgcn(geomgcn_root, "film", 9)
    assert not torch.equal(g0.ndata["train_mask"], g9.ndata["train_mask"])
    assert torch.equal(g0.ndata["feat"], g9.ndata["feat"])
    with np.load(geomgcn_root / "splits" / "film_split_0.6_0.2_9.npz") as raw:
        assert np.array_equal(raw["test_mask"].astype(bool), g9.ndata["test_mask"].numpy())


def test_a_missing_split_names_the_file(geomgcn_root, tmp_path):
    root = tmp_path / "geomgcn"
    shutil.copytree(geomgcn_root / "film", root / "film")
    with pytest.raises(GraphFileError, match="film_split_0.6_0.2_3.npz"):
        read_geomgcn(root, "film", 3)
    with pytest.raises(GraphFileError, match="texas"):
        read_geomgcn(root, "texas", 0)


def test_root_input_overrides_config_and_cache_key_follows_the_split(geomgcn_root, tmp_path):
    out = run_node(
        GeomGCNNode,
        {"root": str(tmp_path / "nowhere"), "split": 1},
        {"root": str(geomgcn_root)},
        home=tmp_path,
    )
    assert out.profile["nodes"] == 7600
    cfg = GeomGCNNode.Config.model_validate({"root": str(geomgcn_root), "split": 1})
    other = GeomGCNNode.Config.model_validate({"root": str(geomgcn_root), "split": 2})
    inputs = GeomGCNNode.Inputs()
    assert GeomGCNNode.state_fingerprint(cfg, inputs, None) != GeomGCNNode.state_fingerprint(
        other, inputs, None
    )


def test_dense_feature_graphs_in_the_same_layout(tmp_path):
    """WebKB/Wikipedia files list feature values, not indices; nodes may come in any order."""
    folder = tmp_path / "texas"
    folder.mkdir()
    (folder / "out1_node_feature_label.txt").write_text(
        "node_id\tfeature\tlabel\n2\t0,1,1\t1\n0\t1,0,0\t0\n1\t0,2,0\t1\n"
    )
    (folder / "out1_graph_edges.txt").write_text("node_id\tnode_id\n0\t1\n1\t2\n2\t2\n")
    masks = {"train_mask": [1, 0, 0], "val_mask": [0, 1, 0], "test_mask": [0, 0, 1]}
    np.savez(tmp_path / "texas_split_0.6_0.2_0.npz", **{k: np.uint8(v) for k, v in masks.items()})
    (tmp_path / "splits").mkdir()
    (tmp_path / "texas_split_0.6_0.2_0.npz").rename(
        tmp_path / "splits" / "texas_split_0.6_0.2_0.npz"
    )
    g = read_geomgcn(tmp_path, "texas", 0, normalise=False)
    assert g.ndata["feat"].tolist() == [[1, 0, 0], [0, 2, 0], [0, 1, 1]]
    assert g.ndata["label"].tolist() == [0, 1, 1]
    assert g.num_edges() == 4  # 0-1 and 1-2 both ways; the self-loop 2-2 dropped
