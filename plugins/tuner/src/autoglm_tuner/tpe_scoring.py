"""TPE's candidate scoring as one matrix product, with Optuna's pick kept exactly.

Why: an ask of multivariate TPE scores its 24 candidates by log l(x) - log g(x), two mixtures
with a kernel per trial. Optuna computes every field's term for every candidate and kernel
in its own passes over a candidates-by-kernels array; on the whole history that is most of an
ask's cost (5.5 of 9.3 ms at trials 1,001-2,000 on the zero-cost benchmark's GNN space) and
it grows with the trials. Every term is a sum of products of a candidate's feature and a
kernel's coefficient:

* a continuous field's truncated-normal log density, -(u - m)^2 / (2 s^2) - log s - C -
  log mass, expands to u^2 * (-1 / 2 s^2) + u * (m / s^2) + a constant per kernel (u and m
  centred on the range's middle, so the expansion loses few bits);
* a discrete field's log mass of the candidate's bin, and an unordered field's log weight,
  are a table with a row per candidate value: a one-hot feature of the candidate's value
  picks its row;

so the log density of every candidate under every kernel is one BLAS product of a
candidates-by-features matrix and a features-by-kernels one, then a log-sum-exp over the
kernels as Optuna's.

The numbers differ from Optuna's in the last bits (another order of operations), so the pick
is checked rather than assumed: each score comes with a bound on its distance from Optuna's
(from the magnitudes of the summed terms), and the best candidate is accepted only when it
beats every other distinct candidate by more than both bounds. In a near tie, Optuna's own
scoring decides. Either way the search proposes exactly Optuna's point.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.probability_distributions import (
    _BatchedCategoricalDistributions,
    _MixtureOfProductDistribution,
    _unique_inverse_2d,
)
from scipy.special import log_ndtr, ndtr

_EPS = float(np.finfo(float).eps)


@dataclass
class Scored:
    """Log densities of the candidates and, for each, a bound on its distance from the value
    Optuna's ``log_pdf`` computes (None: not bounded, e.g. a zero weight's -inf)."""

    log_pdf: np.ndarray
    error: np.ndarray | None


def mixture_log_pdf(
    mixture: _MixtureOfProductDistribution,
    x: np.ndarray,
    orders: dict[int, np.ndarray] | None = None,
) -> Scored:
    """The log density of each row of ``x`` (candidates in Optuna's internal representation,
    one column per field in the mixture's order) under ``mixture``, as one matrix product
    (module doc). ``orders``: by field, the observations' order by mean, if known (the
    fit's), so that a discrete field's distinct kernels are found without sorting."""
    masses = _Masses()
    fields: list[Any] = [_Weights(mixture.weights)]
    continuous = []
    for i, dist in enumerate(mixture.distributions):
        if isinstance(dist, _BatchedCategoricalDistributions):
            fields.append(_CategoricalField(dist, x[:, i]))
        elif dist.step == 0.0:
            continuous.append((i, dist))
        else:
            order = None if orders is None else orders.get(i)
            fields.append(_DiscreteField(dist, x[:, i], order, masses))
    if continuous:
        fields.append(_ContinuousFields(continuous, x, masses))
    masses.compute()  # every field's log masses in one vectorised call
    width = sum(field.width for field in fields)
    features = np.zeros((len(x), width))
    coefficients = _BUFFERS.get("coefficients", (width, len(mixture.weights)))
    column = 0
    for field in fields:
        end = column + field.width
        field.fill(features[:, column:end], coefficients[column:end])
        column = end
    terms = np.matmul(
        features, coefficients, out=_BUFFERS.get("terms", (len(x), coefficients.shape[1]))
    )
    largest = np.maximum(np.abs(terms.max(axis=1)), np.abs(terms.min(axis=1)))
    log_pdf = _log_sum_exp(terms)
    if not np.isfinite(coefficients.sum()):  # an infinite or NaN coefficient (or a huge sum)
        return Scored(log_pdf, None)
    # Each candidate-kernel term is a sum of products; the product's rounding, and Optuna's
    # separate passes, err by a few ulps of the summands' magnitudes (bounded here by each
    # feature times its coefficients' largest magnitude); the special functions by a few
    # ulps of their values; and the log-sum-exp moves by at most its terms' largest error,
    # plus what it leaves out (``_log_sum_exp``).
    np.abs(coefficients, out=coefficients)
    magnitude = np.abs(features) @ coefficients.max(axis=1)
    kernels = terms.shape[1]
    error = 8 * (width + 4) * _EPS * magnitude
    error += 8 * (kernels + 4) * _EPS * (1.0 + np.abs(log_pdf) + largest)
    error += kernels * math.exp(_NEGLIGIBLE)
    return Scored(log_pdf, error + _SPECIAL_FUNCTIONS_ERROR)


def _one_blas_thread() -> Any:
    """The products on one BLAS thread: OpenBLAS would spread these small ones over every
    core and spin its threads, which cost more CPU than it saved (2.3 ms of CPU per ask
    against 1.4 on one thread, at 1,500 trials), beside the search's own workers. A
    controller made once (it lists the loaded libraries), its limit set per call."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER: Any = None


class _Buffers(threading.local):
    """Arrays kept from one ask to the next (one set per thread), for the few large ones:
    allocating them afresh took half the scoring's time (the heap grew and was trimmed
    back around each, and every page was faulted in again)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        size = math.prod(shape)
        kept = self.arrays.get(name)
        if kept is None or kept.size < size:
            kept = self.arrays[name] = np.empty(max(size, 2 * (0 if kept is None else kept.size)))
        return kept[:size].reshape(shape)


_BUFFERS = _Buffers()


def best_candidate(
    x: np.ndarray,
    below: _MixtureOfProductDistribution,
    above: _MixtureOfProductDistribution,
    orders: tuple[dict[int, np.ndarray], dict[int, np.ndarray]] | None = None,
) -> tuple[int, np.ndarray, bool]:
    """The candidate (row of ``x``) Optuna's TPE picks, its scores, and whether the matrix
    product decided (else Optuna's ``log_pdf`` did: a near tie or an unbounded score). The
    scores' only use is this pick: their argmax is it either way."""
    with _one_blas_thread():
        low = mixture_log_pdf(below, x, None if orders is None else orders[0])
        high = mixture_log_pdf(above, x, None if orders is None else orders[1])
    if low.error is not None and high.error is not None:
        scores = low.log_pdf - high.log_pdf
        best = verified_best(scores, low.error + high.error, x)
        if best is not None:
            return best, scores, True
    scores = below.log_pdf(x) - above.log_pdf(x)
    return int(np.argmax(scores)), scores, False


def verified_best(scores: np.ndarray, error: np.ndarray, x: np.ndarray) -> int | None:
    """The index Optuna's ``argmax`` of the exact scores picks (the first of the best), if the
    approximate ``scores`` prove it: the best one beats every candidate at another point by
    more than the sum of both bounds. Candidates at the same point score the same (and are
    the same proposal). None: too close to tell."""
    if not (np.isfinite(scores).all() and np.isfinite(error).all()):
        return None
    best = int(np.argmax(scores))
    other_point = (x != x[best]).any(axis=1)
    margin = scores[best] - scores - error[best] - error
    return best if (margin[other_point] > 0).all() else None


def log_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)), elementwise: Optuna's ``_truncnorm._log_gauss_mass`` (the same
    cases: both ends left of 0, both right, or around it) on SciPy's vectorised log Phi and
    Phi instead of Python's per element; about 20 times faster, within 1e-15 of its values
    relative to their size (``_SPECIAL_FUNCTIONS_ERROR`` bounds the difference). An
    interval reaching past 8.5 on both sides holds all but 2e-17 of the mass: its log is 0
    to within that, and is not computed."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    out = np.zeros(a.shape)
    left, right = b <= 0, a > 0
    central = ~(left | right) & ((a > -_WHOLE) | (b < _WHOLE))
    for mask, low, high in ((left, a[left], b[left]), (right, -b[right], -a[right])):
        log_low, log_high = log_ndtr(low), log_ndtr(high)
        out[mask] = log_high + np.log1p(-np.exp(log_low - log_high))
    out[central] = np.log1p(-ndtr(a[central]) - ndtr(-b[central]))
    return out


