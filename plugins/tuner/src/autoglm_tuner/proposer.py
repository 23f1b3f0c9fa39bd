"""What the search asks for its next trial: a point not evaluated before, and who proposed it.

The proposer stands between the search loop and a strategy (``strategies.py``) and owns the
rules every strategy runs under:

* **Order.** The initial design (``design.py``) and its follow-up, then the strategy (which
  may be ``prior.PriorGuided``: warm-start configs and prior seeds, alternating with the
  optimiser's points, after the design's start point).
* **Distinct points.** A point whose key (its effective config: what the objective computes)
  was evaluated before is never run again. When the strategy proposes one, the ask is
  ``discard``-ed, not told: its result was told once already. Why: Nevergrad's (1+1) family
  keeps a count and a variance per archived point and picks its parent by a pessimistic
  score; a point told twice has variance 0 and beats every point told once, so the parent
  never moves and the optimiser stops listening to its results.
* **The budget is spent.** After ``strategy.retries`` repeats in a row the proposer samples a
  fresh unseen point at random (``random fill``) and tells its result to the strategy as a
  point it did not ask. It stops early only when the space has no unseen point left, and
  says so in ``stop_reason``.
* **Every result told exactly once**: asked points with ``tell``, others (design, warm start,
  random fill) with ``tell_unasked``. A strategy that holds back results of points it did
  not ask (``prior.PriorGuided``) may ``claim`` one when its optimiser proposes that point:
  the optimiser is then told the recorded result, as a cold search would have told it, and
  the ask is neither discarded nor counted as a repeat.

Everything here is deterministic for a given seed and order of results, so a resumed search
that replays its journal asks the same points.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from autoglm.space import Dimension
from autoglm_tuner.design import Design
from autoglm_tuner.predictor import UNSCREENED_EVERY, ScreenCheck
from autoglm_tuner.spaces import finite_points, sample
from autoglm_tuner.strategies import WAIT, Candidate, Strategy

WARM = "warm start"
DESIGN = "initial design"
FILL = "random fill"
#: Random draws before a space is enumerated to find (or rule out) an unseen point.
FILL_DRAWS = 200
#: Largest finite space that is enumerated to tell that it is exhausted.
ENUMERATE_LIMIT = 200_000
Key = Callable[[dict[str, Any]], str]
Screen = Callable[[list[dict[str, Any]]], list[float]]


class Proposer:
    """Hands out at most ``budget`` distinct points: warm starts, the design, then the
    strategy's proposals, with random fill when the strategy repeats itself."""

    def __init__(
        self,
        strategy: Strategy,
        space: dict[str, Dimension],
        *,
        budget: int,
        seed: int,
        key: Key,
        design: Design | None = None,
        screen: Screen | None = None,
        keep: float = 1.0,
    ) -> None:
        """``screen(points)``: predicted ranks (lower is better) of proposed points; with
        ``keep`` < 1 the strategy proposes ``round(1 / keep)`` distinct points per trial and
        only the best-ranked is trained, the others discarded (see predictor.py), while the
        predicted ranks of the trials trained so far agree with their results
        (``predictor.ScreenCheck``); every ``UNSCREENED_EVERY``-th trial is not screened."""
        self.strategy = strategy
        self.space = space
        self.budget = budget
        self._key = key
        self.design = design or Design([])
        self.queue = [(p, DESIGN) for p in self.design.points()]
        #: only a screen (groups with one-field changes) has a follow-up to wait for
        self.follow_up_done = not any(len(group) > 1 for group in self.design.groups)
        self.rng = random.Random(f"fill-{seed}")
        self.seen: set[str] = set()
        self.design_losses: dict[str, float | None] = {}
        self.outstanding_design = 0
        self.handed = 0
        #: how many distinct points each source proposed (outputs: ``proposals``)
        self.sources: Counter[str] = Counter()
        #: repeated proposals that were discarded (not run, not told)
        self.repeats = 0
        #: why no more points were handed out (None while there are)
        self.stop_reason: str | None = None
        self.screen = screen
        self.pool = max(1, round(1 / keep)) if screen is not None else 1
        #: proposals the screen kept out (never trained, never told)
        self.screened_out = 0
        #: the screen's self-check, and the predicted rank of every point handed out
        self.check = ScreenCheck()
        self._predicted: dict[str, float] = {}
        self._finite: list[tuple[dict[str, Any], str]] | None = None
        self._finite_checked = False
        use_key = getattr(strategy, "use_key", None)
        if use_key is not None:  # a strategy that holds results back by point (prior.py)
            use_key(self.key)

    # ------------------------------------------------------------ ask / tell

    def ask(self) -> Candidate | Any | None:
        """The next distinct point, ``WAIT`` while the design's follow-up needs results still
        running, or None when the budget is spent or no unseen point is left."""
        if self.stop_reason is not None:
            return None
        if self.handed >= self.budget:
            self.stop_reason = (
                f"budget spent: {self.budget} distinct trial{'' if self.budget == 1 else 's'}"
            )
            return None
        while self.queue:
            params, source = self.queue.pop(0)
            if self.key(params) not in self.seen:
                return self._hand(Candidate(params, None, source))
        if not self.follow_up_done:
            if self.outstanding_design:
                return WAIT
            self.follow_up_done = True
            self.queue = [(p, DESIGN) for p in self.design.follow_ups(self._design_loss)]
            return self.ask()
        proposals: list[Candidate] = []
        # every UNSCREENED_EVERY-th trial is the optimiser's own proposal (see predictor.py)
        control = self.handed % UNSCREENED_EVERY == UNSCREENED_EVERY - 1
        pool = self.pool if self.check.agrees() and not control else 1
        while len(proposals) < pool:
            candidate = self._proposal({self.key(c.params) for c in proposals})
            if candidate is None:
                break
            proposals.append(candidate)
        if len(proposals) > 1 and self.screen is not None:
            ranks = self.screen([c.params for c in proposals])
            best = min(range(len(proposals)), key=lambda i: ranks[i])
            self._predicted[self.key(proposals[best].params)] = ranks[best]
            for i, candidate in enumerate(proposals):
                if i != best:
                    self._release(candidate)
                    self.screened_out += 1
            proposals = [proposals[best]]
        if proposals:
            return self._hand(proposals[0])
        if self.stop_reason is not None:
            return None
        params = self._fresh()
        if params is None:
            return None
        return self._hand(Candidate(params, None, FILL))

    def _proposal(self, pending: set[str]) -> Candidate | None:
        """The strategy's next point not evaluated (nor in ``pending``), after at most
        ``retries`` repeats; None when it repeats itself or has nothing left. A repeat the
        strategy ``claim``s (a held-back result it is told now) is not a repeat."""
        claim = getattr(self.strategy, "claim", None)
        tries = 0
        while tries <= self.strategy.retries:
            candidate = self.strategy.ask()
            if candidate is None:
                self.stop_reason = f"{self.strategy.used} has no point left to propose"
                return None
            key = self.key(candidate.params)
            if key not in self.seen and key not in pending:
                return candidate
            if key in self.seen and claim is not None and claim(candidate):
                continue
            self.strategy.discard(candidate)
            self.repeats += 1
            tries += 1
        return None

    def _release(self, candidate: Candidate) -> None:
        """A proposal that is not trained: the strategy's ask is closed without a result."""
        self.strategy.discard(candidate)

    def tell(self, candidate: Candidate, loss: float | None) -> None:
        """The result of a handed-out point (``loss`` None: it failed before any trial
        succeeded, so no penalty loss exists yet); told to the strategy exactly once."""
        if candidate.source == DESIGN:
            self.outstanding_design -= 1
            self.design_losses[self.key(candidate.params)] = loss
        predicted = self._predicted.pop(self.key(candidate.params), None)
        if predicted is not None and loss is not None:
            self.check.record(predicted, loss)
        own = candidate.source not in (DESIGN, FILL)
        if loss is None:
            if own:
                self.strategy.discard(candidate)
        elif own:
            self.strategy.tell(candidate, loss)
        else:
            self.strategy.tell_unasked(candidate.params, loss)

    def _hand(self, candidate: Candidate) -> Candidate:
        key = self.key(candidate.params)
        if self.screen is not None and key not in self._predicted:  # for the self-check
            self._predicted[key] = self.screen([candidate.params])[0]
        self.seen.add(key)
        self.handed += 1
        self.sources[candidate.source] += 1
        if candidate.source == DESIGN:
            self.outstanding_design += 1
        return candidate

    def key(self, params: dict[str, Any]) -> str:
        """The point's identity: ``key`` of its values with floats to 10 significant digits.
        Why: an optimiser hands back a float through its own transforms (a log scale), so
        the start point it returns differs from the one it was given in the 17th digit; an
        exact comparison would run and tell that point a second time, and Nevergrad's archive
        would merge the two into one entry with variance 0, the parent bug again."""
        return self._key({k: _rounded(v) for k, v in params.items()})

    def _design_loss(self, params: dict[str, Any]) -> float | None:
        return self.design_losses.get(self.key(params))

    # ------------------------------------------------------------ random fill

    def _fresh(self) -> dict[str, Any] | None:
        """A uniformly drawn point not evaluated yet; None (with ``stop_reason``) when a
        finite space has none left, or when an infinite one yields none in many draws."""
        for _ in range(FILL_DRAWS):
            params = sample(self.space, self.rng)
            if self.key(params) not in self.seen:
                return params
        if not self._finite_checked:
            self._finite_checked = True
            points = finite_points(self.space, ENUMERATE_LIMIT)
            if points is not None:
                self._finite = [(p, self.key(p)) for p in points]
        if self._finite is None:
            self.stop_reason = (
                f"no unseen point in {FILL_DRAWS} random draws after {self.handed} trials"
            )
            return None
        unseen = [p for p, k in self._finite if k not in self.seen]
        if not unseen:
            distinct = len({k for _, k in self._finite})
            self.stop_reason = f"space exhausted: all {distinct} distinct points evaluated"
            return None
        return unseen[self.rng.randrange(len(unseen))]

    def describe(self) -> str:
        """``NGOpt -> DiscreteLenglerOnePlusOne, with initial design, random fill``: what
        ran and what else proposed points."""
        others = [s for s in (WARM, DESIGN, FILL) if self.sources.get(s)]
        return self.strategy.used + (f", with {', '.join(others)}" if others else "")


def _rounded(value: Any) -> Any:
    return float(f"{value:.10g}") if isinstance(value, float) else value


def minimise(
    proposer: Proposer, loss: Callable[[dict[str, Any]], float]
) -> list[tuple[dict[str, Any], float, str]]:
    """Run a whole search in this process against a cheap Python ``loss`` (lower is better):
    (params, loss, source) of every trial in order. The same proposer and strategies as
    ``tuner.search``, without workers, journal or fidelity: what the zero-cost benchmark and
    the tests use to check that a strategy searches."""
    trials = []
    while (candidate := proposer.ask()) is not None:
        value = loss(candidate.params)
        proposer.tell(candidate, value)
        trials.append((candidate.params, value, candidate.source))
    return trials
