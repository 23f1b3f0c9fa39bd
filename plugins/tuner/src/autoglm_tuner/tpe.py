"""Optuna's multivariate TPE, exactly, on the whole history up to ``WHOLE_HISTORY`` trials,
then on a bounded history, so that a long search costs a bounded amount per trial.

Why the whole history first: a bounded fit (below) is a different sampler from plain TPE,
and on the zero-cost benchmark it was significantly worse than plain TPE in 3 of 24 cells
from trial 101 on; the whole history is what the benchmark's plain TPE fits. Optuna's own
ask refits both Parzen estimators on every trial, at about 12 ms per trial at trials
1,001-2,000 on the benchmark's GNN space. This sampler's whole-history ask proposes the
same points, bit for bit, at about 4 ms there:

* the split into the best trials and the others is read from a kept ranking, and the
  parameters from a kept table, instead of Optuna's passes over every trial
  (``_whole_history_split``);
* both estimators are fitted on all numeric fields at once, a field without ties taking its
  order from the kept one rather than sorting again, and the best trials' fit kept while
  they do not change (``tpe_fit``);
* the candidates are drawn by Optuna's own code, with its per-element log Phi and erf
  replaced by bit-identical faster versions (``exact_log_ndtr``, ``exact_erf``);
* the candidates are scored as one matrix product with error bounds, which picks Optuna's
  candidate or, in a near tie, lets Optuna's scoring pick it (``tpe_scoring``).

Optuna's default constant liar is followed (the other workers' running trials are fitted as
bad ones); an ask with a pruned trial, or in a study this path does not cover (several
objectives, maximising, constraints), takes Optuna's own path.

Past ``WHOLE_HISTORY`` complete trials the estimators are fitted on ``history`` of them:

* all of the best ``gamma(n)`` trials, gamma taken of the whole history (the "below" set:
  the good region is modelled from the same trials as with the whole history);
* ``history - gamma(n)`` of the others (the "above" set), chosen so that their mixture is
  an unbiased estimate of the one plain TPE fits on all of them: the most recent third
  (25 with history 100; Optuna's ``default_weights`` gives its last 25 the largest weight,
  1) are kept whole with plain TPE's weights, and the rest are drawn from the older trials
  with probability proportional to the weight plain TPE gives each (a ramp from old to
  recent) by systematic sampling in trial order (spread over the whole history), each
  weighted by its weight over that probability (Horvitz-Thompson). The weights sum to
  plain TPE's, so the prior keeps plain TPE's share of the mixture; every kernel has the
  bandwidth plain TPE would give it (the gaps to its neighbours among all the above trials,
  not among the fitted ones), and the categorical kernels the smoothing of all of them. The
  draw comes from a generator seeded by the sampler's seed and the number of trials, so a
  resumed search asks the same points.

Why not a uniform sample of the others, fitted as if it were the whole history (the version
before): its above density was a different one from plain TPE's. It lost plain TPE's
recency weights (the last 25 trials, weighted 1, were mostly left out), gave the prior about
ten times plain TPE's share (the prior's weight is 1 beside the observations' summed
weights: about 50 for 75 observations against about 500 for 975), and widened every kernel
to the gaps between 75 points instead of about 1,000 (and the magic clip's floor from
1/100 to 1/77 of the range). A drawn above set is still noisier than the whole one; see the
benchmark's report (``bench/tuner_zero_cost.py``).

Every result is still told once and kept in the study; only what one ask is fitted on is
bounded. The rest of the per-ask work that grew with the trials (a pass over every trial to
count and sort them, a deep copy of the parameters per field) or was done one number at a
time in Python is avoided too; see the methods below. What still grows with the trials past
the bound is a few array passes per ask (the draw, and each numeric field's order of all the
trials, kept across asks: one insertion per trial told), microseconds at 2,000 trials; the
bandwidths read only the fitted kernels' neighbours.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import optuna
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
from optuna.samplers._tpe.sampler import default_gamma, default_weights
from optuna.search_space import IntersectionSearchSpace
from optuna.search_space.intersection import _calculate as _intersection

from autoglm_tuner.tpe_fit import adapted_range, fit, numeric_kernels
from autoglm_tuner.tpe_scoring import best_candidate

_COMPLETE = optuna.trial.TrialState.COMPLETE
_PRUNED = optuna.trial.TrialState.PRUNED
_FAIL = optuna.trial.TrialState.FAIL
_RUNNING = optuna.trial.TrialState.RUNNING

#: Complete trials up to which every ask fits the whole history: plain multivariate TPE's
#: points, exactly, at 3.5 ms of CPU per trial over a 2,000-trial search on the zero-cost
#: benchmark's GNN space (about 4 at trials 1,001-2,000), against Optuna's 12.
WHOLE_HISTORY = 2000

#: Past ``WHOLE_HISTORY``, the trials a bounded fit is fitted on: the best 25 (Optuna's whole
#: below set from 241 trials on) and 75 others, about 3.7 ms per trial however long the
#: search. (On its own from trial 101 on, this fit was significantly worse than plain TPE in
#: 3 of 24 cells of the benchmark: hence the whole history as long as it is affordable.)
HISTORY = 100

#: What the default fit is, for results cached by version: ``whole-2000`` fits the whole
#: history up to 2,000 trials (the sampler's fast exact path), then ``weighted``; before it,
#: ``weighted`` from 101 trials on (recent trials kept, the rest drawn with plain TPE's
#: weights and bandwidths: the module doc) and, untagged, ``uniform`` (a uniform sample
#: fitted as a whole history).
FIT = "whole-2000"


class BoundedTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` fitted on the whole history up to ``whole`` complete trials (default:
    ``history``), and past them on ``history`` trials (see the module doc).

    ``largest_fit`` and ``largest_scan`` count the trials the largest fit used and the most
    trials one ask read: what the tests check to show that the work per ask stays bounded,
    without timing anything."""

    def __init__(
        self, *, history: int = HISTORY, whole: int | None = None, seed: int = 0, **options: Any
    ) -> None:
        if history <= default_gamma(10**9):
            raise ValueError(f"history {history} leaves too few trials beside the best ones")
        if whole is not None and whole < history:
            raise ValueError(f"whole {whole} is less than history {history}")
        super().__init__(seed=seed, **options)
        self._gamma = self._gamma_of_all  # Optuna's ``gamma`` argument is deprecated
        if type(self._search_space) is IntersectionSearchSpace:
            self._search_space = _IntersectionWithoutCopy(include_pruned=True)
        self.history = history
        self.whole = history if whole is None else whole
        #: finished trials of the whole history at the current ask (what gamma is taken of)
        self._finished = 0
        self._seed = seed
        self.largest_fit = 0
        #: whether the study asking is one the kept ranking fits (``_whole_history_applies``)
        self._minimising = True
        #: asks that took the fast whole-history path (``_sample``)
        self.whole_history_asks = 0
        #: asks whose candidates were scored by the matrix product, or by Optuna (near ties)
        self.scorings = {"fast": 0, "exact": 0}
        #: the most trials one ask looked at (the tests' check that an ask's pass is bounded)
        self.largest_scan = 0
        #: complete trials seen: by number, their numbers in the order seen, and (loss,
        #: number) sorted; every trial numbered below ``_settled`` is among them or gone
        self._by_number: dict[int, Any] = {}
        self._position: dict[int, int] = {}  # a complete trial's index in ``_complete``
        self._complete: list[int] = []
        self._numbers = np.empty(0, dtype=np.int64)
        #: the whole-history path's below estimator and the rows it was fitted on
        self._below_fit: tuple[Any, Any] | None = None
        self._settled = 0
        self._ranked: list[tuple[float, int]] = []
        #: internal representation of each finished trial's parameters, by trial number and
        #: field names
        self._internal: dict[tuple[int, tuple[str, ...]], tuple[float, ...]] = {}
        #: this ask's above set past the bound: the positions (in ``_complete``) of all the
        #: complete trials outside the best, and the drawn trials' weights by number
        self._draw: tuple[np.ndarray, dict[int, float]] | None = None
        #: every complete trial's internal representation, in ``_complete`` order, for one
        #: tuple of field names: what the drawn kernels' bandwidths are measured against
        self._table = np.empty((0, 0))
        self._table_names: tuple[str, ...] = ()
        self._table_rows = 0
        #: by field, the table's rows in the order of their values, and those values
        self._order: list[np.ndarray] = []
        self._sorted: list[np.ndarray] = []

    def _sample(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        """Up to ``whole`` complete trials and none pruned: plain TPE's ask on the whole
        history without its passes over every trial (``_whole_history_split``,
        ``_sample_from``), with the same numbers, bit for bit, so the point is plain TPE's.
        Else Optuna's ask on the bounded study (``bounded``)."""
        self._minimising = self._whole_history_applies(study)
        if self._minimising:
            every = study._get_trials(deepcopy=False, states=None, use_cache=True)
            recent, _ = self._take_in(every, (_COMPLETE, _PRUNED, _RUNNING))
            self._draw = None
            others = [t for t in recent if t._number != trial._number]
            # the constant liar fits the other running trials as bad ones (Optuna's default);
            # pruned trials take Optuna's path
            lying = [t for t in others if t.state == _RUNNING] if self._constant_liar else []
            pruned = any(t.state == _PRUNED for t in others)
            if not pruned and len(self._complete) <= self.whole:
                split = self._whole_history_split(search_space, self._rows_of(lying, study))
                if split is not None:
                    self.largest_fit = max(self.largest_fit, len(self._complete))
                    self.whole_history_asks += 1
                    with _exact_vectorised_ndtr():
                        return self._sample_from(search_space, *split)
        with _vectorised_log_ndtr(self):
            return super()._sample(_BoundedStudy(study, self), trial, search_space)

    def _whole_history_applies(self, study: Any) -> bool:
        """Whether an ask may take the whole-history shortcut (``_whole_history_split``):
        one objective, minimised (what ``_ranked`` orders by), and no constraints (no
        infeasible trials to rank apart). It is taken only when no trial is pruned
        (``_sample``): the pruned ones take Optuna's path."""
        return (
            self._constraints_func is None
            and len(study.directions) == 1
            and study.directions[0] == optuna.study.StudyDirection.MINIMIZE
        )

    def _rows_of(self, trials: list[Any], study: Any) -> list[tuple[int, dict[str, Any]]]:
        """The constant liar's running trials as (number, parameters), in number order."""
        return sorted((t._number, self._get_params(t, study)) for t in trials)

    def _whole_history_split(
        self, search_space: dict[str, Any], lying: list[tuple[int, dict[str, Any]]]
    ) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray] | None] | None:
        """Plain TPE's below and above observations on every complete trial (no pruned ones),
        read from the kept ranking and table instead of Optuna's ``_split_trials``, which
        calls a few Python properties (state, constraints, value) of every trial at every
        ask (a fifth of an ask's cost at 800 trials) and converts every trial's parameters
        again. Same split: the first ``gamma(n)`` of the trials sorted by value, ties in trial
        order (``_ranked`` is sorted by (value, number), Optuna's sort is stable over trials
        in number order), each side in trial-number order, as rows laid out as Optuna's
        estimator lays them out (each field's column contiguous), and by field the above
        rows in the order of their values, read from the kept order (a hint for the fit,
        ``tpe_fit.fit``). The constant liar's running trials (``lying``: with every field
        set; Optuna leaves out the others) join the above side in number order, without
        hints. None (take Optuna's path) when a complete trial lacks a field, which Optuna
        would leave out of the fit."""
        table = self._complete_table(search_space)
        if np.isnan(table).any():
            return None
        count = len(self._complete)
        below = np.zeros(count, dtype=bool)
        best = self._ranked[: min(self._gamma(count), count)]
        below[[self._position[number] for _, number in best]] = True
        if len(self._numbers) < count:  # the complete trials' numbers, kept as an array
            self._numbers = np.append(self._numbers, self._complete[len(self._numbers) :])
        numbers = self._numbers
        by_number = np.arange(count) if (np.diff(numbers) > 0).all() else np.argsort(numbers)
        in_below = below[by_number]
        sides = (by_number[in_below], by_number[~in_below])
        below_rows, above_rows = (np.ascontiguousarray(table[side].T).T for side in sides)
        lying = [(n, p) for n, p in lying if search_space.keys() <= p.keys()]
        if lying:
            rows = [_internal_row(search_space, p) for _, p in lying]
            merged = np.concatenate([numbers[sides[1]], [n for n, _ in lying]])
            above = np.concatenate([table[sides[1]], np.array(rows, dtype=float)])
            above_rows = np.ascontiguousarray(above[np.argsort(merged)].T).T
            return below_rows, above_rows, None
        row_of = np.full(count, -1)
        row_of[sides[1]] = np.arange(len(sides[1]))
        hints = {}
        for j in range(len(search_space)):
            rows = row_of[self._order[j]]
            hints[j] = rows[rows >= 0]
        return below_rows, above_rows, hints

    def _sample_from(
        self,
        search_space: dict[str, Any],
        below: np.ndarray,
        above: np.ndarray,
        above_orders: dict[int, np.ndarray] | None,
    ) -> dict[str, Any]:
        """The rest of Optuna's ``_sample`` (single objective) on the split's rows: fit both
        estimators (all numeric fields at once, ``tpe_fit``), draw the candidates from the
        below one, return the best by the ratio of the densities (scored by
        ``tpe_scoring``: Optuna's pick)."""
        parameters = self._parzen_estimator_parameters
        key = (tuple(search_space), below.shape, below.tobytes())
        if self._below_fit is None or self._below_fit[0] != key:
            # the best trials change rarely late in a search: their fit is kept until they do
            # (a fit is a function of its rows, so the kept one is the one made afresh)
            self._below_fit = (key, fit(below, search_space, parameters))
        below_fit = self._below_fit[1]
        above_fit = fit(above, search_space, parameters, above_orders)
        drawn = below_fit.distribution.sample(self._rng.rng, self._n_ei_candidates)
        x = np.ascontiguousarray(drawn.T).T  # laid out as Optuna's ``log_pdf`` lays them out
        orders = tuple(
            {i: side.order[:, j] for j, i in enumerate(side.numeric)}
            for side in (below_fit, above_fit)
        )
        best, _, fast = best_candidate(x, below_fit.distribution, above_fit.distribution, orders)
        self.scorings["fast" if fast else "exact"] += 1
        return {
            name: space.to_external_repr(drawn[best, i].item())
            for i, (name, space) in enumerate(search_space.items())
        }

    def _compute_acquisition_func(self, samples: dict[str, Any], below: Any, above: Any) -> Any:
        """Scores of the candidates with Optuna's best one: computed as one matrix product
        (``tpe_scoring``) when that proves the pick, else Optuna's own (a near tie). The
        pick is all an ask reads of them."""
        x = below._transform(samples)
        _, scores, fast = best_candidate(
            x, below._mixture_distribution, above._mixture_distribution
        )
        self.scorings["fast" if fast else "exact"] += 1
        return scores

    def _gamma_of_all(self, fitted: int) -> int:
        """Optuna's gamma of the whole history, not of the trials fitted on: the below set
        (the good region's model) is the same best trials as plain TPE's."""
        return default_gamma(max(fitted, self._finished))

    def _sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> Any:
        """Optuna's, without its pass over every trial to count them once the startup trials
        are known to be done (the count here lags by one ask, so it is never too high)."""
        if search_space and len(self._complete) >= self._n_startup_trials:
            return self._sample(study, trial, search_space)
        return super()._sample_relative(study, trial, search_space)

    def _take_in(self, trials: list[Any], states: Any) -> tuple[list[Any], int]:
        """Ranks the trials completed since the last ask (``_ranked``, ``_complete``) and
        returns the unsettled trials in ``states`` (running, pruned: read afresh at every
        ask) and how many of them are pruned. Reads only the trials from ``_settled`` on."""
        # ``_number``: the ``number`` property costs a call per trial
        first = bisect.bisect_left(trials, self._settled, key=lambda t: t._number)
        self.largest_scan = max(self.largest_scan, len(trials) - first)
        recent, pruned, unsettled = [], 0, None
        for trial in trials[first:]:
            number = trial._number
            if number in self._by_number:
                continue
            state = trial.state
            if state == _COMPLETE:
                self._by_number[number] = trial
                self._position[number] = len(self._complete)
                self._complete.append(number)
                bisect.insort(self._ranked, (trial.value, number))
                continue
            if state != _FAIL and unsettled is None:
                unsettled = number
            if states is None or state in states:
                recent.append(trial)
                pruned += state == _PRUNED
        end = trials[-1]._number + 1 if trials else 0
        self._settled = end if unsettled is None else unsettled
        self._finished = len(self._complete) + pruned
        return recent, pruned

    def bounded(self, trials: list[Any], states: Any = None) -> list[Any]:
        """The trials in ``states`` one ask is fitted on: all of them up to ``whole``
        complete ones (or in a study that is not one minimised objective), else the best
        ``gamma(n)`` and a seeded draw of the other complete ones weighted as plain TPE
        weights them (``_draw``), plus every running trial (the constant liar's: one per busy
        worker), in trial order. ``trials``: all of the study's, in number order.

        The ranking is kept across asks (a finished trial's value never changes), and trials
        below ``_settled`` (all complete and ranked, or failed) are not looked at again, so
        an ask reads only the recent trials instead of filtering and sorting all of them."""
        recent, _ = self._take_in(trials, states)
        self._draw = None
        # the kept ranking is by value, smallest first: another kind of study (maximised,
        # several objectives, constraints) is fitted on all its trials, as Optuna does
        if len(self._complete) <= self.whole or not self._minimising:
            self.largest_fit = max(self.largest_fit, len(self._complete))
            return [t for t in trials if states is None or t.state in states]
        best = default_gamma(len(self._complete))
        top = [number for _, number in self._ranked[:best]]
        rest = np.delete(np.arange(len(self._complete)), [self._position[n] for n in top])
        start = random.Random(f"tpe-history-{self._seed}-{len(self._complete)}").random()
        # kept whole: the most recent third of the slots (25 with history 100; Optuna weighs
        # its last 25 at 1, the most): the rest drawn
        kept = np.zeros(len(rest), dtype=bool)
        kept[len(rest) - (self.history - best) // 3 :] = True
        drawn, weights = systematic_draw(
            default_weights(len(rest)), self.history - best, start, kept
        )
        others = [self._complete[i] for i in rest[drawn].tolist()]
        self._draw = (rest, dict(zip(others, weights.tolist(), strict=True)))
        chosen = [*top, *others]
        self.largest_fit = max(self.largest_fit, len(chosen))
        fitted = [self._by_number[number] for number in chosen] + recent
        return sorted(fitted, key=lambda t: t._number)

    def _build_parzen_estimator(
        self, study: Any, search_space: dict[str, Any], trials: list[Any], handle_below: bool
    ) -> Any:
        """Optuna's, except the above estimator past the bound: the drawn trials weighted and
        with the bandwidths plain TPE would give them on all the above trials (module doc).
        The trials not drawn here (running or pruned ones, all fitted) keep weight 1, plain
        TPE's for the most recent trials."""
        if handle_below or self._draw is None or study._is_multi_objective():
            return super()._build_parzen_estimator(study, search_space, trials, handle_below)
        rest, drawn = self._draw
        names = tuple(search_space)
        # the trials with every field set (what ``_get_internal_repr`` keeps a row of)
        kept = [
            t
            for t in trials
            if (t._number, names) in self._internal
            or search_space.keys() <= self._params_of(t, study).keys()
        ]
        observations = self._get_internal_repr(kept, search_space, study)
        weights = np.array([drawn.get(t._number, 1.0) for t in kept])
        table = self._complete_table(search_space)
        positions = np.array([self._position.get(t._number, -1) for t in kept])
        extra = [i for i, t in enumerate(kept) if t._number not in drawn]
        parameters = self._parzen_estimator_parameters
        if extra:  # running or pruned trials fitted too: sort them in with the others
            reference = {
                name: np.concatenate([table[rest, j], observations[name][extra]])
                for j, name in enumerate(search_space)
            }
            index = np.searchsorted(rest, positions)
            index[extra] = len(rest) + np.arange(len(extra))
            sigmas = reference_bandwidths(reference, index, search_space, parameters)
        else:  # the complete trials' order by each field, kept across asks, less the best
            outside = np.zeros(len(self._complete), dtype=bool)
            outside[rest] = True
            rank = np.empty(len(self._complete), dtype=int)
            sigmas = {}
            for j, (name, dimension) in enumerate(search_space.items()):
                if isinstance(dimension, optuna.distributions.CategoricalDistribution):
                    continue
                kept_rows = outside[self._order[j]]
                order = self._order[j][kept_rows]
                values = self._sorted[j][kept_rows]
                rank[order] = np.arange(len(order))
                values = values[: len(values) - int(np.isnan(values).sum())]  # NaN last
                sigmas[name] = _bandwidths_at(values, rank[positions], dimension, parameters)
        return _DrawnParzenEstimator(
            observations, search_space, parameters, weights, sigmas, len(rest) + len(extra)
        )

    def _params_of(self, trial: Any, study: Any) -> dict[str, Any]:
        return trial.params if trial.state.is_finished() else self._get_params(trial, study)

    def _complete_table(self, search_space: dict[str, Any]) -> np.ndarray:
        """Every complete trial's internal representation (NaN where a field is unset), one
        row per trial in ``_complete`` order, and for each field the rows in the order of
        their values (``_order``; ties in trial order, NaN last): the trials told since the
        last ask are added (sorted in by bisection), the others kept."""
        names = tuple(search_space)
        if names != self._table_names:
            self._table_names, self._table_rows = names, 0
            self._table = np.empty((0, len(names)))
            self._order = [np.empty(0, dtype=int) for _ in names]
            self._sorted = [np.empty(0) for _ in names]
        count = len(self._complete)
        if count > len(self._table):
            grown = np.empty((max(count, 2 * len(self._table), 256), len(names)))
            grown[: self._table_rows] = self._table[: self._table_rows]
            self._table = grown
        for i in range(self._table_rows, count):
            number = self._complete[i]
            row = self._internal.get((number, names))
            if row is None:
                row = _internal_row(search_space, self._by_number[number].params)
            self._table[i] = row
            for j, value in enumerate(row):
                at = np.searchsorted(self._sorted[j], value, side="right")
                values, order = self._sorted[j], self._order[j]
                self._sorted[j] = np.concatenate((values[:at], [value], values[at:]))
                self._order[j] = np.concatenate((order[:at], [i], order[at:]))
        self._table_rows = count
        return self._table[:count]

    def _get_internal_repr(
        self, trials: list[Any], search_space: dict[str, Any], study: Any
    ) -> dict[str, Any]:
        """Optuna's conversion, one row per trial cached for finished trials (the strategy
        fixes each field's distribution, and a finished trial's values never change);
        running trials (the constant liar's) are converted afresh. The per-value loop was a
        third of TPE's cost per ask. Past the bound, complete trials' rows are read from the
        table of all of them (``_complete_table``)."""
        names = tuple(search_space)
        if self._draw is not None:  # past the bound: complete trials' rows from the table
            table = self._complete_table(search_space)
            index = [self._position.get(t._number, -1) for t in trials]
            if min(index, default=0) >= 0 and all(t.state == _COMPLETE for t in trials):
                rows = table[index].reshape(len(index), len(names))
                if not np.isnan(rows).any():
                    return {name: rows[:, i] for i, name in enumerate(names)}
        rows = []
        for trial in trials:
            finished = trial.state.is_finished()
            key = (trial._number, names)
            row = self._internal.get(key) if finished else None
            if row is None:
                params = trial.params if finished else self._get_params(trial, study)
                if not search_space.keys() <= params.keys():
                    continue
                row = _internal_row(search_space, params)
                if finished:
                    self._internal[key] = row
            rows.append(row)
        table = np.array(rows, dtype=float).reshape(len(rows), len(names))
        return {name: table[:, i] for i, name in enumerate(names)}


def _internal_row(search_space: dict[str, Any], params: dict[str, Any]) -> tuple[float, ...]:
    """A trial's parameters in Optuna's internal representation, a value per field of
    ``search_space`` in its order (NaN where the trial lacks the field)."""
    return tuple(
        space.to_internal_repr(params[name]) if name in params else np.nan
        for name, space in search_space.items()
    )


def systematic_draw(
    weights: np.ndarray, count: int, start: float, kept: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct indices: those in ``kept`` (a mask, fewer than ``count``) and the
    others drawn with probability proportional to ``weights`` (capped at 1: an index whose
    share reaches 1 is always drawn), by systematic sampling in index order from ``start``
    (uniform in [0, 1)), and each drawn index's weight over its probability (Horvitz-Thompson:
    the kept ones keep theirs), so the drawn weights sum to the sum of all the weights. All
    of them when ``count`` covers them."""
    weights = np.asarray(weights, dtype=float)
    if count >= len(weights):
        return np.arange(len(weights)), weights.copy()
    certain = np.zeros(len(weights), dtype=bool) if kept is None else kept.copy()

    def chances() -> np.ndarray:
        scale = (count - certain.sum()) / weights[~certain].sum()
        return np.where(certain, 1.0, weights * scale)

    chance = chances()
    while (reached := ~certain & (chance >= 1.0)).any():
        certain |= reached
        chance = chances()
    bounds = np.cumsum(chance)
    bounds *= count / bounds[-1]
    drawn = np.searchsorted(bounds, start + np.arange(count), side="right")
    # a point on a bound's rounding error could land twice
    drawn = np.unique(np.minimum(drawn, len(weights) - 1))
    return drawn, weights[drawn] / chance[drawn]


class _DrawnParzenEstimator(_ParzenEstimator):
    """Optuna's Parzen estimator on a weighted draw of ``count`` observations: the numeric
    kernels get ``sigmas`` (by field: the bandwidths Optuna gives them in an estimator on all
    of the ``count``, ``reference_bandwidths``), the categorical ones that estimator's
    smoothing (the prior weight spread over as many kernels). Weights and prior are Optuna's
    code."""

    def __init__(
        self,
        observations: dict[str, np.ndarray],
        search_space: dict[str, Any],
        parameters: Any,
        weights: np.ndarray,
        sigmas: dict[str, np.ndarray],
        count: int,
    ) -> None:
        self._sigmas, self._count = sigmas, count
        super().__init__(observations, search_space, parameters, weights)

    def _calculate_distributions(
        self, observations: np.ndarray, param_name: str, search_space: Any, parameters: Any
    ) -> Any:
        if len(observations) == 0:
            return super()._calculate_distributions(
                observations, param_name, search_space, parameters
            )
        if isinstance(search_space, optuna.distributions.CategoricalDistribution):
            share = (len(observations) + 1) / (self._count + 1)
            parameters = parameters._replace(prior_weight=parameters.prior_weight * share)
            return super()._calculate_distributions(
                observations, param_name, search_space, parameters
            )
        # Optuna's ``_calculate_numerical_distributions`` with the given bandwidths
        low, high = adapted_range(search_space)
        mus = np.log(observations) if search_space.log else observations
        mus = np.append(mus, 0.5 * (low + high))
        sigmas = np.append(self._sigmas[param_name], high - low)
        return numeric_kernels(search_space, mus, sigmas)


def reference_bandwidths(
    reference: dict[str, np.ndarray],
    index: np.ndarray,
    search_space: dict[str, Any],
    parameters: Any,
) -> dict[str, np.ndarray]:
    """By numeric field, the bandwidths Optuna gives the kernels at rows ``index`` of
    ``reference`` (by field, every observation; NaN: unset, left out as Optuna leaves out
    such trials) in an estimator on all of it."""
    sigmas = {}
    for name, dimension in search_space.items():
        if isinstance(dimension, optuna.distributions.CategoricalDistribution):
            continue
        order = np.argsort(reference[name], kind="stable")  # NaN last
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(len(order))
        values = reference[name][order]
        values = values[: len(values) - int(np.isnan(values).sum())]
        sigmas[name] = _bandwidths_at(values, rank[index], dimension, parameters)
    return sigmas


def _bandwidths_at(values: np.ndarray, at: np.ndarray, space: Any, parameters: Any) -> np.ndarray:
    """Optuna's bandwidths (``_ParzenEstimator._calculate_numerical_distributions``) of the
    kernels at ``values[at]`` in an estimator on all of ``values`` (sorted; ties in trial
    order, Optuna's in its sort's: tied kernels may swap bandwidths): the larger gap to a
    neighbour, the range's ends as outer neighbours (the two extreme kernels look inward
    only unless ``consider_endpoints``), clipped to the magic clip's minimum for that many
    kernels and to the range. Reads only the neighbours of ``at``."""

    def scale(x: Any) -> Any:
        return np.log(x) if space.log else x

    (low, high), last = adapted_range(space), len(values) - 1
    here = scale(values[at])
    left = np.where(at > 0, scale(values[np.maximum(at - 1, 0)]), low)
    right = np.where(at < last, scale(values[np.minimum(at + 1, last)]), high)
    sigmas = np.maximum(here - left, right - here)
    if not parameters.consider_endpoints and last >= 1:
        inner = scale(values[[0, 1, last - 1, last]])
        sigmas = np.where(at == 0, inner[1] - inner[0], sigmas)
        sigmas = np.where(at == last, inner[3] - inner[2], sigmas)
    if parameters.consider_magic_clip:
        smallest = (high - low) / min(100.0, 1.0 + len(values) + 1)
    else:
        smallest = 1e-12
    return np.clip(sigmas, smallest, high - low)


#: Optuna's own, restored after each ask (not whatever another thread's ask left in place)
_OPTUNA_LOG_NDTR = _truncnorm._log_ndtr
_OPTUNA_ERF = _truncnorm.erf
_OPTUNA_LOGPDF = _truncnorm.logpdf


@contextlib.contextmanager
def _vectorised_log_ndtr(sampler: BoundedTPESampler) -> Iterator[None]:
    """Optuna's truncated-normal code computes log Phi(x) one element at a time in Python
    (``_truncnorm._log_ndtr``), about a thousand calls per ask; SciPy's ``log_ndtr`` is the
    same function (relative difference under 1e-7, Optuna's being the approximation)
    vectorised. Likewise erf (``_truncnorm.erf``: Python's ``math.erf`` per element below
    2,000 elements), but only in the asks past the bound (``sampler._draw`` set), so that the
    points up to ``history`` trials stay exactly those asked before. Swapped in for this
    sampler's asks only, and restored after."""
    from scipy.special import erf, log_ndtr

    def either_erf(x: Any) -> Any:
        return erf(x) if sampler._draw is not None else _OPTUNA_ERF(x)

    _truncnorm._log_ndtr = log_ndtr
    _truncnorm.erf = either_erf
    try:
        yield
    finally:
        _truncnorm._log_ndtr = _OPTUNA_LOG_NDTR
        _truncnorm.erf = _OPTUNA_ERF


_ERF_ONE = np.frompyfunc(math.erf, 1, 1)
_ERFC_ONE = np.frompyfunc(math.erfc, 1, 1)
_LOG_ONE = np.frompyfunc(math.log, 1, 1)


def exact_log_ndtr(a: np.ndarray) -> np.ndarray:
    """Optuna's ``_truncnorm._log_ndtr`` bit for bit, a few times faster: the same branches
    of ``_log_ndtr_single`` taken on whole arrays, and the same ``math`` functions (libm's:
    NumPy's own log and SciPy's erf may differ from them in the last bit) applied by
    ``np.frompyfunc`` instead of a Python function call per element. The far left tail
    (a <= -20, and NaN) is left to Optuna's, and so are arrays of fewer than 64 elements
    (most calls: a normalisation per discrete bin), where the masks here cost more than
    Optuna's cached per-element calls."""
    a = np.asarray(a, dtype=float)
    if a.size < 64:
        return _OPTUNA_LOG_NDTR(a)
    out = np.empty(a.shape)
    upper = a > 6  # -ndtr(-a), whose x = -a / sqrt 2 takes the erfc branch
    out[upper] = -(0.5 * _ERFC_ONE(a[upper] / 2**0.5).astype(float))
    middle = ~upper & (a > -20)
    x = a[middle] / 2**0.5
    y = np.empty(x.shape)
    left = x < -1 / 2**0.5
    centre = ~left & (x < 1 / 2**0.5)
    right = ~left & ~centre
    y[left] = 0.5 * _ERFC_ONE(-x[left]).astype(float)
    y[centre] = 0.5 + 0.5 * _ERF_ONE(x[centre]).astype(float)
    y[right] = 1.0 - 0.5 * _ERFC_ONE(x[right]).astype(float)
    out[middle] = _LOG_ONE(y).astype(float)
    tail = ~upper & ~middle
    if tail.any():
        out[tail] = _OPTUNA_LOG_NDTR(a[tail])
    return out


def exact_erf(x: np.ndarray) -> np.ndarray:
    """Optuna's ``_erf.erf`` bit for bit: ``math.erf`` per element below 2,000 elements
    (applied by ``np.frompyfunc``, not a list comprehension), its own NumPy code above."""
    x = np.asarray(x)
    if x.size < 2000:
        return _ERF_ONE(x.astype(float)).astype(float)
    return _OPTUNA_ERF(x)


def lean_logpdf(x: Any, a: Any, b: Any, loc: Any = 0, scale: Any = 1) -> np.ndarray:
    """Optuna's ``_truncnorm.logpdf`` bit for bit (the same operations in the same order)
    with half the passes over the candidates-by-kernels array: computed in place, and the
    ``np.select`` for points outside a kernel's range (never, for TPE's candidates) or
    zero-width kernels replaced by masked writes where there are any. Used where Optuna's
    own scoring picks the candidate (a near tie, ``tpe_scoring``)."""
    z = np.subtract(x, loc)
    z /= scale
    z, a, b = np.atleast_1d(z, a, b)
    outside = (z < a) | (z > b)
    out = np.square(z, out=z)  # Optuna's ``-(x**2) / 2.0 - C``
    np.negative(out, out=out)
    out /= 2.0
    out -= _truncnorm._norm_pdf_logC
    out -= _truncnorm._log_gauss_mass(a, b)
    out -= np.log(scale)
    if outside.any():
        out[outside] = -np.inf
    zero_width = a == b
    if zero_width.any():
        out[np.broadcast_to(zero_width, out.shape)] = np.nan
    return out


@contextlib.contextmanager
def _exact_vectorised_ndtr() -> Iterator[None]:
    """Optuna's log Phi, erf and truncated-normal log density replaced by
    ``exact_log_ndtr``, ``exact_erf`` and ``lean_logpdf`` (the same numbers, faster) for a
    whole-history ask: per element in Python, or pass after pass over the scoring array,
    they were the largest cost of such an ask (the candidates' inverse CDF, and the scoring
    where Optuna's code still does it), and these asks must propose exactly plain TPE's
    points. Restored after."""
    _truncnorm._log_ndtr, _truncnorm.erf = exact_log_ndtr, exact_erf
    _truncnorm.logpdf = lean_logpdf
    try:
        yield
    finally:
        _truncnorm._log_ndtr, _truncnorm.erf = _OPTUNA_LOG_NDTR, _OPTUNA_ERF
        _truncnorm.logpdf = _OPTUNA_LOGPDF


class _IntersectionWithoutCopy(IntersectionSearchSpace):
    """Optuna's intersection search space without the deep copy of every distribution at
    each ask (a tenth of a millisecond): the sampler only reads what it returns."""

    def calculate(self, study: Any, use_cache: bool = False) -> dict[str, Any]:
        self._search_space, self._cached_trial_number = _intersection(
            study._get_trials(deepcopy=False, use_cache=use_cache),
            self._include_pruned,
            self._search_space,
            self._cached_trial_number,
        )
        return dict(sorted((self._search_space or {}).items()))


class _BoundedStudy:
    """The study as the sampler's fit sees it: finished trials bounded by the sampler, the rest
    (directions, storage) the study's own."""

    def __init__(self, study: Any, sampler: BoundedTPESampler) -> None:
        self._study = study
        self._sampler = sampler

    def _get_trials(self, deepcopy: bool = False, states: Any = None, use_cache: bool = False):
        # every trial, unfiltered: an in-memory study hands over a shallow copy of its list
        # instead of filtering all trials by state at every ask; the sampler filters the few
        # it reads (its fit never changes a trial, so no deep copy either)
        every = self._study._get_trials(deepcopy=False, states=None, use_cache=True)
        return self._sampler.bounded(every, states)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)