#: where a standard normal's tail is below 1e-17 (Phi(-8.5) = 9.5e-18)
_WHOLE = 8.5

#: the largest distance allowed between ``log_mass`` and Optuna's, for one term, times the
#: terms of a candidate-kernel density: far above the measured 2e-13 on values up to 450
_SPECIAL_FUNCTIONS_ERROR = 1e-9

#: kernels more than this below a candidate's largest term (log) are left out of its sum:
#: each is under e^-36 (2e-16) of it
_NEGLIGIBLE = -36.0


class _Masses:
    """Log masses asked for by all the fields of one mixture, computed in one ``log_mass``
    call (a call per field and kind cost more than the arithmetic below a few thousand
    kernels): ``add`` returns a slot, read after ``compute``."""

    def __init__(self) -> None:
        self._asked: list[tuple[np.ndarray, np.ndarray]] = []
        self._values: list[np.ndarray] = []

    def add(self, a: np.ndarray, b: np.ndarray) -> int:
        self._asked.append(np.broadcast_arrays(a, b))
        return len(self._asked) - 1

    def compute(self) -> None:
        if not self._asked:
            return
        lows = np.concatenate([a.ravel() for a, _ in self._asked])
        highs = np.concatenate([b.ravel() for _, b in self._asked])
        flat = log_mass(lows, highs)
        ends = np.cumsum([a.size for a, _ in self._asked])[:-1]
        parts = np.split(flat, ends)
        self._values = [
            part.reshape(a.shape) for part, (a, _) in zip(parts, self._asked, strict=True)
        ]

    def __getitem__(self, slot: int) -> np.ndarray:
        return self._values[slot]


