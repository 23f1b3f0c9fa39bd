"""A seed ensemble: one configuration trained several times from different seeds, predicting
the mean of its members' class probabilities.

Why: a selected model's test accuracy moves from seed to seed by about as much as a search
gains (GCNII on Cora: sd 0.47 points single, 0.13 as an ensemble of 5); averaging members
removes most of that spread. Measured on Cora, Actor and CSBM graphs in
``docs/benchmarks.md`` ("Seed ensembles against single models").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Offset between members' seeds: member ``i`` of seed ``s`` trains on ``s + i * STRIDE``, so
#: the ensembles of neighbouring seeds (100, 101, ...) share no member.
MEMBER_SEED_STRIDE = 1_000_003


def member_seed(seed: int, member: int) -> int:
    """Seed of member ``member`` (0-based) of an ensemble trained with ``seed``: member 0 is
    the single model of that seed."""
    return seed + member * MEMBER_SEED_STRIDE


class SeedEnsemble(nn.Module):
    """Members with the ``model(data, x) -> logits`` contract; returns the log of their mean
    probabilities, so argmax and cross-entropy read it as any model's logits."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a seed ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, data, x) -> torch.Tensor:
        probabilities = torch.stack([F.softmax(m(data, x), dim=-1) for m in self.members])
        return probabilities.mean(0).clamp_min(1e-12).log()
