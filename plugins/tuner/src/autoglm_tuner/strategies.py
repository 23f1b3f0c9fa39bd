"""Search strategies behind one ask/tell interface: any Nevergrad optimiser, and the random and
grid baselines.

The search loop only ever calls ``ask`` (a new point, or None when the strategy has nothing
left), ``tell`` (its loss; lower is better) and ``suggest`` (a warm-start point to ask first), so
the baselines run under exactly the same scheduling, fidelity, parallelism and journaling as
Nevergrad, which is what makes the comparison fair.
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass
from typing import Any

from autoglm.space import Choice, Dimension, IntRange
from autoglm_tuner import spaces
from autoglm_tuner.spaces import combine_main_effects

BASELINES = ("random", "grid")
_UNSET: Any = object()


class _Wait:
    """What ``ask`` answers when a strategy needs results still running before its next
    point (the greedy sweep between two fields): the search runs what it has, then asks again."""

    def __repr__(self) -> str:
        return "WAIT"


WAIT: Any = _Wait()


@dataclass
class Candidate:
    """A point handed out by ``ask``: the config values, and the strategy's own handle."""

    params: dict[str, Any]
    handle: Any = None


class Strategy:
    """Base class: subclasses implement ``_ask``; ``tell`` defaults to ignoring the loss."""

    #: Human-readable name of what actually runs (NGOpt reports the optimiser it picked).
    used: str = ""

    def __init__(self) -> None:
        self._suggestions: list[dict[str, Any]] = []

    def suggest(self, params: dict[str, Any]) -> None:
        """Queue ``params`` to be asked before anything else (first suggested, first asked)."""
        self._suggestions.append(params)

    def ask(self) -> Candidate | None:
        if self._suggestions:
            return self._ask_suggested(self._suggestions.pop(0))
        return self._ask()

    def _ask_suggested(self, params: dict[str, Any]) -> Candidate:
        return Candidate(dict(params))

    def _ask(self) -> Candidate | None:
        raise NotImplementedError

    def tell(self, candidate: Candidate, loss: float) -> None:
        """Baselines do not learn."""

    def fail(self, candidate: Candidate) -> None:
        """``candidate`` failed before any trial succeeded, so no loss can stand for it.
        Strategies that wait for every answer (the greedy sweep) count it as answered."""

    def absorb(self, params: dict[str, Any], loss: float) -> None:
        """A result this strategy did not ask for (another stage's design point): learn from
        it where the strategy can. Baselines do not learn."""


class RandomStrategy(Strategy):
    """Uniform (log-uniform on log scales) independent sampling: the classic baseline."""

    used = "random"

    def __init__(self, space: dict[str, Dimension], seed: int) -> None:
        super().__init__()
        self.space = space
        self.rng = random.Random(seed)

    def _ask(self) -> Candidate:
        return Candidate(spaces.sample(self.space, self.rng))


class GridStrategy(Strategy):
    """Every point of the grid, in a seeded shuffled order, so that a budget smaller than the
    grid evaluates an unbiased subset instead of varying only the last dimensions."""

    used = "grid"

    def __init__(self, space: dict[str, Dimension], seed: int, points: int, budget: int) -> None:
        super().__init__()
        self.axes = spaces.grid_axes(space, points)
        self.size = spaces.grid_size(self.axes)
        count = min(budget, self.size)
        self.order = random.Random(seed).sample(range(self.size), count)
        self.position = 0

    def suggest(self, params: dict[str, Any]) -> None:
        """A grid is a fixed design: warm-start points are not added to it."""

    def _ask(self) -> Candidate | None:
        if self.position >= len(self.order):
            return None
        index = self.order[self.position]
        self.position += 1
        return Candidate(spaces.grid_point(self.axes, index))


