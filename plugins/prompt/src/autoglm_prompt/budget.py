"""The call budget: how many model calls an optimisation may spend, checked before and during.

Like DSPy's MIPROv2, the optimiser estimates its calls *before* starting and refuses (or
shrinks its search) when the estimate is over budget, rather than discovering it half-way
through a paid API bill. While running, every call is charged; a charge over the budget raises
``BudgetExhausted``, which the optimiser catches to stop and keep the best prompt so far.

What counts as one call: one text sent to an encoder (texts already embedded in this run are
free), one ``score(prompt, continuations)`` request, one generated completion. A text the
encoder finds in its on-disk cache costs no model work: it is a cache hit, counted apart and
never charged, so a rerun over cached texts reports (and spends) no calls.
"""

from __future__ import annotations

from dataclasses import dataclass


class BudgetError(RuntimeError):
    """The estimated calls exceed the budget (raised before any call is made)."""


class BudgetExhausted(RuntimeError):
    """A call was attempted after the budget was spent."""


@dataclass
class CallBudget:
    max_calls: int | None = None
    used: int = 0
    cache_hits: int = 0

    @property
    def left(self) -> int | None:
        return None if self.max_calls is None else self.max_calls - self.used

    def charge(self, calls: int, *, cache_hits: int = 0) -> None:
        """Account for ``calls`` calls about to be made; refuse if they do not fit. Cache hits
        are recorded but never refused: they cost no model work."""
        self.cache_hits += cache_hits
        if self.max_calls is not None and self.used + calls > self.max_calls:
            raise BudgetExhausted(
                f"call budget exhausted: {self.used} used + {calls} needed > max_calls "
                f"{self.max_calls}"
            )
        self.used += calls
