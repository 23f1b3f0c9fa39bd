"""The models beside the message-passing stacks: heterophily models (H2GCN, GPR-GNN), jumping
knowledge, and the two propagation kernels (torch CSR and DGL's modules) agreeing."""

from __future__ import annotations

import dgl
import pytest
import torch

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.graphs import build_graph, save_graph
from autoglm_gnn.synthetic import CSBMSpec, generate_csbm
from autoglm_gnn.tensors import to_tensors
from autoglm_gnn.trainer import train_config

FAST = {"max_epochs": 40, "patience": 40, "hidden": 16, "k": 4, "lr": 0.02}


@pytest.fixture(scope="module")
def heterophilous_file(tmp_path_factory):
    """Neighbours mostly of other classes (homophily 0.1), informative features."""
    spec = CSBMSpec(nodes=400, classes=3, features=16, homophily=0.1, feature_signal=1.2, seed=2)
    path = tmp_path_factory.mktemp("hetero") / "hetero.bin"
    save_graph(path, generate_csbm(spec))
    return path


@pytest.mark.parametrize(
    "options",
    [
        {"layer": "gcn", "jk": "cat", "num_layers": 3},
        {"layer": "gat", "jk": "max", "heads": 2},
        {"layer": "sage", "jk": "cat", "residual": True},
        {"layer": "gin", "jk": "max", "norm": "layer"},
        {"layer": "h2gcn", "num_layers": 2},
        {"layer": "gprgnn", "num_layers": 1, "alpha": 0.5},
    ],
)
def test_new_options_train(small_graph_file, options):
    result = train_config(small_graph_file, {**FAST, **options})
    assert result.val_acc > 0.5, (options, result)


@pytest.mark.parametrize("layer", ["gcn", "appnp", "sgc", "gprgnn", "h2gcn"])
def test_csr_and_dgl_kernels_compute_the_same_model(small_graph_file, layer):
    """Same maths, two kernels: the same seed trains to the same predictions."""
    cfg = {**FAST, "layer": layer, "num_layers": 1 if layer == "h2gcn" else 2}
    csr = train_config(small_graph_file, {**cfg, "kernels": "csr"})
    dgl_ = train_config(small_graph_file, {**cfg, "kernels": "dgl"})
    assert abs(csr.val_acc - dgl_.val_acc) <= 0.01 and abs(csr.train_acc - dgl_.train_acc) <= 0.01


def test_gcnii_trains_with_dgl_gcn2conv(small_graph_file):
    result = train_config(small_graph_file, {**FAST, "layer": "gcnii", "kernels": "dgl"})
    assert result.val_acc > 0.5


def test_heterophily_models_beat_gcn_where_neighbours_differ(heterophilous_file):
    """On a graph whose edges mostly join different classes, averaging neighbours (GCN)
    destroys the node's own signal; H2GCN and GPR-GNN keep it."""
    scores = {
        layer: sum(
            train_config(heterophilous_file, {**FAST, "layer": layer, "seed": s}).val_acc
            for s in range(2)
        )
        / 2
        for layer in ("gcn", "h2gcn", "gprgnn")
    }
    assert scores["h2gcn"] > scores["gcn"] + 0.05, scores
    assert scores["gprgnn"] > scores["gcn"] + 0.05, scores


def test_two_hop_ring_excludes_self_and_direct_neighbours():
    # path 0-1-2-3 plus the chord 0-2: two-hop ring of 0 is {3} (2 is a direct neighbour)
    src, dst = [0, 1, 2, 0], [1, 2, 3, 2]
    masks = {m: torch.ones(4, dtype=torch.bool) for m in ("train_mask", "val_mask", "test_mask")}
    g = build_graph(src, dst, torch.eye(4).numpy(), [0, 1, 0, 1], masks)
    hop2 = to_tensors(g, "cpu", "off").graph_hop2
    pairs = set(zip(*(t.tolist() for t in hop2.edges()), strict=True))
    assert pairs == {(0, 3), (3, 0), (1, 3), (3, 1)}
    assert isinstance(hop2, dgl.DGLGraph)


def test_gprgnn_starts_as_appnp_and_learns_its_weights(heterophilous_file):
    result = train_config(
        heterophilous_file, {**FAST, "layer": "gprgnn", "alpha": 0.2, "max_epochs": 30}
    )
    gamma = result.model.gamma.detach()
    start = 0.2 * 0.8 ** torch.arange(5, dtype=torch.float32)
    start[-1] = 0.8**4
    assert gamma.shape == (5,) and not torch.allclose(gamma, start)


def test_h2gcn_rounds_are_bounded():
    with pytest.raises(ValueError, match="h2gcn"):
        TrainConfig(layer="h2gcn", num_layers=4)
    assert TrainConfig(layer="gcn", num_layers=4).num_layers == 4
