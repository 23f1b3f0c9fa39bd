"""The performance predictor: ranks untried configurations before any training, from the
journaled trials of past searches (configuration plus the task's profile), so a search can
train only the most promising share of what its optimiser proposes (config ``screen``).

Model: per past search, k nearest neighbours over the configuration predict a trial's *rank
within that search* (0 best, 1 worst); the searches' predictions are averaged with weights
that fall with their profile distance to the new task (:func:`warmstart.profile_distance`,
which counts the profile's key statistics, such as a graph's homophily). Why ranks: scores of
different tasks are not comparable (one graph's 0.8 is another's 0.6), their order within a
search is. Why per search and weighted by the warm start's distance: the former model mixed
every profile statistic into one Euclidean distance, so two graphs of equal size and opposite
homophily were each other's nearest task and transferred a ranking that was wrong there
(graph benchmark: Spearman -0.50 and -0.34 on the held-out CSBM graphs).

:class:`ScreenCheck` keeps a wrong predictor from costing trials: it compares the predicted
ranks of the trials trained so far with their observed losses and lets the search screen
only while the two agree. And every ``UNSCREENED_EVERY``-th trial is the optimiser's own
proposal, so a region the predictor ranks low is still explored.

Everything is numpy; nothing is fitted when there is no past search to learn from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoglm.space import Choice, Dimension
from autoglm_tuner.fidelity import average_ranks, spearman
from autoglm_tuner.spaces import in_space
from autoglm_tuner.warmstart import profile_distance

#: Neighbours averaged per prediction, within one past search.
NEIGHBOURS = 15
#: Profile distance over which a past search's weight falls by a factor e, relative to the
#: nearest one. Small: a search 0.05 farther than the nearest counts less than a tenth as
#: much, so the nearest task decides (graph benchmark, held-out Spearman at 0.02 / 0.05 /
#: 0.1 / 1: lowest of four graphs 0.22 / 0.10 / 0.01 / -0.06).
DISTANCE_SCALE = 0.02
#: Every this many trials, one takes the optimiser's own proposal, unscreened. Why: a
#: predictor right on the whole but wrong at the top never lets the best region be trained
#: (graph benchmark, CSBM 0.2 learning from Actor: screening every trial reached the cold
#: search's final score 29 trials later; every second trial: 2 trials later, and the top 5%
#: sooner on all four graphs).
UNSCREENED_EVERY = 2
#: Trained trials the self-check needs before it may stop screening.
CHECK_AFTER = 6
#: Screening goes on while the predicted ranks of the trained trials correlate with their
#: observed losses (Spearman) at least this much.
CHECK_AGREEMENT = 0.1


@dataclass
class PastSearch:
    """What the predictor learns from one earlier search: its profile and its trials."""

    profile: dict[str, Any]
    trials: list[tuple[dict[str, Any], float]]  # (params, loss), lower is better


class Predictor:
    """Fitted on past searches over ``space``; ``rank(points, profile)`` predicts ranks."""

    def __init__(self, space: dict[str, Dimension], past: list[PastSearch]) -> None:
        self.space = space
        #: per past search with two or more valid trials: (profile, features, target ranks)
        self.searches: list[tuple[dict[str, Any], np.ndarray, np.ndarray]] = []
        for search in past:
            trials = [(p, loss) for p, loss in search.trials if in_space(space, p)]
            if len(trials) < 2:
                continue
            x = np.array([self._features(p) for p, _ in trials], dtype=float)
            y = np.array(_ranks([loss for _, loss in trials]), dtype=float)
            self.searches.append((search.profile, x, y))
        self.size = sum(len(y) for _, _, y in self.searches)

    def weights(self, profile: dict[str, Any]) -> list[float]:
        """Each past search's weight for a task of ``profile``: ``exp(-(d - d_min) /
        DISTANCE_SCALE)`` of its profile distance ``d`` (1 for the nearest)."""
        distances = [profile_distance(profile, p) for p, _, _ in self.searches]
        nearest = min(distances, default=0.0)
        return [math.exp(-(d - nearest) / DISTANCE_SCALE) for d in distances]

    def rank(self, points: list[dict[str, Any]], profile: dict[str, Any]) -> list[float]:
        """Predicted rank of each point in a search on ``profile`` (0 best, 1 worst; 0.5
        for everything when there is nothing to learn from)."""
        if not self.size:
            return [0.5] * len(points)
        weights = self.weights(profile)
        out = []
        for point in points:
            row = np.array(self._features(point))
            total = 0.0
            for weight, (_, x, y) in zip(weights, self.searches, strict=True):
                gap = np.sqrt(((x - row) ** 2).sum(axis=1))
                near = np.argsort(gap, kind="stable")[: min(NEIGHBOURS, len(y))]
                inverse = 1.0 / (gap[near] + 1e-6)
                total += weight * float((inverse * y[near]).sum() / inverse.sum())
            out.append(total / sum(weights))
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


@dataclass
class ScreenCheck:
    """Does the predictor rank this task's trials as training does? The predicted rank of
    every trained first-rung trial against its observed loss (Spearman over all of them so
    far); screening goes on while it is at least ``CHECK_AGREEMENT``, and always for the
    first ``CHECK_AFTER`` results. Why: a predictor fitted on tasks that are not like this
    one ranks wrongly, and screening then keeps the good proposals from being trained
    (graph benchmark: 17-21 more trials to the cold search's final score)."""

    predicted: list[float] = field(default_factory=list)
    observed: list[float] = field(default_factory=list)
    #: result number at which the check first stopped screening (None: never)
    stopped_at: int | None = None

    def record(self, predicted: float, loss: float) -> None:
        self.predicted.append(predicted)
        self.observed.append(loss)
        if self.stopped_at is None and not self.agrees():
            self.stopped_at = len(self.observed)

    def correlation(self) -> float | None:
        return spearman(self.predicted, self.observed)

    def agrees(self) -> bool:
        """Whether the predictor may screen the next proposals."""
        if len(self.observed) < CHECK_AFTER:
            return True
        rho = self.correlation()
        return rho is None or rho >= CHECK_AGREEMENT

    def describe(self) -> dict[str, Any]:
        rho = self.correlation()
        return {
            "checked": len(self.observed),
            "rank_correlation": None if rho is None else round(rho, 4),
            "screening": self.agrees(),
            "stopped_at": self.stopped_at,
        }


def _ranks(losses: list[float]) -> list[float]:
    """Rank of each loss in [0, 1] (0 best), ties averaged."""
    return [(r - 1) / (len(losses) - 1) for r in average_ranks(losses)]
