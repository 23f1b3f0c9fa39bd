"""Search strategies behind one ask/tell interface: random and grid baselines, any Nevergrad
optimiser, and Optuna's multivariate TPE and Gaussian-process (GP + EI) samplers.

A strategy only proposes points and learns from losses; everything else (the initial design,
warm starts, duplicate handling, random fill, the budget) is the proposer's job
(``proposer.py``), so every strategy runs under exactly the same rules, which is what makes a
comparison between them fair. The contract a strategy may rely on:

* ``ask()`` returns a :class:`Candidate` (or None when it has nothing left: a finished grid);
* every candidate it asked is answered exactly once: ``tell`` (its loss) or ``discard`` (the
  point was already evaluated, so its result was told already and is not told again);
* ``tell_unasked`` hands it, once each, results of points it did not propose (the design, warm
  starts, random fill): optimisers that can learn from them do.
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass
from typing import Any

from autoglm.space import Choice, Dimension, IntRange
from autoglm_tuner import spaces

BASELINES = ("random", "grid")
#: Optuna samplers available by name (``optuna`` is a dependency; GP needs torch too).
OPTUNA = ("TPE", "GP")
_UNSET: Any = object()


class _Wait:
    """What ``ask`` answers when the proposer needs results still running before its next
    point (the initial design's follow-up point): the search runs what it has, then asks again."""

    def __repr__(self) -> str:
        return "WAIT"


WAIT: Any = _Wait()


@dataclass
class Candidate:
    """A point handed out by ``ask``: the config values, the strategy's own handle, and what
    proposed it (``source``: ``initial design``, ``warm start``, ``random fill`` or the
    optimiser's name), which the outputs report for the selected point."""

    params: dict[str, Any]
    handle: Any = None
    source: str = ""


class Strategy:
    """Base class: subclasses implement ``ask``; baselines ignore losses."""

    #: Human-readable name of what actually runs (NGOpt reports the optimiser it picked).
    used: str = ""
    #: How often the proposer re-asks after a repeated point before it samples a fresh one.
    #: Cheap optimisers may retry (a (1+1) mutation that hit a known point is redrawn);
    #: expensive ones (GP) fill at once.
    retries: int = 10

    def ask(self) -> Candidate | None:
        raise NotImplementedError

    def tell(self, candidate: Candidate, loss: float) -> None:
        """The loss of a point this strategy asked."""

    def discard(self, candidate: Candidate) -> None:
        """A point this strategy asked that was evaluated before: its result was told once
        already and is not told again (see docs/tuner.md, "Every result told once")."""

    def tell_unasked(self, params: dict[str, Any], loss: float) -> None:
        """The result of a point this strategy did not propose."""

    def shift_startup(self, change: int) -> bool:
        """Move the end of a random startup by ``change`` trials (-1: a result held back from
        this strategy takes a startup slot, ``prior.PriorGuided``; +1: gives it back). False
        when nothing changed: only a sampler with a random startup (TPE) has one."""
        return False


class RandomStrategy(Strategy):
    """Uniform (log-uniform on log scales) independent sampling: the classic baseline."""

    used = "random"

    def __init__(self, space: dict[str, Dimension], seed: int) -> None:
        self.space = space
        self.rng = random.Random(seed)

    def ask(self) -> Candidate:
        return Candidate(spaces.sample(self.space, self.rng), source=self.used)


class GridStrategy(Strategy):
    """Every point of the grid, in a seeded shuffled order, so that a budget smaller than the
    grid evaluates an unbiased subset instead of varying only the last dimensions."""

    used = "grid"
    retries = 1_000_000  # a grid never repeats itself; its repeats are design points

    def __init__(self, space: dict[str, Dimension], seed: int, points: int, budget: int) -> None:
        self.axes = spaces.grid_axes(space, points)
        self.size = spaces.grid_size(self.axes)
        count = min(budget, self.size)
        self.order = random.Random(seed).sample(range(self.size), count)
        self.position = 0

    def ask(self) -> Candidate | None:
        if self.position >= len(self.order):
            return None
        index = self.order[self.position]
        self.position += 1
        return Candidate(spaces.grid_point(self.axes, index), source=self.used)


class NevergradStrategy(Strategy):
    """A Nevergrad optimiser from its registry, on a parametrization built from the space.

    The optimiser is built at the first ask, starting from the best result told by then (the
    initial design, warm starts), else from ``start``, and is then told each earlier result
    once. Why build late: most Nevergrad optimisers do not move their search to a good point
    that is merely *told* to them (a (1+1) keeps mutating its own parent, CMA its own mean)."""

    def __init__(
        self,
        name: str,
        space: dict[str, Dimension],
        *,
        budget: int,
        workers: int,
        seed: int,
        start: dict[str, Any] | None = None,
    ) -> None:
        """``start``: values the optimiser starts from (the objective's defaults); the other
        dimensions start at the middle of their range, Nevergrad's own choice."""
        self.ng = _nevergrad()
        self.name, self.space, self.seed = name, space, seed
        self.settings = {"budget": budget, "num_workers": workers}
        self.start = start or {}
        self.optimizer: Any = None
        self.early: list[tuple[dict[str, Any], float]] = []
        #: results Nevergrad refused (optimisers without tell-not-asked support)
        self.refused = 0
        #: built here to name what runs; used as is unless told results move the start
        self._at_start: Any = self._build(self.start)
        self.used = describe_optimizer(self._at_start, name)

    def _build(self, start: dict[str, Any]) -> Any:
        import numpy as np

        parametrization = self.ng.p.Instrumentation(
            **{
                field: to_parameter(self.ng, dim, start.get(field, _UNSET))
                for field, dim in self.space.items()
            }
        )
        parametrization.random_state = np.random.RandomState(self.seed)
        return self.ng.optimizers.registry[self.name](
            parametrization=parametrization, **self.settings
        )

    def ask(self) -> Candidate:
        if self.optimizer is None:
            best = min(self.early, key=lambda item: item[1], default=None)
            self.optimizer = self._build(best[0]) if best else self._at_start
            self._at_start = None
            early, self.early = self.early, []
            for params, loss in early:
                self._tell_not_asked(params, loss)
        candidate = self.optimizer.ask()
        _, kwargs = candidate.value
        params = {k: _plain(v) for k, v in kwargs.items()}
        return Candidate(params, candidate, source=self.used)

    def tell(self, candidate: Candidate, loss: float) -> None:
        self.optimizer.tell(candidate.handle, loss)

    def tell_unasked(self, params: dict[str, Any], loss: float) -> None:
        if self.optimizer is None:
            self.early.append((params, loss))
        else:
            self._tell_not_asked(params, loss)

    def _tell_not_asked(self, params: dict[str, Any], loss: float) -> None:
        point = self.optimizer.parametrization.spawn_child(new_value=((), params))
        try:
            self.optimizer.tell(point, loss)
        except self.ng.errors.TellNotAskedNotSupportedError:
            self.refused += 1


class OptunaStrategy(Strategy):
    """Optuna's multivariate TPE (``TPE``) or its Gaussian-process sampler with expected
    improvement (``GP``), through Optuna's ask-and-tell interface.

    Ordered choices are given to Optuna as the index of the value (an integer), so both
    samplers see which values are neighbours; unordered ones as categoricals. Results the
    sampler did not propose are added as finished trials; a discarded ask is closed as failed,
    which both samplers ignore. TPE fits its estimators on the whole history up to
    ``tpe.WHOLE_HISTORY`` trials (Optuna's plain TPE points, faster), then on
    ``tpe.HISTORY`` trials (the cost per trial stays flat in long searches); an integer
    ``history`` bounds the fit from that many trials on; ``None`` runs Optuna's own plain
    TPE (the benchmark's reference)."""

    def __init__(
        self, name: str, space: dict[str, Dimension], *, seed: int, history: Any = _UNSET
    ) -> None:
        import warnings

        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        self.optuna = optuna
        self.space = space
        self.distributions = {name: _distribution(optuna, dim) for name, dim in space.items()}
        if name == "TPE":
            if history is None:
                sampler = optuna.samplers.TPESampler(multivariate=True, seed=seed)
            else:
                from autoglm_tuner.tpe import HISTORY, WHOLE_HISTORY, BoundedTPESampler

                bounds = (
                    {"history": HISTORY, "whole": WHOLE_HISTORY}
                    if history is _UNSET
                    else {"history": history}
                )
                sampler = BoundedTPESampler(**bounds, multivariate=True, seed=seed)
            self.used = "TPE (Optuna, multivariate)"
        else:
            sampler = optuna.samplers.GPSampler(seed=seed, deterministic_objective=True)
            self.used = "GP + EI (Optuna)"
            self.retries = 0
        self.study = optuna.create_study(sampler=sampler)

    def ask(self) -> Candidate:
        trial = self.study.ask(self.distributions)
        raw = trial.params  # a deep copy per read: read once
        params = {name: self._value(name, raw[name]) for name in self.space}
        return Candidate(params, trial, source=self.used)

    def tell(self, candidate: Candidate, loss: float) -> None:
        self.study.tell(candidate.handle, loss)

    def discard(self, candidate: Candidate) -> None:
        self.study.tell(candidate.handle, state=self.optuna.trial.TrialState.FAIL)

    def tell_unasked(self, params: dict[str, Any], loss: float) -> None:
        internal = {name: self._internal(name, value) for name, value in params.items()}
        self.study.add_trial(
            self.optuna.trial.create_trial(
                params=internal, distributions=self.distributions, value=loss
            )
        )

    def shift_startup(self, change: int) -> bool:
        """Optuna samplers with ``n_startup_trials`` draw their first trials at random; a slot
        is taken only while that startup is still running (fewer results told than its
        count). Why reach into the sampler: the held-back point must not be told (that is
        the prior's gate), yet the startup should end at the same trial as in a cold search;
        lowering the count by one does exactly that and leaves every result told unchanged."""
        sampler = self.study.sampler
        count = getattr(sampler, "_n_startup_trials", None)
        if not isinstance(count, int):
            return False
        if change < 0:
            states = (self.optuna.trial.TrialState.COMPLETE, self.optuna.trial.TrialState.PRUNED)
            if len(self.study.get_trials(deepcopy=False, states=states)) >= count:
                return False
        sampler._n_startup_trials = max(0, count + change)
        return True

    def _value(self, name: str, raw: Any) -> Any:
        dim = self.space[name]
        if isinstance(dim, Choice) and dim.ordered:
            return dim.values[raw]
        return _plain(raw)

    def _internal(self, name: str, value: Any) -> Any:
        dim = self.space[name]
        if isinstance(dim, Choice) and dim.ordered:
            return list(dim.values).index(value)
        return value


def _distribution(optuna: Any, dim: Dimension) -> Any:
    d = optuna.distributions
    if isinstance(dim, Choice):
        if dim.ordered:
            return d.IntDistribution(0, len(dim.values) - 1)
        return d.CategoricalDistribution(list(dim.values))
    if isinstance(dim, IntRange):
        return d.IntDistribution(dim.low, dim.high, log=dim.log)
    return d.FloatDistribution(dim.low, dim.high, log=dim.log)


def to_parameter(ng: Any, dim: Dimension, init: Any = _UNSET) -> Any:
    """One Nevergrad parameter per dimension, starting at ``init`` when given.

    Ordered choices become ``TransitionChoice`` (mutations step to neighbouring values).
    Unordered ones become ``Choice(deterministic=True)``: a plain softmax ``Choice`` samples
    its value at random from learnt weights, which makes the problem look noisy, and NGOpt
    then switches to a noise-handling optimiser that re-evaluates points (see docs/tuner.md)."""
    if isinstance(dim, Choice):
        if dim.ordered:
            param = ng.p.TransitionChoice(list(dim.values))
        else:
            param = ng.p.Choice(list(dim.values), deterministic=True)
        if init is not _UNSET:
            param.value = init
        return param
    bounds: dict[str, Any] = {"lower": dim.low, "upper": dim.high}
    if init is not _UNSET:
        bounds["init"] = init
    param = ng.p.Log(**bounds) if dim.log else ng.p.Scalar(**bounds)
    if isinstance(dim, IntRange):
        param = param.set_integer_casting()
    return param


def describe_optimizer(optimizer: Any, name: str) -> str:
    """``NGOpt -> DiscreteLenglerOnePlusOne``: the optimiser a wizard delegated to, if any."""
    inner = getattr(optimizer, "optim", None)
    if inner is None or inner is optimizer:
        return name
    inner_name = getattr(inner, "name", type(inner).__name__)
    return f"{name} -> {describe_optimizer(inner, inner_name)}"


#: Extra strategies by name: ``factory(space, budget=, workers=, seed=)`` -> Strategy. Lets a
#: benchmark run a third-party optimiser under the same loop without the plugin depending on
#: it. Registered in the process that runs the search (workers never ask).
EXTRA_STRATEGIES: dict[str, Any] = {}


def register_strategy(name: str, factory: Any) -> None:
    EXTRA_STRATEGIES[name] = factory


def make_strategy(
    name: str,
    space: dict[str, Dimension],
    *,
    budget: int,
    workers: int,
    seed: int,
    grid_points: int = 3,
    start: dict[str, Any] | None = None,
) -> Strategy:
    if name == "random":
        return RandomStrategy(space, seed)
    if name == "grid":
        return GridStrategy(space, seed, grid_points, budget)
    if name in EXTRA_STRATEGIES:
        return EXTRA_STRATEGIES[name](space, budget=budget, workers=workers, seed=seed)
    if name in OPTUNA:
        return OptunaStrategy(name, space, seed=seed)
    return NevergradStrategy(name, space, budget=budget, workers=workers, seed=seed, start=start)


def check_optimizer_name(name: str) -> None:
    """Raise a ValueError naming close matches when ``name`` is no known optimiser."""
    if name in BASELINES or name in OPTUNA or name in EXTRA_STRATEGIES:
        return
    registry = _nevergrad().optimizers.registry
    if name not in registry:
        close = difflib.get_close_matches(name, [*registry, *BASELINES, *OPTUNA], n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"tuner.search config field 'optimizer': {name!r} is neither 'random', 'grid', "
            f"'TPE', 'GP' nor a Nevergrad optimiser{hint}"
        )


def _nevergrad() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nevergrad as ng
    return ng


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, so configs are JSON and pydantic friendly; floats to 12
    significant digits, so a start of 5e-4 comes back as 5e-4, not 0.0005000000000000002
    (the log transform's rounding), and is recognised as the point already evaluated."""
    value = value.item() if hasattr(value, "item") and not isinstance(value, list) else value
    return float(f"{value:.12g}") if isinstance(value, float) else value
