"""GCNII (Chen et al., ICML 2020): input projection, ``k`` layers
h <- act(((1 - alpha) Â h + alpha h0)((1 - beta_l) I + beta_l W_l)), output projection.

The initial residual (alpha h0) and the identity mapping (beta_l -> 0 with depth) keep a deep
model from over-smoothing; it is strong on both citation graphs and Actor (37.4 there).
``kernels: dgl`` uses DGL's ``GCN2Conv``; ``csr`` the same layer on CSR products."""

from __future__ import annotations

import torch
from dgl.nn.pytorch import GCN2Conv
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.layers import GCNIIConv, InputLinear, dropout
from autoglm_gnn.models.common import ACTIVATIONS, make_norm
from autoglm_gnn.tensors import Features, GraphTensors


class GCNII(nn.Module):
    """Deep propagation with initial residual and identity mapping."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.activation = ACTIVATIONS[cfg.activation]
        self.lin_in = InputLinear(in_dim, cfg.hidden)
        self.dgl = cfg.kernels == "dgl"
        layers = range(1, cfg.k + 1)
        self.convs = nn.ModuleList(
            GCN2Conv(cfg.hidden, i, cfg.alpha, cfg.theta, bias=False, allow_zero_in_degree=True)
            if self.dgl
            else GCNIIConv(cfg.hidden, i, cfg.alpha, cfg.theta)
            for i in layers
        )
        self.norms = nn.ModuleList(make_norm(cfg.norm, cfg.hidden) for _ in layers)
        self.lin_out = nn.Linear(cfg.hidden, out_dim)

    def parameter_groups(self) -> list[dict]:
        """The deep layers' weights get their own (stronger) decay, as in the GCNII paper."""
        deep = {id(p) for p in self.convs.parameters()}
        rest = [p for p in self.parameters() if id(p) not in deep]
        return [
            {"params": list(self.convs.parameters()), "weight_decay": self.cfg.conv_weight_decay},
            {"params": rest, "weight_decay": self.cfg.weight_decay},
        ]

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        x = dropout(x, self.cfg.input_dropout, self.training)
        h0 = self.activation(self.lin_in(x))
        h = h0
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = dropout(h, self.cfg.dropout, self.training)
            h = conv(data.graph_loop, h, h0) if self.dgl else conv(data, h, h0)
            h = self.activation(norm(h))
        h = dropout(h, self.cfg.dropout, self.training)
        return self.lin_out(h)