class NevergradStrategy(Strategy):
    """A Nevergrad optimiser from its registry, on a parametrization built from the space.

    Suggested points (the initial design, warm starts) are asked first, as they are. The
    optimiser itself is built at the first ask after them, starting from the best suggested
    point told by then (else from ``start``), and is told every suggested result. Why: most
    Nevergrad optimisers do not move their search to a good point that is only *told* to them
    (a (1+1) keeps mutating its own parent, CMA its own mean), so a design that found a better
    region than the defaults would be wasted."""

    def __init__(
        self,
        name: str,
        space: dict[str, Dimension],
        *,
        budget: int,
        workers: int,
        seed: int,
        categorical: str = "deterministic",
        start: dict[str, Any] | None = None,
    ) -> None:
        """``start``: values the optimiser starts from (the objective's defaults); the other
        dimensions start at the middle of their range, Nevergrad's own choice."""
        super().__init__()
        self.ng = _nevergrad()
        self.name, self.space, self.seed = name, space, seed
        self.settings = {"budget": budget, "num_workers": workers}
        self.categorical = categorical
        self.start = start or {}
        self.optimizer: Any = None
        self.suggested_results: list[tuple[dict[str, Any], float]] = []
        self.combined_asked = False
        #: built here to name what runs; used as is unless suggested results move the start
        self._at_start = self._build(self.start)
        self.used = describe_optimizer(self._at_start, name)

    def _build(self, start: dict[str, Any]) -> Any:
        import numpy as np

        parametrization = self.ng.p.Instrumentation(
            **{
                field: to_parameter(self.ng, dim, self.categorical, start.get(field, _UNSET))
                for field, dim in self.space.items()
            }
        )
        parametrization.random_state = np.random.RandomState(self.seed)
        return self.ng.optimizers.registry[self.name](
            parametrization=parametrization, **self.settings
        )

    def _ask(self) -> Candidate:
        if self.optimizer is None and not self.combined_asked:
            self.combined_asked = True
            combined = combine_main_effects(self.suggested_results)
            if combined is not None:
                return Candidate(combined)
        if self.optimizer is None:
            told = sorted(self.suggested_results, key=lambda item: item[1])
            self.optimizer = self._build(told[0][0]) if told else self._at_start
            self._at_start = None
            for params, loss in self.suggested_results:
                self._tell_not_asked(params, loss)
        candidate = self.optimizer.ask()
        _, kwargs = candidate.value
        return Candidate({k: _plain(v) for k, v in kwargs.items()}, candidate)

    def tell(self, candidate: Candidate, loss: float) -> None:
        if candidate.handle is not None:
            self.optimizer.tell(candidate.handle, loss)
        elif self.optimizer is None:
            self.suggested_results.append((candidate.params, loss))
        else:
            self._tell_not_asked(candidate.params, loss)

    def absorb(self, params: dict[str, Any], loss: float) -> None:
        """Results of a design that ran in front of this optimiser (the greedy sweep): the
        optimiser starts from the best of them. No main-effects point is added: the sweep
        combined its changes as it went."""
        self.combined_asked = True
        if self.optimizer is None:
            self.suggested_results.append((params, loss))
        else:
            self._tell_not_asked(params, loss)

    def _tell_not_asked(self, params: dict[str, Any], loss: float) -> None:
        point = self.optimizer.parametrization.spawn_child(new_value=((), params))
        self.optimizer.tell(point, loss)


def to_parameter(
    ng: Any, dim: Dimension, categorical: str = "deterministic", init: Any = _UNSET
) -> Any:
    """One Nevergrad parameter per dimension, starting at ``init`` when given.

    Ordered choices become ``TransitionChoice`` (mutations step to neighbouring values).
    Unordered ones become ``Choice(deterministic=True)`` by default: a plain softmax ``Choice``
    samples its value at random from learnt weights, which makes the problem look noisy, and
    NGOpt then switches to a noise-handling optimiser (see docs/tuner.md)."""
    if isinstance(dim, Choice):
        if dim.ordered:
            param = ng.p.TransitionChoice(list(dim.values))
        else:
            param = ng.p.Choice(list(dim.values), deterministic=categorical == "deterministic")
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
#: benchmark run a third-party optimiser (Optuna's TPE) under the same loop without the plugin
#: depending on it. Registered in the process that runs the search (workers never ask).
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
    categorical: str = "deterministic",
    grid_points: int = 3,
    start: dict[str, Any] | None = None,
) -> Strategy:
    if name == "random":
        return RandomStrategy(space, seed)
    if name == "grid":
        return GridStrategy(space, seed, grid_points, budget)
    if name in EXTRA_STRATEGIES:
        return EXTRA_STRATEGIES[name](space, budget=budget, workers=workers, seed=seed)
    return NevergradStrategy(
        name, space, budget=budget, workers=workers, seed=seed, categorical=categorical, start=start
    )


def check_optimizer_name(name: str) -> None:
    """Raise a ValueError naming close matches when ``name`` is no known optimiser."""
    if name in BASELINES or name in EXTRA_STRATEGIES:
        return
    registry = _nevergrad().optimizers.registry
    if name not in registry:
        close = difflib.get_close_matches(name, [*registry, *BASELINES], n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"tuner.search config field 'optimizer': {name!r} is neither 'random', 'grid' nor "
            f"a Nevergrad optimiser{hint}"
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
