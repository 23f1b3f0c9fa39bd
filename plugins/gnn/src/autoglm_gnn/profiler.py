"""Graph statistics a search can condition on (and warm-start by): size, degrees, density,
features, classes, homophily, isolated nodes, split sizes. Plain JSON values only."""

from __future__ import annotations

from typing import Any

import dgl
import numpy as np
import torch


def _round(value: float, digits: int = 6) -> float:
    return float(round(float(value), digits))


def profile_graph(g: dgl.DGLGraph) -> dict[str, Any]:
    """Statistics of a graph in the shared format (see :mod:`autoglm_gnn.graphs`)."""
    n = g.num_nodes()
    m = g.num_edges()
    src, dst = g.edges()
    in_deg = g.in_degrees().numpy().astype(np.int64)
    out_deg = g.out_degrees().numpy().astype(np.int64)
    degree = in_deg if n else np.zeros(1, dtype=np.int64)
    label = g.ndata["label"]
    feat = g.ndata["feat"]
    num_classes = int(label.max()) + 1 if n else 0
    same = (label[src] == label[dst]).float()
    # Node homophily: per node, the share of its in-neighbours with its own label.
    same_per_node = np.bincount(dst.numpy(), weights=same.numpy(), minlength=n)
    has_nbrs = in_deg > 0
    node_h = same_per_node[has_nbrs] / in_deg[has_nbrs] if has_nbrs.any() else np.zeros(1)
    reverse = g.has_edges_between(dst, src) if m else torch.ones(0, dtype=torch.bool)
    quantiles = np.quantile(degree, [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) if n else np.zeros(6)
    bins = [0, 1, 2, 3, 5, 9, 17, 33, 65, 129, 257, 513, 1025]
    hist, _ = np.histogram(degree, bins=[*bins, max(int(degree.max()) + 1, 1026)])
    return {
        "nodes": n,
        "edges": m,
        "undirected_edges": int(m // 2) if bool(reverse.all()) else None,
        "symmetric": bool(reverse.all()),
        "self_loops": int((src == dst).sum()),
        "density": _round(m / (n * (n - 1))) if n > 1 else 0.0,
        "avg_degree": _round(m / n) if n else 0.0,
        "degree": {
            "min": int(degree.min()),
            "max": int(degree.max()),
            "mean": _round(degree.mean()),
            "std": _round(degree.std()),
            "quantiles": dict(
                zip(["p10", "p25", "p50", "p75", "p90", "p99"], map(_round, quantiles), strict=True)
            ),
            # Counts of nodes with in-degree in [lo, next lo): log-spaced buckets.
            "histogram": {f"{lo}+": int(c) for lo, c in zip(bins, hist, strict=False) if c},
        },
        "isolated_nodes": int(((in_deg == 0) & (out_deg == 0)).sum()),
        "feature_dim": int(feat.shape[1]),
        "feature_density": _round((feat != 0).float().mean()) if feat.numel() else 0.0,
        "classes": num_classes,
        "class_counts": np.bincount(label.numpy(), minlength=num_classes).tolist(),
        "edge_homophily": _round(same.mean()) if m else 0.0,
        "node_homophily": _round(node_h.mean()),
        "train_nodes": int(g.ndata["train_mask"].sum()),
        "val_nodes": int(g.ndata["val_mask"].sum()),
        "test_nodes": int(g.ndata["test_mask"].sum()),
        # The statistics that decide which searches transfer (tuner's profile_distance):
        # graphs of opposite homophily need other models whatever their size.
        "key_statistics": ["edge_homophily", "node_homophily"],
    }
