"""Optuna's Parzen estimator (single objective) fitted on all numeric fields at once.

Why: on the whole history, building TPE's two estimators was a fifth of an ask's cost at
trials 1,001-2,000: Optuna's ``_ParzenEstimator`` takes one field at a time, and each
numeric field sorts its kernels (``np.argsort``) and sorts the permutation again to invert
it. Here the numeric fields are sorted in one ``np.argsort(axis=0)`` (NumPy sorts each
column with the same algorithm as a one-dimensional ``argsort``, so ties fall in the same
order and every kernel gets the same bandwidth), and the permutation is inverted by a
scatter. The numbers are Optuna's bit for bit (the tests compare every array), so the
candidates drawn from it are too. A field without ties (continuous ones) has one sorting
order only: where the caller knows it (kept from ask to ask), it is checked, not sorted
again.

The sort order is kept (``Mixture.order``): the scoring groups each discrete field's
kernels by (mean, bandwidth) along it without sorting again (``tpe_scoring``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
from optuna.samplers._tpe.probability_distributions import (
    _BatchedCategoricalDistributions,
    _BatchedDiscreteTruncLogNormDistributions,
    _BatchedDiscreteTruncNormDistributions,
    _BatchedTruncLogNormDistributions,
    _BatchedTruncNormDistributions,
    _MixtureOfProductDistribution,
)


@dataclass
class Mixture:
    """A fitted estimator: Optuna's mixture (what candidates are drawn from, and scored by
    when the fast scores cannot tell), and for the numeric fields (``numeric``: their
    positions among the fields) the kernels' order by mean (``order``: column j sorts the
    observations, not the prior kernel, by field ``numeric[j]``)."""

    distribution: _MixtureOfProductDistribution
    numeric: list[int]
    order: np.ndarray


def fit(
    observations: np.ndarray,
    search_space: dict[str, Any],
    parameters: Any,
    orders: dict[int, np.ndarray] | None = None,
) -> Mixture:
    """Optuna's ``_ParzenEstimator(observations, search_space, parameters)`` (no
    predetermined weights) for ``observations`` in its internal representation, one row
    per trial and one column per field of ``search_space``. ``orders``: by field, rows
    that may sort its column (kept by the caller from ask to ask), used where they sort it
    strictly (no ties: the only order, so ``np.argsort``'s), instead of sorting again."""
    count = len(observations)
    if count == 0:
        weights = np.array([1.0])
    else:
        weights = _ParzenEstimator._call_weights_func(parameters.weights, count)
        weights = np.append(weights, [parameters.prior_weight])
    weights /= weights.sum()
    fields = list(search_space.values())
    numeric = [
        i
        for i, space in enumerate(fields)
        if not isinstance(space, optuna.distributions.CategoricalDistribution)
    ]
    ranges = [adapted_range(fields[i]) for i in numeric]
    lows = np.array([low for low, _ in ranges])
    highs = np.array([high for _, high in ranges])
    # a column per numeric field, each contiguous as in Optuna's estimator: the kernels'
    # means (in logs for log fields) and bandwidths, the prior kernel's last
    mus = np.empty((count + 1, len(numeric)), order="F")
    for j, i in enumerate(numeric):
        mus[:count, j] = np.log(observations[:, i]) if fields[i].log else observations[:, i]
    mus[count] = 0.5 * (lows + highs)
    order = np.empty((count, len(numeric)), dtype=np.intp)
    for j, i in enumerate(numeric):
        hint = None if orders is None else orders.get(i)
        column = mus[:count, j]
        if hint is not None and len(hint) == count and _sorts_strictly(column, hint):
            order[:, j] = hint
        else:  # ties (discrete fields): they fall as NumPy's sort puts them, as in Optuna's
            order[:, j] = np.argsort(column)
    sigmas = np.empty_like(mus)
    if count:
        _bandwidths(mus[:count], order, lows, highs, parameters, out=sigmas[:count])
    sigmas[count] = highs - lows
    distributions: list[Any] = [None] * len(fields)
    for j, i in enumerate(numeric):
        distributions[i] = numeric_kernels(fields[i], mus[:, j], sigmas[:, j])
    for i, space in enumerate(fields):
        if i not in numeric:
            distributions[i] = _categorical(observations[:, i], space, parameters)
    return Mixture(_MixtureOfProductDistribution(weights, distributions), numeric, order)


def _sorts_strictly(column: np.ndarray, order: np.ndarray) -> bool:
    ordered = column[order]
    return bool((ordered[1:] > ordered[:-1]).all())


def adapted_range(space: Any) -> tuple[Any, Any]:
    """The range the kernels live on: widened by half a step for discrete fields, in logs for
    log fields (Optuna's arithmetic, so the same numbers)."""
    low, high = space.low, space.high
    if space.step is not None:
        low -= space.step / 2
        high += space.step / 2
    if space.log:
        low, high = np.log(low), np.log(high)
    return low, high


def _bandwidths(
    means: np.ndarray,
    order: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    parameters: Any,
    out: np.ndarray,
) -> None:
    """Each kernel's bandwidth, into ``out``: the larger gap to its neighbours in the field's
    sorted means (the range's ends outside), the two outer kernels looking inward unless
    ``consider_endpoints``, clipped to the magic clip's minimum and to the range."""
    count = len(means)
    padded = np.empty((count + 2, means.shape[1]))
    padded[0], padded[-1] = lows, highs
    padded[1:-1] = np.take_along_axis(means, order, axis=0)
    steps = np.diff(padded, axis=0)
    gaps = np.maximum(steps[:-1], steps[1:])
    if not parameters.consider_endpoints and count + 2 >= 4:
        gaps[0], gaps[-1] = steps[1], steps[-2]
    span = highs - lows
    if parameters.consider_magic_clip:
        smallest = span / min(100.0, 1.0 + (count + 1))
    else:
        smallest = np.full_like(span, 1e-12)
    np.maximum(gaps, smallest, out=gaps)  # np.clip's order: the floor, then the ceiling
    np.minimum(gaps, span, out=gaps)
    np.put_along_axis(out, order, gaps, axis=0)


def numeric_kernels(space: Any, mus: np.ndarray, sigmas: np.ndarray) -> Any:
    """Optuna's batched truncated normals of a numeric field (discrete or not, log or not),
    given on its own range (they widen and log it themselves)."""
    if space.step is None:
        kind = _BatchedTruncLogNormDistributions if space.log else _BatchedTruncNormDistributions
        return kind(mus, sigmas, space.low, space.high)
    if space.log:
        return _BatchedDiscreteTruncLogNormDistributions(
            mus, sigmas, space.low, space.high, space.step
        )
    return _BatchedDiscreteTruncNormDistributions(mus, sigmas, space.low, space.high, space.step)


def _categorical(observations: np.ndarray, space: Any, parameters: Any) -> Any:
    """Optuna's categorical kernels: each observation's choice plus the prior spread evenly,
    each row normalised."""
    choices = len(space.choices)
    if len(observations) == 0:
        return _BatchedCategoricalDistributions(np.full((1, choices), fill_value=1.0 / choices))
    kernels = len(observations) + 1
    weights = np.full((kernels, choices), fill_value=parameters.prior_weight / kernels)
    weights[np.arange(len(observations)), observations.astype(int)] += 1
    sums = weights.sum(axis=1, keepdims=True)
    weights /= np.where(sums == 0, 1, sums)
    return _BatchedCategoricalDistributions(weights)