class _Weights:
    """The kernels' log weights: a feature of 1 for every candidate."""

    width = 1

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def fill(self, features: np.ndarray, coefficients: np.ndarray) -> None:
        features[:] = 1.0
        np.log(self.weights, out=coefficients[0])


class _CategoricalField:
    """An unordered field: the kernel's log weight of the candidate's choice, a one-hot of
    the choice times the kernels' log weights by choice."""

    def __init__(self, dist: Any, values: np.ndarray) -> None:
        self.weights, self.codes = dist.weights, values.astype(np.int64)
        self.width = dist.weights.shape[1]

    def fill(self, features: np.ndarray, coefficients: np.ndarray) -> None:
        features[np.arange(len(self.codes)), self.codes] = 1.0
        np.log(self.weights.T, out=coefficients)


class _DiscreteField:
    """A discrete field's log mass of each candidate's bin under each kernel, normalised to
    the range, computed on the distinct values and the distinct kernels: a one-hot of the
    candidate's value (and a 1 for the normaliser) times a table with a row per distinct
    value (and the kernels' normalisers)."""

    def __init__(
        self, dist: Any, values: np.ndarray, order: np.ndarray | None, masses: _Masses
    ) -> None:
        distinct, self.row_of = np.unique(values, return_inverse=True)
        if order is None:
            mus, sigmas, self.kernel_of = _unique_inverse_2d(dist.mu, dist.sigma)
        else:
            mus, sigmas, self.kernel_of = _kernel_runs(dist.mu, dist.sigma, order)
        half = dist.step / 2
        left, right = distinct - half, distinct + half
        if dist.is_log:
            left, right = np.log(left), np.log(right)
        self.masses = masses
        self.bins = masses.add(
            (left[:, np.newaxis] - mus) / sigmas, (right[:, np.newaxis] - mus) / sigmas
        )
        self.ranges = masses.add(
            (dist.adapted_low - mus) / sigmas, (dist.adapted_high - mus) / sigmas
        )
        self.width = len(distinct) + 1

    def fill(self, features: np.ndarray, coefficients: np.ndarray) -> None:
        features[np.arange(len(self.row_of)), self.row_of] = 1.0
        features[:, -1] = 1.0
        np.take(self.masses[self.bins], self.kernel_of, axis=1, out=coefficients[:-1])
        np.negative(self.masses[self.ranges][self.kernel_of], out=coefficients[-1])


