"""A graph file turned into the tensors a model trains on, cached per process.

A tuner runs many trials on the same graph file; reading it, building the normalised
adjacency matrices and converting features to a sparse matrix once per process instead of
once per trial keeps a 200-epoch GCN trial near a second on Cora.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import dgl
import numpy as np
import scipy.sparse as sp
import torch

from autoglm_gnn.graphs import load_graph_file
from autoglm_gnn.sparse import SparseMatrix

#: Feature matrices at most this dense take the sparse first-layer path under "auto".
SPARSE_DENSITY = 0.1
_CACHE: OrderedDict[tuple, GraphTensors] = OrderedDict()
_CACHE_SIZE = 2

Features = torch.Tensor | SparseMatrix


@dataclass
class GraphTensors:
    """Graphs, features, labels and masks on one device, ready for a model.

    ``graph`` is the file's graph (symmetric when the loader made it so, no self-loops);
    ``graph_loop`` adds self-loops (attention). Aggregations that are fixed linear maps are
    sparse matrices built on first use: out = M @ h with M[dst, src] the edge weight.
    """

    graph: dgl.DGLGraph
    graph_loop: dgl.DGLGraph
    feat: Features
    label: torch.Tensor
    train_mask: torch.Tensor
    val_mask: torch.Tensor
    test_mask: torch.Tensor
    num_classes: int
    source: str = "<memory>"

    @property
    def in_dim(self) -> int:
        return int(self.feat.shape[1])

    @property
    def sparse(self) -> bool:
        return isinstance(self.feat, SparseMatrix)

    def _matrix(self, g: dgl.DGLGraph, weight: str) -> SparseMatrix:
        src, dst = g.edges()
        n = g.num_nodes()
        deg = g.in_degrees().float().clamp(min=1)
        if weight == "sym":  # D^-1/2 A D^-1/2
            values = deg[src].rsqrt() * deg[dst].rsqrt()
        elif weight == "mean":  # D^-1 A: mean over in-neighbours
            values = 1.0 / deg[dst]
        else:
            values = torch.ones(src.shape[0], device=src.device)
        return SparseMatrix.from_coo(dst, src, values, (n, n))

    @functools.cached_property
    def gcn_adj(self) -> SparseMatrix:
        """Â = D̃^-1/2 (A + I) D̃^-1/2 (GCN, APPNP, SGC, GCNII)."""
        return self._matrix(self.graph_loop, "sym")

    @functools.cached_property
    def mean_adj(self) -> SparseMatrix:
        """Mean over neighbours (GraphSAGE mean)."""
        return self._matrix(self.graph, "mean")

    @functools.cached_property
    def mean_loop_adj(self) -> SparseMatrix:
        """Mean over neighbours and self (GraphSAGE gcn aggregator)."""
        return self._matrix(self.graph_loop, "mean")

    @functools.cached_property
    def sum_adj(self) -> SparseMatrix:
        """Sum over neighbours (GIN)."""
        return self._matrix(self.graph, "sum")

    @functools.cached_property
    def hop1_adj(self) -> SparseMatrix:
        """D^-1/2 A D^-1/2 without self-loops (H2GCN's neighbours apart from the ego node)."""
        return self._matrix(self.graph, "sym")

    @functools.cached_property
    def graph_hop2(self) -> dgl.DGLGraph:
        """Strict two-hop neighbours: reachable in two steps, not in one, not the node itself
        (H2GCN: on heterophilous graphs the 2-hop ring is often more alike than the 1-hop)."""
        n = self.graph.num_nodes()
        src, dst = (t.cpu().numpy() for t in self.graph.edges())
        adj = sp.csr_matrix((np.ones(src.size, dtype=np.float32), (dst, src)), shape=(n, n))
        two = (adj @ adj).tocsr()
        two.setdiag(0)
        two = two - two.multiply(adj > 0)
        two.eliminate_zeros()
        coo = two.tocoo()
        hop2 = dgl.graph((torch.from_numpy(coo.col), torch.from_numpy(coo.row)), num_nodes=n)
        return hop2.to(self.graph.device)

    @functools.cached_property
    def hop2_adj(self) -> SparseMatrix:
        """Symmetric-normalised strict two-hop adjacency."""
        return self._matrix(self.graph_hop2, "sym")

    def structure(self, kind: str) -> dgl.DGLGraph:
        """The graph of a propagation ``kind``: ``loop`` (with self-loops), ``hop1``, ``hop2``."""
        return {"loop": self.graph_loop, "hop1": self.graph}.get(kind) or self.graph_hop2

    def sym_adj(self, kind: str) -> SparseMatrix:
        """The symmetric-normalised matrix of ``structure(kind)``."""
        return {"loop": self.gcn_adj, "hop1": self.hop1_adj}.get(kind) or self.hop2_adj

    def propagate(self, h: torch.Tensor) -> torch.Tensor:
        """One step of symmetric-normalised propagation with self-loops: Â h."""
        return self.gcn_adj @ h


def use_sparse(feat: torch.Tensor, mode: str) -> bool:
    """Whether the first layer should multiply a sparse feature matrix (see ``sparse_features``)."""
    if mode == "on":
        return True
    if mode == "off":
        return False
    return feat.numel() > 0 and float((feat != 0).float().mean()) <= SPARSE_DENSITY


def to_tensors(g: dgl.DGLGraph, device: str, sparse_mode: str, source: str = "<memory>"):
    """Build :class:`GraphTensors` from a graph in the shared format."""
    feat = g.ndata["feat"]
    label = g.ndata["label"]
    structure = dgl.remove_self_loop(dgl.graph(g.edges(), num_nodes=g.num_nodes()))
    loop = dgl.add_self_loop(structure)
    features = SparseMatrix.from_dense(feat) if use_sparse(feat, sparse_mode) else feat
    return GraphTensors(
        graph=structure.to(device),
        graph_loop=loop.to(device),
        feat=features.to(device),
        label=label.to(device),
        train_mask=g.ndata["train_mask"].to(device),
        val_mask=g.ndata["val_mask"].to(device),
        test_mask=g.ndata["test_mask"].to(device),
        num_classes=int(label.max()) + 1 if label.numel() else 0,
        source=source,
    )


def load_tensors(graph: str | Path | dgl.DGLGraph, device: str, sparse_mode: str) -> GraphTensors:
    """Tensors of a graph file (cached by path, modification time and size) or a graph."""
    if isinstance(graph, dgl.DGLGraph):
        return to_tensors(graph, device, sparse_mode)
    path = Path(graph).resolve()
    stat = path.stat() if path.is_file() else None
    key = (str(path), stat and stat.st_mtime_ns, stat and stat.st_size, device, sparse_mode)
    if stat is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    tensors = to_tensors(load_graph_file(path), device, sparse_mode, source=str(path))
    _CACHE[key] = tensors
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return tensors
