"""Graph layers written "project, then propagate" on DGL's sparse kernels.

Every layer starts with a :class:`InputLinear`, which multiplies a sparse feature matrix with
``torch.sparse.mm``. Projecting before aggregating is exact for these layers (aggregation is
linear), and it lets the first layer of every model read Cora's bag-of-words features as a
sparse matrix: 1.3% of its entries are non-zero, so a trial is several times cheaper than with
a dense 2708 x 1433 product. DGL's own ``nn`` modules call ``matmul`` on dense input only.
"""

from __future__ import annotations

import math

import dgl
import torch
import torch.nn.functional as F
from dgl.nn.functional import edge_softmax
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


class LinearConv(nn.Module):
    """No message passing: the layer of MLPs and of the MLP part of APPNP/SGC."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.out_dim = out_dim
        self.lin = InputLinear(in_dim, out_dim)

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        return self.lin(x)


class GCNConv(nn.Module):
    """Kipf & Welling: Â X W + b with Â = D^-1/2 (A + I) D^-1/2."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.out_dim = out_dim
        self.lin = InputLinear(in_dim, out_dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_dim))

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        return data.propagate(self.lin(x)) + self.bias


class GATConv(nn.Module):
    """Velickovic et al.: multi-head additive attention over neighbours and self-loops."""

    def __init__(
        self, in_dim: int, head_dim: int, heads: int, attn_dropout: float, concat: bool
    ) -> None:
        super().__init__()
        self.heads, self.head_dim, self.concat = heads, head_dim, concat
        self.out_dim = head_dim * heads if concat else head_dim
        self.lin = InputLinear(in_dim, head_dim * heads, bias=False)
        self.attn_src = nn.Parameter(torch.empty(1, heads, head_dim))
        self.attn_dst = nn.Parameter(torch.empty(1, heads, head_dim))
        self.attn_dropout = attn_dropout
        self.bias = nn.Parameter(torch.zeros(self.out_dim))
        gain = nn.init.calculate_gain("relu")
        nn.init.xavier_normal_(self.attn_src, gain=gain)
        nn.init.xavier_normal_(self.attn_dst, gain=gain)

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        g = data.graph_loop
        z = self.lin(x).view(-1, self.heads, self.head_dim)
        score_src = (z * self.attn_src).sum(-1, keepdim=True)
        score_dst = (z * self.attn_dst).sum(-1, keepdim=True)
        scores = F.leaky_relu(dgl.ops.u_add_v(g, score_src, score_dst), 0.2)
        attention = F.dropout(edge_softmax(g, scores), self.attn_dropout, self.training)
        out = dgl.ops.u_mul_e_sum(g, z, attention)
        out = out.flatten(1) if self.concat else out.mean(1)
        return out + self.bias


class SAGEConv(nn.Module):
    """Hamilton et al.: self term plus an aggregate of neighbours (mean, max-pool or gcn)."""

    def __init__(self, in_dim: int, out_dim: int, aggregator: str) -> None:
        super().__init__()
        self.out_dim, self.aggregator = out_dim, aggregator
        parts = 1 if aggregator == "gcn" else 2
        self.lin = InputLinear(in_dim, parts * out_dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_dim))
        if aggregator == "pool":
            self.pool_bias = nn.Parameter(torch.zeros(out_dim))
            self.neigh = nn.Linear(out_dim, out_dim, bias=False)

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        z = self.lin(x)
        if self.aggregator == "gcn":
            return data.mean_loop_adj @ z + self.bias
        own, other = z.split(self.out_dim, dim=-1)
        if self.aggregator == "mean":
            return own + data.mean_adj @ other + self.bias
        pooled = dgl.ops.copy_u_max(data.graph, F.relu(other + self.pool_bias))
        return own + self.neigh(pooled) + self.bias


class GINConv(nn.Module):
    """Xu et al.: MLP((1 + eps) x + sum of neighbours), eps learnt."""

    def __init__(self, in_dim: int, out_dim: int, activation) -> None:
        super().__init__()
        self.out_dim, self.activation = out_dim, activation
        self.lin1 = InputLinear(in_dim, out_dim, bias=False)
        self.bias1 = nn.Parameter(torch.zeros(out_dim))
        self.lin2 = nn.Linear(out_dim, out_dim)
        self.eps = nn.Parameter(torch.zeros(1))

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        z = self.lin1(x)
        agg = (1 + self.eps) * z + data.sum_adj @ z + self.bias1
        return self.lin2(self.activation(agg))


class GCNIIConv(nn.Module):
    """Chen et al. 2020, layer ``l``: ((1-a) Â h + a h0)((1-b_l) I + b_l W), b_l = log(t/l+1)."""

    def __init__(self, dim: int, layer_index: int, alpha: float, theta: float) -> None:
        super().__init__()
        self.out_dim = dim
        self.alpha = alpha
        self.beta = math.log(theta / layer_index + 1)
        self.weight = nn.Parameter(torch.empty(dim, dim))
        bound = 1.0 / math.sqrt(dim)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, data: GraphTensors, h: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        support = (1 - self.alpha) * data.propagate(h) + self.alpha * h0
        return (1 - self.beta) * support + self.beta * (support @ self.weight)
