"""gcn, gat, sage, gin and mlp: ``num_layers`` layers of one kind, DGL's modules after a
sparse input projection, with dropout, normalisation, activation, residuals and jumping
knowledge between them.

Each layer first projects its input (:class:`~autoglm_gnn.layers.InputLinear`: a CSR product
for sparse features, a plain linear map for hidden activations), then runs DGL's module on the
projection. For GCN the projection is the layer's weight (Â X W, exact), for GAT it replaces
``GATConv``'s own ``fc`` (exact), for GraphSAGE and GIN DGL's module applies its own weights to
the projection (a shared first factor). The MLP parts of appnp, sgc and gprgnn are stacks of
linear layers.
"""

from __future__ import annotations

import torch
from dgl.nn.pytorch import GATConv, GINConv, SAGEConv
from dgl.nn.pytorch.utils import JumpingKnowledge
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.layers import InputLinear, Propagate, dropout
from autoglm_gnn.models.common import ACTIVATIONS, make_norm
from autoglm_gnn.tensors import Features, GraphTensors


class ProjectedLayer(nn.Module):
    """``conv(graph, lin(x))``: one layer of a stack, ``out_dim`` wide."""

    def __init__(
        self, cfg: TrainConfig, in_dim: int, out_dim: int, last: bool, hidden_input: bool
    ) -> None:
        super().__init__()
        kind = cfg.layer
        self.kind, self.conv, self.bias = kind, None, None
        if kind == "gcn":
            self.lin = InputLinear(in_dim, out_dim, bias=False)
            self.conv = Propagate(cfg.kernels)
            self.bias = nn.Parameter(torch.zeros(out_dim))
        elif kind == "gat":
            heads = 1 if last else cfg.heads
            head_dim = out_dim if last else max(1, out_dim // heads)
            self.lin = InputLinear(in_dim, heads * head_dim, bias=False)
            self.conv = GATConv(heads * head_dim, head_dim, heads, attn_drop=cfg.attn_dropout)
            self.conv.fc = nn.Identity()  # the projection above is GAT's W
            out_dim = head_dim if last else head_dim * heads
            self.concat = not last
        elif kind == "sage":
            # only the first layer needs the projection (its input may be sparse)
            width = in_dim if hidden_input else out_dim
            self.lin = nn.Identity() if hidden_input else InputLinear(in_dim, out_dim, bias=False)
            self.conv = SAGEConv(width, out_dim, cfg.aggregator)
        elif kind == "gin":
            self.lin = InputLinear(in_dim, out_dim)
            mlp = nn.Sequential(_Activation(cfg.activation), nn.Linear(out_dim, out_dim))
            self.conv = GINConv(mlp, "sum", learn_eps=True)
        else:  # mlp and the MLP part of propagation models
            self.lin = InputLinear(in_dim, out_dim)
        self.out_dim = out_dim

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        h = self.lin(x)
        if self.kind == "gcn":
            return self.conv(data, h) + self.bias
        if self.kind == "gat":
            h = self.conv(data.graph_loop, h)
            return h.flatten(1) if self.concat else h.mean(1)
        if self.conv is not None:
            return self.conv(data.graph, h)
        return h


class _Activation(nn.Module):
    """An activation by name, as a module (GIN's MLP)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.fn = ACTIVATIONS[name]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.fn(h)


class LayerStack(nn.Module):
    """``num_layers`` layers; hidden layers get norm, activation and an optional residual.

    With ``jk`` (jumping knowledge, Xu et al. 2018) every layer is hidden and the classifier
    reads all their outputs, concatenated or max-pooled: a node keeps the depth that suits
    it, from its own features (layer 1) to wider neighbourhoods."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.activation = ACTIVATIONS[cfg.activation]
        self.jk = cfg.jk if cfg.layer in ("gcn", "gat", "sage", "gin") else "none"
        self.convs, self.norms, self.skips = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        width = in_dim
        for index in range(cfg.num_layers):
            last = index == cfg.num_layers - 1 and self.jk == "none"
            conv = ProjectedLayer(cfg, width, out_dim if last else cfg.hidden, last, index > 0)
            self.convs.append(conv)
            if not last:
                self.norms.append(make_norm(cfg.norm, conv.out_dim))
                same = width == conv.out_dim
                skip = nn.Identity() if same else InputLinear(width, conv.out_dim, bias=False)
                self.skips.append(skip)
            width = conv.out_dim
        if self.jk != "none":
            self.combine = JumpingKnowledge(self.jk)
            jk_width = width * cfg.num_layers if self.jk == "cat" else width
            self.classify = nn.Linear(jk_width, out_dim)

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        h, outputs = x, []
        for index, conv in enumerate(self.convs):
            rate = self.cfg.input_dropout if index == 0 else self.cfg.dropout
            h_in = dropout(h, rate, self.training)
            h = conv(data, h_in)
            if index < len(self.norms):
                h = self.activation(self.norms[index](h))
                if self.cfg.residual:
                    h = h + self.skips[index](h_in)
                outputs.append(h)
        if self.jk == "none":
            return h
        h = dropout(self.combine(outputs), self.cfg.dropout, self.training)
        return self.classify(h)
