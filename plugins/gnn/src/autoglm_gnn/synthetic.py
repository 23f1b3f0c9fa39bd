"""A seeded contextual stochastic block model (CSBM), so graph workflows run offline.

Nodes get balanced class labels; each edge joins two nodes of the same class with probability
``homophily`` (so the expected edge homophily is exactly that), otherwise two nodes of
different classes; features are a class mean plus Gaussian noise, the mean's length being
``feature_signal`` times the noise scale. Homophily and signal then set how much a GNN gains
over an MLP, which is what a search over architectures should discover.
"""

from __future__ import annotations

from dataclasses import dataclass

import dgl
import numpy as np

from autoglm_gnn.graphs import build_graph
from autoglm_gnn.splits import seeded_split


@dataclass(frozen=True)
class CSBMSpec:
    """Parameters of the generator (the ``gnn.synthetic`` config without node plumbing)."""

    nodes: int = 1000
    classes: int = 4
    avg_degree: float = 8.0
    homophily: float = 0.8
    features: int = 32
    feature_signal: float = 1.0
    train_per_class: int = 20
    val_fraction: float = 0.3
    seed: int = 0


def generate_csbm(spec: CSBMSpec) -> dgl.DGLGraph:
    """Sample one graph in the shared format from ``spec``; the same seed gives the same graph."""
    rng = np.random.default_rng(spec.seed)
    labels = rng.permutation(np.arange(spec.nodes) % spec.classes)
    by_class = [np.flatnonzero(labels == c) for c in range(spec.classes)]

    num_edges = max(1, round(spec.nodes * spec.avg_degree / 2))
    src = rng.integers(0, spec.nodes, size=num_edges)
    same = rng.random(num_edges) < spec.homophily
    # Target class: the source's own, or a uniformly drawn other class.
    shift = rng.integers(1, max(spec.classes, 2), size=num_edges)
    target_class = np.where(same, labels[src], (labels[src] + shift) % spec.classes)
    dst = np.empty(num_edges, dtype=np.int64)
    for cls, members in enumerate(by_class):
        pick = target_class == cls
        dst[pick] = members[rng.integers(0, members.size, size=int(pick.sum()))]

    directions = rng.standard_normal((spec.classes, spec.features))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    means = spec.feature_signal * directions
    # Unit noise per dimension: along the direction that separates two class means the noise
    # has standard deviation 1, so ``feature_signal`` reads as a signal-to-noise ratio.
    feat = means[labels] + rng.standard_normal((spec.nodes, spec.features))
    masks = seeded_split(
        labels,
        seed=spec.seed,
        train_per_class=spec.train_per_class,
        val_fraction=spec.val_fraction,
        test_fraction=None,
    )
    return build_graph(src, dst, feat, labels, masks)
