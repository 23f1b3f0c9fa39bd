"""Small pieces every model uses: activations by name and hidden-layer normalisation."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"relu": F.relu, "elu": F.elu, "leaky_relu": F.leaky_relu}


def make_norm(kind: str, dim: int) -> nn.Module:
    """The normalisation of a hidden layer (identity for "none")."""
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    return nn.Identity()
