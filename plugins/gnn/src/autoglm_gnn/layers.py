"""Building blocks shared by the models: the sparse input projection and fixed propagations.

Every model projects its input features once with :class:`InputLinear`, which multiplies a
sparse feature matrix with a CSR product: Cora's bag-of-words features are 1.3% non-zero and
Actor's 0.6%, so this first product is several times cheaper than a dense one, and DGL's ``nn``
modules multiply dense input only. Everything after the projection is DGL's modules
(``GATConv``, ``SAGEConv``, ``GINConv``, ``APPNPConv``, ``GCN2Conv``, ``GraphConv``) or, for
the parameter-free symmetric propagation D^-1/2 A D^-1/2 h, a torch CSR product with a stored
transpose (:class:`Propagate` with ``kernels: csr``): forward plus backward of one step
measured 1.2-5.5 times faster than ``GraphConv(weight=False)`` on 2 CPU cores (Cora and Actor,
widths 7 and 64) at identical results; per trial see bench/results/gnn_kernels.md.
``kernels: dgl`` runs DGL's modules instead.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from dgl.nn.pytorch import GraphConv
from torch import nn

from autoglm_gnn.sparse import SparseMatrix
from autoglm_gnn.tensors import Features, GraphTensors


class InputLinear(nn.Linear):
    """``nn.Linear`` that also accepts a :class:`SparseMatrix` input."""

    def forward(self, x: Features) -> torch.Tensor:
        if not isinstance(x, SparseMatrix):
            return super().forward(x)
        out = x @ self.weight.t()
        return out if self.bias is None else out + self.bias


def dropout(x: Features, p: float, training: bool) -> Features:
    """Dropout for dense or sparse input (on a sparse matrix it drops stored values only)."""
    if not training or p <= 0.0:
        return x
    if isinstance(x, SparseMatrix):
        return x.with_values(F.dropout(x.values, p, training=True))
    return F.dropout(x, p, training=True)


class Propagate(nn.Module):
    """One parameter-free step h <- D^-1/2 A D^-1/2 h on one of the data's structures
    (``loop``: with self-loops, the GCN's Â; ``hop1``; ``hop2``: strict two-hop ring)."""

    def __init__(self, kernels: str = "csr", kind: str = "loop") -> None:
        super().__init__()
        self.kind = kind
        self.conv = (
            GraphConv(1, 1, norm="both", weight=False, bias=False, allow_zero_in_degree=True)
            if kernels == "dgl"
            else None
        )

    def forward(self, data: GraphTensors, h: torch.Tensor) -> torch.Tensor:
        if self.conv is None:
            return data.sym_adj(self.kind) @ h
        return self.conv(data.structure(self.kind), h)


class GCNIIConv(nn.Module):
    """Chen et al. 2020, layer ``l``: ((1-a) Â h + a h0)((1-b_l) I + b_l W), b_l = log(t/l+1).

    The CSR twin of DGL's ``GCN2Conv`` (used with ``kernels: dgl``): a deep GCNII makes 8-16
    propagations per forward pass, where the CSR product's speed counts most."""

    def __init__(self, dim: int, layer_index: int, alpha: float, theta: float) -> None:
        super().__init__()
        self.alpha = alpha
        self.beta = math.log(theta / layer_index + 1)
        self.weight = nn.Parameter(torch.empty(dim, dim))
        bound = 1.0 / math.sqrt(dim)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, data: GraphTensors, h: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        support = (1 - self.alpha) * data.propagate(h) + self.alpha * h0
        return (1 - self.beta) * support + self.beta * (support @ self.weight)
