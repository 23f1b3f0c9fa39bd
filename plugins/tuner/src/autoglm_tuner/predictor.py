"""The performance predictor: ranks untried configurations before any training, from the
journaled trials of past searches (configuration plus the task's profile), so a search can
train only the most promising share of what its optimiser proposes (config ``screen``).

Model: k nearest neighbours over (configuration, profile) features, predicting a trial's
*rank within its own search* (0 best, 1 worst). Why ranks: scores of different tasks are not
comparable (one graph's 0.8 is another's 0.6), their order within a search is. Why nearest
neighbours: a few hundred past trials, mixed categorical and numeric fields, no training
step to tune, and distance in profile space is what the warm start already trusts.
Everything is numpy; nothing is fitted when there is no past search to learn from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from autoglm.space import Choice, Dimension
from autoglm_tuner.fidelity import average_ranks
from autoglm_tuner.warmstart import flatten

#: Neighbours averaged per prediction.
NEIGHBOURS = 15
#: Weight of the task profile against the configuration in the distance.
CONTEXT_WEIGHT = 2.0


@dataclass
class PastSearch:
    """What the predictor learns from one earlier search: its profile and its trials."""

    profile: dict[str, Any]
    trials: list[tuple[dict[str, Any], float]]  # (params, loss), lower is better


class Predictor:
    """Fitted on past searches over ``space``; ``rank(points, profile)`` predicts ranks."""

    def __init__(self, space: dict[str, Dimension], past: list[PastSearch]) -> None:
        self.space = space
        self.keys = sorted({k for s in past for k, v in flatten(s.profile).items() if _num(v)})
        rows, contexts, targets = [], [], []
        for search in past:
            trials = [(p, loss) for p, loss in search.trials if _complete(space, p)]
            if len(trials) < 2:
                continue
            ranks = _ranks([loss for _, loss in trials])
            context = self._context(search.profile)
            for (params, _), rank in zip(trials, ranks, strict=True):
                rows.append(self._features(params))
                contexts.append(context)
                targets.append(rank)
        self.size = len(targets)
        if not self.size:
            return
        self.x = np.array(rows, dtype=float)
        raw = np.array(contexts, dtype=float).reshape(self.size, len(self.keys))
        self.mean = raw.mean(axis=0)
        self.scale = np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1.0)
        self.c = (raw - self.mean) / self.scale
        self.y = np.array(targets, dtype=float)

    def rank(self, points: list[dict[str, Any]], profile: dict[str, Any]) -> list[float]:
        """Predicted rank of each point in a search on ``profile`` (0 best, 1 worst; 0.5
        for everything when there is nothing to learn from)."""
        if not self.size:
            return [0.5] * len(points)
        context = (np.array(self._context(profile), dtype=float) - self.mean) / self.scale
        context_gap = ((self.c - context) ** 2).sum(axis=1) * CONTEXT_WEIGHT**2
        out = []
        for point in points:
            gap = ((self.x - np.array(self._features(point))) ** 2).sum(axis=1) + context_gap
            near = np.argsort(gap)[: min(NEIGHBOURS, self.size)]
            weights = 1.0 / (np.sqrt(gap[near]) + 1e-6)
            out.append(float((weights * self.y[near]).sum() / weights.sum()))
        return out

    def _features(self, params: dict[str, Any]) -> list[float]:
        row: list[float] = []
        for name, dim in self.space.items():
            value = params[name]
            if isinstance(dim, Choice) and not dim.ordered:
                row += [1.0 if value == v else 0.0 for v in dim.values]
            elif isinstance(dim, Choice):
                row.append(list(dim.values).index(value) / max(1, len(dim.values) - 1))
            elif dim.log:
                row.append(math.log(value / dim.low) / math.log(dim.high / dim.low or 1.0))
            else:
                row.append((value - dim.low) / ((dim.high - dim.low) or 1.0))
        return row

    def _context(self, profile: dict[str, Any]) -> list[float]:
        flat = flatten(profile)
        values = [flat.get(k) for k in self.keys]
        return [math.copysign(math.log1p(abs(v)), v) if _num(v) else 0.0 for v in values]


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _complete(space: dict[str, Dimension], params: dict[str, Any]) -> bool:
    from autoglm_tuner.spaces import in_space

    return in_space(space, params)


def _ranks(losses: list[float]) -> list[float]:
    """Rank of each loss in [0, 1] (0 best), ties averaged."""
    return [(r - 1) / (len(losses) - 1) for r in average_ranks(losses)]
