"""H2GCN (Zhu et al., NeurIPS 2020): ego, neighbour and higher-order embeddings kept apart.

An embedding r0 = act(X W) of every node's own features, then ``num_layers`` rounds
r_k = [Â1 r_{k-1} | Â2 r_{k-1}] with Â1 the normalised 1-hop adjacency without self-loops and
Â2 the strict 2-hop ring, and a classifier on [r0 | r1 | ... ]. A GCN mixes a node with its
neighbours before classifying; when neighbours mostly have other labels (Actor, the WebKB
pages) that mixing erases the node's own signal, which the separate r0 keeps."""

from __future__ import annotations

import torch
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.layers import InputLinear, Propagate, dropout
from autoglm_gnn.models.common import ACTIVATIONS
from autoglm_gnn.tensors import Features, GraphTensors


class H2GCN(nn.Module):
    """Ego embedding, then rounds of separate 1-hop and 2-hop aggregation, all concatenated."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.activation = ACTIVATIONS[cfg.activation]
        self.embed = InputLinear(in_dim, cfg.hidden)
        self.hop1 = Propagate(cfg.kernels, "hop1")
        self.hop2 = Propagate(cfg.kernels, "hop2")
        self.rounds = cfg.num_layers
        width = cfg.hidden * (2 ** (self.rounds + 1) - 1)  # hidden * (1 + 2 + 4 + ...)
        self.classify = nn.Linear(width, out_dim)

    def forward(self, data: GraphTensors, x: Features) -> torch.Tensor:
        x = dropout(x, self.cfg.input_dropout, self.training)
        r = self.activation(self.embed(x))
        parts = [r]
        for _ in range(self.rounds):
            r = torch.cat([self.hop1(data, r), self.hop2(data, r)], dim=1)
            parts.append(r)
        h = dropout(torch.cat(parts, dim=1), self.cfg.dropout, self.training)
        return self.classify(h)
