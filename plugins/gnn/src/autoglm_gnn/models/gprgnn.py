"""GPR-GNN (Chien et al., ICLR 2021): an MLP, then h = sum_k gamma_k Â^k h0 for k = 0..K with
the weights gamma learnt.

APPNP fixes gamma_k = alpha (1 - alpha)^k, a low-pass filter that averages neighbours: right
when neighbours share labels, wrong on heterophilous graphs. Learnt (possibly negative)
weights let the model choose a high-pass filter there and a low-pass one on citation graphs.
gamma starts at APPNP's weights (``alpha``), as in the paper's PPR initialisation, so the model
begins as APPNP and moves away where the training signal says so."""

from __future__ import annotations

import torch
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.layers import Propagate, dropout
from autoglm_gnn.models.stack import LayerStack
from autoglm_gnn.tensors import Features, GraphTensors


class GPRGNN(nn.Module):
    """Generalised PageRank propagation with learnt step weights."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.mlp = LayerStack(cfg, in_dim, out_dim)
        self.propagate = Propagate(cfg.kernels)
        alpha, k = cfg.alpha, cfg.k
        gamma = alpha * (1 - alpha) ** torch.arange(k + 1, dtype=torch.float32)
        gamma[-1] = (1 - alpha) ** k
        self.gamma = nn.Parameter(gamma)

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        h = dropout(self.mlp(data, x), self.cfg.dropout, self.training)
        out = self.gamma[0] * h
        for step in range(1, self.gamma.numel()):
            h = self.propagate(data, h)
            out = out + self.gamma[step] * h
        return out