def _kernel_runs(
    mus: np.ndarray, sigmas: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernels grouped by (mean, bandwidth) without a sort: a discrete field's kernels in
    the order of their means (``order``, the fit's; the prior kernel, last, apart) fall in
    runs of equal pairs. A pair in two runs is two groups (the same numbers twice)."""
    sorted_mus, sorted_sigmas = mus[order], sigmas[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (sorted_mus[1:] != sorted_mus[:-1]) | (sorted_sigmas[1:] != sorted_sigmas[:-1])
    groups = np.cumsum(starts) - 1
    kernel_of = np.empty(len(mus), dtype=np.int64)
    kernel_of[order] = groups
    kernel_of[-1] = groups[-1] + 1 if len(order) else 0
    return (
        np.append(sorted_mus[starts], mus[-1]),
        np.append(sorted_sigmas[starts], sigmas[-1]),
        kernel_of,
    )


class _ContinuousFields:
    """The continuous fields' truncated-normal log densities expanded in the candidate's
    value (module doc): features u^2 and u per field, and 1s for the constants: the means'
    square terms and the normalisers (each summed over the fields), the log bandwidths (a
    row per field: their signs differ) and the normal's constant."""

    def __init__(self, continuous: list[tuple[int, Any]], x: np.ndarray, masses: _Masses) -> None:
        dists = [dist for _, dist in continuous]
        self.mus = np.asarray([d.mu for d in dists])
        self.sigmas = np.asarray([d.sigma for d in dists])
        lows = np.asarray([d.adapted_low for d in dists])[:, np.newaxis]
        highs = np.asarray([d.adapted_high for d in dists])[:, np.newaxis]
        self.masses = masses
        self.ranges = masses.add((lows - self.mus) / self.sigmas, (highs - self.mus) / self.sigmas)
        self.centres = 0.5 * (lows + highs)
        self.values = np.vstack([np.log(x[:, i]) if d.is_log else x[:, i] for i, d in continuous])
        self.width = 3 * len(dists) + 3

    def fill(self, features: np.ndarray, coefficients: np.ndarray) -> None:
        fields = len(self.mus)
        u = (self.values - self.centres).T
        features[:, :fields] = u * u
        features[:, fields : 2 * fields] = u
        features[:, 2 * fields :] = 1.0
        m = self.mus - self.centres
        precision = 1.0 / (self.sigmas * self.sigmas)
        np.multiply(precision, -0.5, out=coefficients[:fields])
        np.multiply(m, precision, out=coefficients[fields : 2 * fields])
        # two kinds of constants summed over the fields: each kind has one sign, so the
        # sum's magnitude is the terms' (what the error bound reads)
        rest = coefficients[2 * fields :]
        np.sum(-0.5 * m * m * precision, axis=0, out=rest[0])
        np.sum(-self.masses[self.ranges], axis=0, out=rest[1])
        np.negative(np.log(self.sigmas), out=rest[2:-1])
        rest[-1] = -_truncnorm._norm_pdf_logC * fields


def _log_sum_exp(terms: np.ndarray) -> np.ndarray:
    """Optuna's: the log of the summed exponentials over the kernels, shifted by the largest,
    leaving out the terms below ``_NEGLIGIBLE`` of it (most of them, far kernels). Works in
    ``terms``'s memory (the caller's buffer)."""
    top = terms.max(axis=1)
    top[np.isneginf(top)] = 0
    terms -= top[:, np.newaxis]
    kept = terms > _NEGLIGIBLE
    exps = _BUFFERS.get("exps", terms.shape)
    exps.fill(0.0)
    np.exp(terms, out=exps, where=kept)
    with np.errstate(divide="ignore"):
        return np.log(exps.sum(axis=1)) + top
