"""Shared fixtures of the gnn plugin's tests: one torch thread, a small synthetic graph file,
and the shared Cora files (skipped with a reason when the data folder is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tests share 2 cores with other work: train with one thread like a tuner trial."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_graph_file(tmp_path_factory) -> Path:
    """A 300-node synthetic graph in the shared format (trains in well under a second)."""
    from autoglm_gnn.graphs import save_graph
    from autoglm_gnn.synthetic import CSBMSpec, generate_csbm

    path = tmp_path_factory.mktemp("graphs") / "small.bin"
    spec = CSBMSpec(nodes=300, classes=3, features=16, feature_signal=1.5, seed=1)
    save_graph(path, generate_csbm(spec))
    return path


@pytest.fixture(scope="session")
def planetoid_root() -> Path:
    """The shared Planetoid folder, or a skip naming what is missing."""
    from autoglm_gnn.paths import planetoid_dir

    root = planetoid_dir()
    if not (root / "ind.cora.graph").is_file():
        pytest.skip(f"Cora raw files not found in {root} (set AUTOGLM_DATA_DIR)")
    return root


@pytest.fixture(scope="session")
def cora_file(tmp_path_factory, planetoid_root) -> Path:
    """Cora in the shared graph format, written once per session."""
    from autoglm_gnn.graphs import save_graph
    from autoglm_gnn.planetoid import read_planetoid

    path = tmp_path_factory.mktemp("cora") / "cora.bin"
    save_graph(path, read_planetoid(planetoid_root, "cora"))
    return path


@pytest.fixture(scope="session")
def geomgcn_root() -> Path:
    """The shared Geom-GCN folder (Actor and its splits), or a skip naming what is missing."""
    from autoglm_gnn.paths import geomgcn_dir

    root = geomgcn_dir()
    if not (root / "film" / "out1_graph_edges.txt").is_file():
        pytest.skip(f"Actor (film) files not found in {root} (set AUTOGLM_DATA_DIR)")
    return root
