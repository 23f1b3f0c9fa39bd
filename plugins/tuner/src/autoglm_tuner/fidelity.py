"""Multi-fidelity pruning: successive halving (SHA) or its asynchronous variant (ASHA).

Every configuration starts on the cheapest rung; the best ``fraction`` of a rung is promoted
to the next one. Successive halving waits until a rung is complete and promotes exactly its
top fraction; ASHA (Li et al. 2020) promotes a configuration as soon as it ranks in the top
fraction of what has finished so far. The search calls ``promotions`` between batches, so the
decisions depend only on results already told, never on which worker finished first: both
schedules are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from autoglm_tuner.config import FidelityConfig


def rungs(fidelity: FidelityConfig | None) -> list[int | None]:
    """Fidelity of each rung: geometric from ``min`` to ``max`` with about ``eta`` between
    neighbours (``[None]``, one rung at the objective's own setting, without fidelity)."""
    if fidelity is None:
        return [None]
    if fidelity.min >= fidelity.max:
        return [fidelity.max]
    steps = max(1, math.ceil(math.log(fidelity.max / fidelity.min, fidelity.eta) - 1e-9))
    ratio = fidelity.max / fidelity.min
    levels = [round(fidelity.min * ratio ** (i / steps)) for i in range(steps + 1)]
    return sorted(set(levels))


def promotion_fraction(fidelity: FidelityConfig | None, rung_count: int) -> float:
    """Share promoted from one rung to the next, chosen so that ``top_fraction`` of all
    configurations reach the last rung (``1/eta`` per rung when top_fraction is None)."""
    if fidelity is None or rung_count <= 1:
        return 1.0
    if fidelity.top_fraction is None:
        return 1.0 / fidelity.eta
    return fidelity.top_fraction ** (1.0 / (rung_count - 1))


@dataclass
class Scheduler:
    """Which trial finished which rung with which loss, and what to promote next.

    ``synchronous`` (successive halving): a rung promotes only once it is complete (every
    configuration asked, every promotion into it finished), and then exactly the top
    ``ceil(n * fraction)``. Otherwise ASHA: a rung promotes whatever is in its top
    ``floor(n * fraction)`` so far, so full-fidelity results arrive early, at the price of
    promoting some configurations that later fall out of the top fraction."""

    rung_count: int
    fraction: float
    synchronous: bool = True
    #: ``losses[k][trial]``: loss of ``trial`` on rung ``k`` (finished successfully).
    losses: list[dict[int, float]] = field(default_factory=list)
    done: list[set[int]] = field(default_factory=list)
    promoted: list[set[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.losses = [{} for _ in range(self.rung_count)]
        self.done = [set() for _ in range(self.rung_count)]
        self.promoted = [set() for _ in range(self.rung_count)]

    def record(self, trial: int, rung: int, loss: float | None) -> None:
        """A finished evaluation; ``loss`` None for a failed one (never promoted)."""
        self.done[rung].add(trial)
        if loss is not None:
            self.losses[rung][trial] = loss

    def quota(self, rung: int, final: bool) -> int:
        """How many of ``rung`` go up. Complete rungs promote ``ceil(n0 * fraction**(k+1))``
        counted from the first rung, so rounding does not compound over rungs."""
        if final or self.synchronous:
            share = len(self.losses[0]) * self.fraction ** (rung + 1)
            return min(len(self.losses[rung]), math.ceil(round(share, 9)))
        return math.floor(round(len(self.losses[rung]) * self.fraction, 9))

    def complete(self, rung: int, final: bool) -> bool:
        """No more result will arrive on ``rung``: nothing new is asked and every promotion
        into it has run."""
        if rung == 0:
            return final
        below = rung - 1
        return (
            self.complete(below, final)
            and len(self.promoted[below]) >= self.quota(below, True)
            and self.promoted[below] <= self.done[rung]
        )

    def promotions(self, limit: int, *, final: bool = False) -> list[tuple[int, int]]:
        """Up to ``limit`` ``(trial, next_rung)`` jobs, highest rungs and best losses first.
        ``final``: no new configuration is coming (the budget is used up)."""
        jobs: list[tuple[int, int]] = []
        for rung in range(self.rung_count - 2, -1, -1):
            if self.synchronous and not self.complete(rung, final):
                continue
            finished = self.losses[rung]
            ranked = sorted(finished, key=lambda t: (finished[t], t))[: self.quota(rung, final)]
            for trial in ranked:
                if len(jobs) >= limit:
                    return jobs
                if trial not in self.promoted[rung]:
                    self.promoted[rung].add(trial)
                    jobs.append((trial, rung + 1))
        return jobs


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman rank correlation (average ranks for ties); None below three pairs or when a
    side is constant. Used to check that short runs rank configurations like full runs."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return cov / math.sqrt(vx * vy)


def average_ranks(values: list[float]) -> list[float]:
    """1-based ranks of ``values`` (smallest first), ties given their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
