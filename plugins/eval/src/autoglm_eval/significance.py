"""Is variant B really better than variant A on the same examples?

Both tests are *paired*: they look at the same examples scored by both variants, which removes
the variance of the examples themselves and detects much smaller differences than comparing two
independent accuracies would.

* ``paired_bootstrap`` resamples examples with replacement and reports the difference of the
  metric with a percentile confidence interval (Koehn 2004; Dror et al. 2018).
* ``mcnemar`` only looks at the examples on which the two variants disagree: the exact binomial
  test when they are few (< 25), the continuity-corrected chi-square otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: Below this many discordant pairs McNemar's chi-square approximation is poor; use exact.
EXACT_BELOW = 25


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[Any, Any]:
    import numpy as np

    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    if xa.ndim != 1 or xa.shape != xb.shape:
        raise ValueError(
            f"paired scores: expected two lists of equal length, found {xa.shape} and {xb.shape}"
        )
    if xa.size == 0:
        raise ValueError("paired scores: expected at least one example, found none")
    return xa, xb


def paired_bootstrap(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
    statistic: Callable[[Any], Any] | None = None,
) -> dict[str, float]:
    """Difference ``mean(b) - mean(a)`` of per-example scores (1/0 correctness for accuracy)
    with a percentile bootstrap interval.

    ``p_value`` is the one-sided bootstrap p-value of "b is not better than a": the share of
    resamples in which the difference is <= 0 (with the usual +1 smoothing so it is never 0).
    ``statistic`` maps an (n_resamples, n) array of resampled scores to a per-resample value;
    the default is the mean.
    """
    import numpy as np

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a value in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples: expected at least 1, got {n_resamples}")
    xa, xb = _paired(scores_a, scores_b)
    stat = statistic or (lambda m: m.mean(axis=-1))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, xa.size, size=(n_resamples, xa.size))
    deltas = stat(xb[idx]) - stat(xa[idx])
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(deltas, [tail, 1.0 - tail])
    return {
        "delta": float(stat(xb[None, :])[0] - stat(xa[None, :])[0]),
        "ci_low": float(low),
        "ci_high": float(high),
        "confidence": confidence,
        "p_value": float((np.sum(deltas <= 0) + 1) / (n_resamples + 1)),
        "n": int(xa.size),
    }


def mcnemar(correct_a: Sequence[int], correct_b: Sequence[int]) -> dict[str, Any]:
    """McNemar's test on paired correctness: ``b01`` = examples only B gets right, ``b10`` =
    only A gets right. Two-sided p-value of "both variants err equally often"."""
    from scipy.stats import binomtest, chi2

    xa, xb = _paired(correct_a, correct_b)
    if not set(xa.tolist()) | set(xb.tolist()) <= {0.0, 1.0}:
        raise ValueError("mcnemar: expected correctness values 0 or 1")
    only_b = int(((xa == 0) & (xb == 1)).sum())
    only_a = int(((xa == 1) & (xb == 0)).sum())
    discordant = only_a + only_b
    if discordant == 0:
        return {"only_a": 0, "only_b": 0, "statistic": 0.0, "p_value": 1.0, "method": "exact"}
    if discordant < EXACT_BELOW:
        p = binomtest(only_b, discordant, 0.5, alternative="two-sided").pvalue
        return {
            "only_a": only_a,
            "only_b": only_b,
            "statistic": float(min(only_a, only_b)),
            "p_value": float(p),
            "method": "exact",
        }
    statistic = (abs(only_a - only_b) - 1.0) ** 2 / discordant
    return {
        "only_a": only_a,
        "only_b": only_b,
        "statistic": float(statistic),
        "p_value": float(chi2.sf(statistic, df=1)),
        "method": "chi2-corrected",
    }
