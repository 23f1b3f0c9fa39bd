"""One optimiser per option of an unordered choice, with the budget shared between them by
successive halving (``tuner.search`` config ``per_choice``).

Why: an unordered choice such as the layer type selects between different models, each with
its own good region (an APPNP wants strong input dropout and a small teleport, a GCN other
values). One optimiser over the joint space learns those regions through a single noisy
categorical, and a local optimiser (NGOpt's (1+1) picks) settles in whichever option led
early, typically the one that trains fastest. Searching each option with its own optimiser,
in the subspace that option actually uses, and dropping the weaker half of the options after
each round, is how cost-frugal AutoML systems choose between learners (FLAML runs one local
search per learner and a scheduler between them).

Schedule for ``n`` options and budget ``B``: ``ceil(log2 n) + 1`` rounds of about ``B / rounds``
asks each, shared evenly among the options still in; after a round the best half (by the mean
of each option's best three losses, less lucky than its single best) stays. The last option
left receives every ask after the final round. Rounds advance on told results only, so a seeded
search with synchronous batches stays reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from autoglm_tuner.strategies import Candidate, Strategy

#: How many of an option's best losses its score averages.
SCORE_OF_BEST = 3


@dataclass
class Arm:
    """One option of the split choice: its optimiser and what it has been told."""

    value: Any
    strategy: Strategy
    fields: list[str]
    losses: list[float] = field(default_factory=list)
    asked_this_round: int = 0

    def score(self) -> float:
        """Mean of the best ``SCORE_OF_BEST`` losses (inf before any result)."""
        best = sorted(self.losses)[:SCORE_OF_BEST]
        return sum(best) / len(best) if best else math.inf


class ChoiceArms(Strategy):
    """A strategy made of one inner strategy per option of ``choice``."""

    def __init__(
        self,
        choice: str,
        arms: list[Arm],
        *,
        budget: int,
        fill: dict[str, Any],
    ) -> None:
        """``arms``: one per option, each searching its own ``fields``; ``fill``: values for
        the fields an option does not search (its ignored fields), so every point names every
        dimension of the space."""
        self.choice = choice
        self.arms = arms
        self.active = list(arms)
        self.fill = fill
        self.rounds = math.ceil(math.log2(len(arms))) + 1 if len(arms) > 1 else 1
        self.round = 0
        self.per_round = max(1, math.ceil(budget / self.rounds))
        self.history: list[dict[str, Any]] = []
        inner = arms[0].strategy.used if arms else ""
        self.used = f"{inner} per {choice}"
        self.retries = arms[0].strategy.retries if arms else 0

    # ------------------------------------------------------------ ask / tell

    def ask(self) -> Candidate | None:
        arm = self._next_arm()
        inner = arm.strategy.ask()
        if inner is None:  # this option's space is exhausted (a grid-like inner strategy)
            self.active = [a for a in self.active if a is not arm]
            return self.ask() if self.active else None
        arm.asked_this_round += 1
        params = {**self.fill, **inner.params, self.choice: arm.value}
        return Candidate(params, (arm, inner), inner.source)

    def tell(self, candidate: Candidate, loss: float) -> None:
        arm, inner = candidate.handle
        arm.losses.append(loss)
        arm.strategy.tell(inner, loss)

    def discard(self, candidate: Candidate) -> None:
        """A repeat does not use the option's share of the round."""
        arm, inner = candidate.handle
        arm.asked_this_round -= 1
        arm.strategy.discard(inner)

    def tell_unasked(self, params: dict[str, Any], loss: float) -> None:
        """A design, warm-start or random-fill result goes to the optimiser of its option
        (only the fields that option searches), and counts in the option's score."""
        arm = self._arm_of(params.get(self.choice))
        if arm is not None:
            arm.losses.append(loss)
            arm.strategy.tell_unasked({name: params[name] for name in arm.fields}, loss)

    # ------------------------------------------------------------ schedule

    def _next_arm(self) -> Arm:
        """The active option with asks left in this round, fewest asked first; a new round
        (and a cut) when every active option has had its share."""
        if self.round < self.rounds - 1:
            quota = math.ceil(self.per_round / len(self.active))
            open_arms = [a for a in self.active if a.asked_this_round < quota]
            if not open_arms:
                self._cut()
                return self._next_arm()
            return min(open_arms, key=lambda a: a.asked_this_round)
        return min(self.active, key=lambda a: a.asked_this_round)

    def _cut(self) -> None:
        """Keep the better half of the active options (by score); start the next round."""
        ranked = sorted(self.active, key=lambda a: a.score())
        keep = max(1, math.ceil(len(ranked) / 2))
        self.history.append(
            {
                "round": self.round,
                "scores": {str(a.value): a.score() for a in ranked},
                "kept": [a.value for a in ranked[:keep]],
            }
        )
        self.active = ranked[:keep]
        for arm in self.active:
            arm.asked_this_round = 0
        self.round += 1

    def _arm_of(self, value: Any) -> Arm | None:
        return next((a for a in self.arms if a.value == value), None)
