"""gnn.files: a user's graph from CSV / NumPy files, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from autoglm.testing import run_node
from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.graphs import load_graph_file
from autoglm_gnn.nodes.loaders import FilesNode


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.fixture
def csv_graph(tmp_path) -> dict[str, str]:
    """A 6-node graph: two triangles, two classes, explicit masks."""
    return {
        "edges": write(tmp_path / "edges.csv", "src,dst\n0,1\n1,2\n2,0\n3,4\n4,5\n5,3\n2,3\n"),
        "features": write(tmp_path / "feat.csv", "a,b\n1,0\n1,0.5\n0.9,0\n0,1\n0,1\n0.1,1\n"),
        "labels": write(tmp_path / "labels.csv", "cat\ncat\ncat\ndog\ndog\ndog\n"),
        "masks": write(
            tmp_path / "masks.csv",
            "train,val,test\n1,0,0\n0,1,0\n0,0,1\ntrue,false,false\nfalse,true,false\n0,0,1\n",
        ),
    }


def test_csv_graph_loads_symmetric_with_masks(csv_graph, tmp_path):
    out = run_node(FilesNode, csv_graph, home=tmp_path / "home")
    g = load_graph_file(out.path)
    assert g.num_nodes() == 6 and g.num_edges() == 14  # 7 undirected edges, both directions
    assert g.ndata["label"].tolist() == [0, 0, 0, 1, 1, 1]  # class names in sorted order
    assert g.ndata["train_mask"].tolist() == [True, False, False, True, False, False]
    assert g.ndata["test_mask"].tolist() == [False, False, True, False, False, True]
    assert out.profile["edge_homophily"] == pytest.approx(12 / 14, abs=1e-6)


def test_numpy_files_directed_with_seeded_split(tmp_path):
    rng = np.random.default_rng(0)
    edges = rng.integers(0, 40, size=(2, 120))  # (2, E) layout is accepted too
    np.save(tmp_path / "edges.npy", edges)
    feat = sp.random(40, 30, density=0.1, random_state=0, format="csr")
    sp.save_npz(tmp_path / "feat.npz", feat)
    np.save(tmp_path / "labels.npy", np.arange(40) % 4)
    config = {
        "edges": str(tmp_path / "edges.npy"),
        "features": str(tmp_path / "feat.npz"),
        "labels": str(tmp_path / "labels.npy"),
        "directed": True,
        "train_per_class": 3,
        "val_fraction": 0.5,
        "row_normalise": True,
    }
    out = run_node(FilesNode, config, home=tmp_path / "home")
    g = load_graph_file(out.path)
    assert g.num_nodes() == 40 and out.profile["train_nodes"] == 12
    assert out.profile["val_nodes"] == 14 and out.profile["test_nodes"] == 14
    assert not out.profile["symmetric"]
    nonzero = g.ndata["feat"].sum(1) > 0
    assert torch.allclose(g.ndata["feat"].sum(1)[nonzero], torch.ones(int(nonzero.sum())))
    again = load_graph_file(run_node(FilesNode, config, home=tmp_path / "again").path)
    assert torch.equal(g.ndata["val_mask"], again.ndata["val_mask"])


@pytest.mark.parametrize(
    ("field", "content", "message"),
    [
        (
            "edges",
            "0,1\n1,x\n",
            r"edges\.csv: edges: line 2, column 2: expected a number, found 'x'",
        ),
        ("edges", "0\n1\n", r"edges: expected 2 columns \(source, target\), found 1"),
        (
            "edges",
            "0,1\n1,9\n",
            r"edges\.csv: node id 9 out of range: features define nodes 0\.\.5",
        ),
        ("edges", "0,1\n-1,2\n", r"node id -1 out of range"),
        ("edges", "", r"edges\.csv: edges file is empty"),
        (
            "features",
            "a,b\n1,0\n1,nan\n",
            r"feat\.csv: features: line 3, column 2: expected a number",
        ),
        ("labels", "cat\ndog\n", r"labels\.csv: 2 labels but the features file has 6 rows"),
        ("labels", "x,y\n1,2\n", r"labels: expected one column or a header with a 'label' column"),
        (
            "masks",
            "train,val\n1,0\n",
            r"masks: expected a header with columns \['train', 'val', 'test'\]",
        ),
        ("masks", "train,val,test\n1,0,0\n", r"masks: train_mask has 1 entries, expected 6"),
        ("masks", "train,val,test\n" + "1,maybe,0\n" * 6, r"line 2, column 'val': expected 0/1"),
        ("masks", "train,val,test\n" + "1,1,0\n" * 6, r"node 0 is in train and val/test"),
    ],
)
def test_bad_files_name_file_and_problem(csv_graph, tmp_path, field, content, message):
    bad = dict(csv_graph)
    bad[field] = write(Path(csv_graph[field]), content)
    with pytest.raises(GraphFileError, match=message):
        run_node(FilesNode, bad, home=tmp_path / "home")


def test_missing_and_unsupported_files(csv_graph, tmp_path):
    with pytest.raises(GraphFileError, match=r"nowhere\.csv: edge list file not found"):
        run_node(FilesNode, {**csv_graph, "edges": str(tmp_path / "nowhere.csv")}, home=tmp_path)
    odd = write(tmp_path / "feat.parquet", "")
    with pytest.raises(GraphFileError, match=r"unsupported features format '\.parquet'"):
        run_node(FilesNode, {**csv_graph, "features": odd}, home=tmp_path)
    np.save(tmp_path / "edges3.npy", np.zeros((5, 3)))
    with pytest.raises(GraphFileError, match=r"edge array must have shape \(E, 2\) or \(2, E\)"):
        run_node(FilesNode, {**csv_graph, "edges": str(tmp_path / "edges3.npy")}, home=tmp_path)
