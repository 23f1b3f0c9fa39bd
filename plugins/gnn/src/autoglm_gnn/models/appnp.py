"""APPNP (Gasteiger et al. 2019) and SGC (Wu et al. 2019): predict with an MLP, then
propagate without parameters: ``k`` steps h <- (1 - alpha) Â h + alpha h0, or Â^k (sgc).

Separating prediction from propagation lets ``k`` grow (10+) without the over-smoothing and
parameters of a deep GCN. ``kernels: dgl`` runs DGL's ``APPNPConv``; ``csr`` the same steps as
CSR products (faster on CPU, bench/results/gnn_models.md)."""

from __future__ import annotations

import torch
from dgl.nn.pytorch import APPNPConv
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.models.stack import LayerStack
from autoglm_gnn.tensors import Features, GraphTensors


class Propagation(nn.Module):
    """An MLP, then personalised PageRank (appnp, ``alpha`` teleport) or Â^k (sgc)."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.mlp = LayerStack(cfg, in_dim, out_dim)
        self.k = cfg.k
        self.alpha = cfg.alpha if cfg.layer == "appnp" else 0.0
        self.conv = APPNPConv(cfg.k, self.alpha) if cfg.kernels == "dgl" else None

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        h0 = self.mlp(data, x)
        if self.conv is not None:
            return self.conv(data.graph_loop, h0)
        h = h0
        for _ in range(self.k):
            h = data.propagate(h)
            if self.alpha:
                h = (1 - self.alpha) * h + self.alpha * h0
        return h
