"""Optuna's multivariate TPE with a bounded history, so that a long search costs about the same
per trial at 2,000 trials as at 100.

Why: TPE refits both Parzen estimators on every finished trial at every ask, so its cost per
trial grows with the trials told (about 20 ms at 1,000 trials on the GNN-shaped space, most
of it converting each trial's parameters and scoring candidates against every observation).
Past ``history`` trials the estimators are fitted on a bounded set instead:

* all of the best ``gamma(n)`` trials, gamma taken of the whole history (the "below" set:
  the good region is modelled from the same trials as with the whole history);
* a seeded random subsample of the others, in their original order (so the above-set weights
  still ramp from old to recent), drawn afresh at each ask from a generator seeded by the
  sampler's seed and the number of trials, so a resumed search asks the same points.

Every result is still told once and kept in the study; only what one ask is fitted on is
bounded. Up to ``history`` trials the fit is plain TPE's. The rest of the per-ask work that
grew with the trials (a pass over every trial to count and sort them, a deep copy of the
parameters per field) or was done one number at a time in Python is avoided too; see the
methods below.
"""

from __future__ import annotations

import bisect
import contextlib
import random
from collections.abc import Iterator, Sequence
from typing import Any

import optuna
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.sampler import default_gamma

_COMPLETE = optuna.trial.TrialState.COMPLETE
_PRUNED = optuna.trial.TrialState.PRUNED
_FAIL = optuna.trial.TrialState.FAIL

#: Trials the estimators are fitted on, at most: the best 25 (Optuna's whole below set from 241
#: trials on) and 75 others. On the zero-cost benchmark's GNN space a trial costs 4.7 ms of CPU
#: at 1,001-2,000 trials with 100 (about 2 ms more with 250), 20+ ms with the whole history.
HISTORY = 100


class BoundedTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` whose estimators see at most ``history`` trials (see the module doc).

    ``largest_fit`` and ``largest_scan`` count the trials the largest fit used and the most
    trials one ask read: what the tests check to show that the work per ask stays bounded,
    without timing anything."""

    def __init__(self, *, history: int = HISTORY, seed: int = 0, **options: Any) -> None:
        if history <= default_gamma(10**9):
            raise ValueError(f"history {history} leaves too few trials beside the best ones")
        super().__init__(seed=seed, **options)
        self._gamma = self._gamma_of_all  # Optuna's ``gamma`` argument is deprecated
        self.history = history
        #: finished trials of the whole history at the current ask (what gamma is taken of)
        self._finished = 0
        self._seed = seed
        self.largest_fit = 0
        #: the most trials one ask looked at (the tests' check that an ask's pass is bounded)
        self.largest_scan = 0
        #: complete trials seen: by number, their numbers in the order seen, and (loss,
        #: number) sorted; every trial numbered below ``_settled`` is among them or gone
        self._by_number: dict[int, Any] = {}
        self._position: dict[int, int] = {}  # a complete trial's index in ``_complete``
        self._complete: list[int] = []
        self._settled = 0
        self._ranked: list[tuple[float, int]] = []
        #: internal representation of each finished trial's parameters, by trial number and
        #: field names
        self._internal: dict[tuple[int, tuple[str, ...]], tuple[float, ...]] = {}

    def _sample(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        with _vectorised_log_ndtr():
            return super()._sample(_BoundedStudy(study, self), trial, search_space)

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

    def bounded(self, trials: list[Any], states: Any = None) -> list[Any]:
        """The trials in ``states`` one ask is fitted on: all of them up to ``history``
        complete ones, else the best ``gamma(n)`` and a seeded random sample of the other
        complete ones, plus every running trial (the constant liar's: one per busy worker),
        in trial order. ``trials``: all of the study's, in number order.

        The ranking is kept across asks (a finished trial's value never changes), and trials
        below ``_settled`` (all complete and ranked, or failed) are not looked at again, so
        an ask reads only the recent trials instead of filtering and sorting all of them."""
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
        if len(self._complete) <= self.history:
            self.largest_fit = max(self.largest_fit, len(self._complete))
            return [t for t in trials if states is None or t.state in states]
        best = default_gamma(len(self._complete))
        top = [number for _, number in self._ranked[:best]]
        rest = _Without(self._complete, [self._position[number] for number in top])
        rng = random.Random(f"tpe-history-{self._seed}-{len(self._complete)}")
        chosen = [*top, *rng.sample(rest, self.history - best)]
        self.largest_fit = max(self.largest_fit, len(chosen))
        fitted = [self._by_number[number] for number in chosen] + recent
        return sorted(fitted, key=lambda t: t._number)

    def _get_internal_repr(
        self, trials: list[Any], search_space: dict[str, Any], study: Any
    ) -> dict[str, Any]:
        """Optuna's conversion, one row per trial cached for finished trials (the strategy
        fixes each field's distribution, and a finished trial's values never change);
        running trials (the constant liar's) are converted afresh. The per-value loop was a
        third of TPE's cost per ask."""
        import numpy as np

        names = tuple(search_space)
        rows = []
        for trial in trials:
            finished = trial.state.is_finished()
            key = (trial._number, names)
            row = self._internal.get(key) if finished else None
            if row is None:
                params = trial.params if finished else self._get_params(trial, study)
                if not search_space.keys() <= params.keys():
                    continue
                row = tuple(search_space[n].to_internal_repr(params[n]) for n in names)
                if finished:
                    self._internal[key] = row
            rows.append(row)
        table = np.array(rows, dtype=float).reshape(len(rows), len(names))
        return {name: table[:, i] for i, name in enumerate(names)}


class _Without(Sequence):
    """``items`` without the entries at ``skip`` (positions), indexed lazily: what
    ``random.sample`` draws the other trials from without building a list of all of them
    (it reads only the drawn indices once there are more than a few hundred)."""

    def __init__(self, items: list[int], skip: list[int]) -> None:
        self.items, self.skip = items, sorted(skip)

    def __len__(self) -> int:
        return len(self.items) - len(self.skip)

    def __getitem__(self, index: int) -> int:  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(index)
        for position in self.skip:
            if position > index:
                break
            index += 1
        return self.items[index]


#: Optuna's own, restored after each ask (not whatever another thread's ask left in place)
_OPTUNA_LOG_NDTR = _truncnorm._log_ndtr


@contextlib.contextmanager
def _vectorised_log_ndtr() -> Iterator[None]:
    """Optuna's truncated-normal code computes log Phi(x) one element at a time in Python
    (``_truncnorm._log_ndtr``), about a thousand calls per ask; SciPy's ``log_ndtr`` is the
    same function (relative difference under 1e-7, Optuna's being the approximation)
    vectorised. Swapped in for this sampler's asks only, and restored after."""
    from scipy.special import log_ndtr

    _truncnorm._log_ndtr = log_ndtr
    try:
        yield
    finally:
        _truncnorm._log_ndtr = _OPTUNA_LOG_NDTR


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
