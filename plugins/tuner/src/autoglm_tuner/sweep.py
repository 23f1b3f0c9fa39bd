"""The ``greedy`` initial design: screen every field around the defaults, combine the changes
that helped, then compare the options of each unordered choice where the combination holds;
the configured optimiser starts from where the design ended (``tuner.search`` config
``initial_design: greedy``).

Stages, each a batch of independent points that runs side by side on the workers:

1. **Centre.** The objective's defaults (and any warm-start points): the best is the centre.
2. **Screen.** One field changed at a time: both ends of every range and ordered choice the
   centre's model reads. A change that beats the centre is a *winner*.
3. **Combine.** The winners in order of their score, added one by one: the centre plus the
   best two, the best three, and so on. The best point so far becomes the centre. Changes
   that each helped (a high learning rate, strong input dropout) are often needed together,
   and no local optimiser finds the pair quickly under noise.
4. **Switch.** Every other option of each unordered choice (layer type, aggregator) at the
   new centre. If one wins, the fields its model reads that were not screened yet (APPNP's
   ``k`` and ``alpha`` after a GCN centre) are screened and combined in turn.

Why unordered choices last: comparing model families at their untuned defaults is unfair to
those whose defaults are poor (APPNP at the default learning rate is still undertrained when
a GCN has converged). The shared fields (learning rate, dropout, weight decay) mostly carry
over between families, so after they are adapted the comparison is closer to the one that
matters. On a space of ``n`` ranges the design costs about ``2n + options + winners`` trials.

After the design every result is handed to the inner strategy (``absorb``), which starts from
the best of them. While a stage's results are still running ``ask`` answers ``WAIT``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

from autoglm.space import Dimension
from autoglm_tuner.spaces import one_field_changes, unordered, winning_changes
from autoglm_tuner.strategies import WAIT, Candidate, Strategy

#: ``relevant(params)``: the searched fields the objective reads at ``params``.
Relevance = Callable[[dict[str, Any]], set[str]]
Result = tuple[dict[str, Any], float]
Design = Generator[list[dict[str, Any]], list[Result], None]


class GreedySweep(Strategy):
    """The design in front of ``inner``; ``used`` names both."""

    def __init__(
        self,
        inner: Strategy,
        space: dict[str, Dimension],
        start: dict[str, Any],
        relevant: Relevance | None = None,
    ) -> None:
        """``start``: the objective's defaults (the design runs only when they cover the
        space); ``relevant``: which fields a point's model reads (all, when not given)."""
        super().__init__()
        self.inner = inner
        self.space = space
        self.start = dict(start)
        self.relevant = relevant or (lambda params: set(space))
        self.used = f"greedy design, then {inner.used}"
        self.done = set(start) != set(space)
        self.design: Design | None = None
        self.stage: list[dict[str, Any]] = []
        self.outstanding = 0
        self.stage_results: list[Result] = []
        self.results: list[Result] = []
        self.centre: dict[str, Any] | None = None
        self.centre_loss = math.inf
        #: every move of the centre, in order: (stage name, point, loss)
        self.moves: list[tuple[str, dict[str, Any], float]] = []

    # ------------------------------------------------------------ ask / tell

    def suggest(self, params: dict[str, Any]) -> None:
        """Warm-start points run with the defaults; the best of them is the first centre."""
        if self.done:
            self.inner.suggest(params)
        else:
            self._suggestions.append(dict(params))

    def ask(self) -> Any:
        """The next design point, WAIT while a stage's results are still running, or the
        inner strategy's answer once the design is over."""
        if not self.done and not self.stage and not self.outstanding:
            self._next_stage()
        if self.done:
            return self.inner.ask()
        if not self.stage:
            return WAIT
        self.outstanding += 1
        return Candidate(self.stage.pop(0), self)

    def tell(self, candidate: Candidate, loss: float) -> None:
        if candidate.handle is self:
            self._answered(candidate.params, loss)
        else:
            self.inner.tell(candidate, loss)

    def fail(self, candidate: Candidate) -> None:
        if candidate.handle is self:
            self._answered(candidate.params, math.inf)
        else:
            self.inner.fail(candidate)

    def absorb(self, params: dict[str, Any], loss: float) -> None:
        if self.done:
            self.inner.absorb(params, loss)
        else:
            self.results.append((params, loss))

    def _answered(self, params: dict[str, Any], loss: float) -> None:
        self.outstanding -= 1
        self.stage_results.append((params, loss))
        if math.isfinite(loss):
            self.results.append((params, loss))

    # ------------------------------------------------------------ stages

    def _next_stage(self) -> None:
        """Send the finished stage's results to the design and take its next stage; at the
        end, hand every result to the inner strategy."""
        results, self.stage_results = self.stage_results, []
        try:
            if self.design is None:
                self.design = self._stages()
                stage = next(self.design)
            else:
                stage = self.design.send(results)
            while not stage:  # nothing to try at this stage: go on with no results
                stage = self.design.send([])
        except StopIteration:
            self.done = True
            for params, loss in self.results:
                self.inner.absorb(params, loss)
            return
        self.stage = stage

    def _stages(self) -> Design:
        suggestions, self._suggestions = self._suggestions, []
        self._move("centre", (yield [*suggestions, self.start]))
        screened: set[str] = set()
        while self.centre is not None:
            reads = self.relevant(self.centre)
            fields = [n for n in self.space if n in reads and n not in screened]
            ranges = [n for n in fields if not unordered(self.space[n])]
            choices = [n for n in fields if unordered(self.space[n])]
            if ranges:
                screened.update(ranges)
                base, base_loss = self.centre, self.centre_loss
                results = yield one_field_changes(base, self.space, ranges)
                self._move("screen", results)
                winners = winning_changes(base, base_loss, results)
                self._move("combine", (yield combinations(base, winners)))
            elif choices:
                screened.update(choices)
                self._move("switch", (yield one_field_changes(self.centre, self.space, choices)))
            else:
                return

    def _move(self, stage: str, results: list[Result]) -> None:
        for params, loss in results:
            if loss < self.centre_loss:
                self.centre, self.centre_loss = dict(params), loss
                self.moves.append((stage, self.centre, loss))


def combinations(base: dict[str, Any], winners: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """``base`` with the best two winning changes, the best three, ... all of them."""
    return [{**base, **dict(winners[:count])} for count in range(2, len(winners) + 1)]
