"""Build a model from any point of the search space (:class:`~autoglm_gnn.config.TrainConfig`).

Three families share one forward contract ``model(data, x) -> logits``:

* :class:`LayerStack` – ``num_layers`` layers of one type (gcn, gat, sage, gin, or linear for
  mlp) with dropout, normalisation, activation and optional residuals between them;
* :class:`Propagation` – a LayerStack of linear layers followed by ``k`` parameter-free
  propagation steps: personalised PageRank (appnp) or plain Â^k (sgc);
* :class:`GCNII` – input projection, ``k`` GCNII layers with initial residual and identity
  mapping, output projection.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.layers import (
    GATConv,
    GCNConv,
    GCNIIConv,
    GINConv,
    InputLinear,
    LinearConv,
    SAGEConv,
    dropout,
)
from autoglm_gnn.tensors import GraphTensors

ACTIVATIONS = {"relu": F.relu, "elu": F.elu, "leaky_relu": F.leaky_relu}


def make_norm(kind: str, dim: int) -> nn.Module:
    """The normalisation of a hidden layer (identity for "none")."""
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    return nn.Identity()


def make_conv(cfg: TrainConfig, in_dim: int, out_dim: int, last: bool) -> nn.Module:
    """One layer of ``cfg.layer`` (linear for the MLP part of propagation models)."""
    kind = cfg.layer
    if kind == "gcn":
        return GCNConv(in_dim, out_dim)
    if kind == "gat":
        if last:
            return GATConv(in_dim, out_dim, 1, cfg.attn_dropout, concat=False)
        return GATConv(in_dim, max(1, out_dim // cfg.heads), cfg.heads, cfg.attn_dropout, True)
    if kind == "sage":
        return SAGEConv(in_dim, out_dim, cfg.aggregator)
    if kind == "gin":
        return GINConv(in_dim, out_dim, ACTIVATIONS[cfg.activation])
    return LinearConv(in_dim, out_dim)


class LayerStack(nn.Module):
    """``num_layers`` layers; hidden layers get norm, activation and an optional residual."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.activation = ACTIVATIONS[cfg.activation]
        self.convs, self.norms, self.skips = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        width = in_dim
        for index in range(cfg.num_layers):
            last = index == cfg.num_layers - 1
            conv = make_conv(cfg, width, out_dim if last else cfg.hidden, last)
            self.convs.append(conv)
            if not last:
                self.norms.append(make_norm(cfg.norm, conv.out_dim))
                same = width == conv.out_dim
                skip = nn.Identity() if same else InputLinear(width, conv.out_dim, bias=False)
                self.skips.append(skip)
            width = conv.out_dim

    def forward(self, data: GraphTensors, x: torch.Tensor) -> torch.Tensor:
        h = x
        for index, conv in enumerate(self.convs):
            rate = self.cfg.input_dropout if index == 0 else self.cfg.dropout
            h_in = dropout(h, rate, self.training)
            h = conv(data, h_in)
            if index < len(self.norms):
                h = self.activation(self.norms[index](h))
                if self.cfg.residual:
                    h = h + self.skips[index](h_in)
        return h


class Propagation(nn.Module):
    """Predict with an MLP, then propagate: APPNP (``alpha`` teleport) or SGC (Â^k)."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.mlp = LayerStack(cfg, in_dim, out_dim)
        self.k = cfg.k
        self.alpha = cfg.alpha if cfg.layer == "appnp" else 0.0

    def forward(self, data: GraphTensors, x: torch.Tensor) -> torch.Tensor:
        h0 = self.mlp(data, x)
        h = h0
        for _ in range(self.k):
            h = data.propagate(h)
            if self.alpha:
                h = (1 - self.alpha) * h + self.alpha * h0
        return h


class GCNII(nn.Module):
    """Deep propagation with initial residual and identity mapping (Chen et al., ICML 2020)."""

    def __init__(self, cfg: TrainConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.activation = ACTIVATIONS[cfg.activation]
        self.lin_in = InputLinear(in_dim, cfg.hidden)
        self.convs = nn.ModuleList(
            GCNIIConv(cfg.hidden, index, cfg.alpha, cfg.theta) for index in range(1, cfg.k + 1)
        )
        self.norms = nn.ModuleList(make_norm(cfg.norm, cfg.hidden) for _ in range(cfg.k))
        self.lin_out = nn.Linear(cfg.hidden, out_dim)

    def parameter_groups(self) -> list[dict]:
        """The deep layers' weights get their own (stronger) decay, as in the GCNII paper."""
        deep = {id(p) for p in self.convs.parameters()}
        rest = [p for p in self.parameters() if id(p) not in deep]
        return [
            {"params": list(self.convs.parameters()), "weight_decay": self.cfg.conv_weight_decay},
            {"params": rest, "weight_decay": self.cfg.weight_decay},
        ]

    def forward(self, data: GraphTensors, x: torch.Tensor) -> torch.Tensor:
        x = dropout(x, self.cfg.input_dropout, self.training)
        h0 = self.activation(self.lin_in(x))
        h = h0
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = dropout(h, self.cfg.dropout, self.training)
            h = self.activation(norm(conv(data, h, h0)))
        h = dropout(h, self.cfg.dropout, self.training)
        return self.lin_out(h)


def build_model(cfg: TrainConfig, in_dim: int, num_classes: int) -> nn.Module:
    """The model of ``cfg`` for ``in_dim`` features and ``num_classes`` classes."""
    if cfg.layer in ("appnp", "sgc"):
        return Propagation(cfg, in_dim, num_classes)
    if cfg.layer == "gcnii":
        return GCNII(cfg, in_dim, num_classes)
    return LayerStack(cfg, in_dim, num_classes)


def parameter_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    """Optimiser parameter groups: one with ``weight_decay`` unless the model splits them."""
    if hasattr(model, "parameter_groups"):
        return model.parameter_groups()
    return [{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
