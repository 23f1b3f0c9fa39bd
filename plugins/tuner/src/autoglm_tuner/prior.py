"""A prior over the search space, learnt from past searches on similar tasks, and the strategy
wrapper that uses it with two safeguards: an adaptive prior share and a KL guard.

**The prior.** From every close past search (same objective and metric, profile within
``warm_start_max_distance``: the warm start's lookup) the best 30% of its trials are kept. Per
dimension a smoothed distribution is counted from them: one bin per option of a choice, a
fixed number of bins on the range's own scale (log for log ranges) otherwise; a conditional
field counts only where the objective reads it (``active``). Sources are weighted by
closeness, and every bin keeps a Laplace floor, so no region is ruled out. The *seeds* are the
distinct best configurations of those searches, nearest first.

**Use** (:class:`PriorGuided`): the warm-start configs and the seeds are asked after the
design's start point, alternating with the wrapped strategy's proposals (capped by the
caller, and stopped as soon as the evidence turns against them). A transferred point is told
to the strategy only if it beats every other result so far; otherwise it is held back (told
only if the strategy proposes it itself) and takes one of TPE's random startup slots, so the
optimiser's model starts at the same trial as in a cold search. Then a share of proposals
(``share``; the search's default is 0, the seeds only) is drawn from the prior and the rest
come from the strategy.
Every result is told to the strategy at most once.

**Adaptive share.** Why: a prior learnt on tasks that looked close may point the wrong way;
sampling from it then wastes trials. The share follows the evidence: the probability that a
recent prior point (seed or sample) beats a recent non-prior one (Mann-Whitney AUC, smoothed
towards 0.75); at 0.5 or below (the prior does no better than the search without it) the
share is 0 and no further seed is asked. Seeds also stop as soon as the prior's best point is
not the search's best (a seed lost to the start point, or the strategy found better).
Measured (bench/results/tuner_prior.md, graph_table.md): a good prior's gain comes from its
seeds, samples add nothing to it, hence the search's default share 0.

**KL guard.** Why: a search can collapse onto a small region (following the prior, or its own
early luck) and stop improving. Over the last ``WINDOW`` results the guard counts the same
per-dimension distributions and measures the *share of entropy lost*: per dimension,
KL(current || uniform) divided by that of a window collapsed onto one bin (same count, same
smoothing), in [0, 1], averaged over the dimensions the window counts. Why normalised: raw
KL to uniform is bounded by the log of the bin count and by the Laplace floor, so a fixed
threshold in nats never fired on spaces of two-option fields (a fully collapsed window of 20
on the graph benchmark's grid is 0.63 nats from uniform). When the share exceeds
``kl_threshold`` and the best loss has not improved for ``patience`` results, the next
``EXPLORE`` proposals widen the search: drawn from the prior if it still earns a share and
the search has left it (KL to the prior above KL to uniform), else uniformly. Each firing is
recorded (result number, the share of entropy lost, KL to the prior and to uniform, action).
KL to the prior alone does not signal a collapse: a diverse search is far from a sharp prior
(measured: a uniform window of 20 points is about 0.8-0.9 nats from a good prior, 0.1 from
uniform).

Public API (also used by the graph benchmark): :func:`build_prior`, :func:`find_prior`,
:class:`SpacePrior`, :class:`PriorGuided`, :func:`seed_count`.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from autoglm.space import Choice, Dimension, IntRange
from autoglm_tuner.proposer import WARM
from autoglm_tuner.spaces import in_space, sample
from autoglm_tuner.strategies import Candidate, Strategy
from autoglm_tuner.warmstart import near_searches

#: Share of each past search's trials (the best ones) that the prior is counted from.
TOP_SHARE = 0.3
#: Bins of a numeric range (or a long integer range) on its own scale.
BINS = 10
#: Laplace pseudo-count per bin: no region ever has probability 0.
FLOOR = 1.0
#: Recent results the KL guard and the share's evidence look at.
WINDOW = 20
#: Uniform proposals the KL guard injects when it fires.
EXPLORE = 5
#: The share's evidence starts at this AUC, worth this many prior results.
AUC_START, AUC_WEIGHT = 0.75, 2.0

SEED = "prior seed"
PRIOR = "prior"
GUARD = "kl guard"
#: Points transferred from past searches: told to the strategy only when they win.
TRANSFERRED = (WARM, SEED, PRIOR)
Params = dict[str, Any]
Active = Callable[[Params], Iterable[str]]


# ------------------------------------------------------------------------ bins of a dimension


def bin_count(dim: Dimension) -> int:
    """One bin per option of a choice and per integer of a short range, else ``BINS``."""
    if isinstance(dim, Choice):
        return len(dim.values)
    if isinstance(dim, IntRange) and dim.high - dim.low + 1 <= BINS:
        return dim.high - dim.low + 1
    return BINS


def bin_of(dim: Dimension, value: Any) -> int:
    if isinstance(dim, Choice):
        return list(dim.values).index(value)
    if isinstance(dim, IntRange) and bin_count(dim) == dim.high - dim.low + 1:
        return int(value) - dim.low
    return min(BINS - 1, max(0, int(_unit(dim, value) * BINS)))


def value_in(dim: Dimension, index: int, rng: random.Random) -> Any:
    """A value of bin ``index``: the option, the integer, or uniform inside the bin."""
    if isinstance(dim, Choice):
        return dim.values[index]
    if isinstance(dim, IntRange) and bin_count(dim) == dim.high - dim.low + 1:
        return dim.low + index
    unit = (index + rng.random()) / BINS
    if dim.log:
        value = math.exp(math.log(dim.low) + unit * math.log(dim.high / dim.low))
    else:
        value = dim.low + unit * (dim.high - dim.low)
    if isinstance(dim, IntRange):
        return min(dim.high, max(dim.low, round(value)))
    return min(dim.high, max(dim.low, value))


def _unit(dim: Dimension, value: float) -> float:
    """``value`` mapped to [0, 1] on the range's scale."""
    if dim.high == dim.low:
        return 0.0
    if dim.log:
        return math.log(value / dim.low) / math.log(dim.high / dim.low)
    return (value - dim.low) / (dim.high - dim.low)


def histogram(
    space: dict[str, Dimension], points: Iterable[tuple[Params, float]], active: Active | None
) -> dict[str, list[float]]:
    """Per dimension, the smoothed distribution of the weighted ``points`` over its bins;
    a point counts for a dimension only where that dimension is active."""
    return {name: _smoothed(c) for name, c in _counts(space, points, active).items()}


def _counts(
    space: dict[str, Dimension], points: Iterable[tuple[Params, float]], active: Active | None
) -> dict[str, list[float]]:
    """Per dimension, the weighted count of the ``points`` (where active) in each bin."""
    counts = {name: [0.0] * bin_count(dim) for name, dim in space.items()}
    for params, weight in points:
        used = set(active(params)) if active else set(space)
        for name, dim in space.items():
            if name in used:
                counts[name][bin_of(dim, params[name])] += weight
    return counts


def _smoothed(counts: list[float]) -> list[float]:
    total = sum(counts) + FLOOR * len(counts)
    return [(c + FLOOR) / total for c in counts]


def kl(p: list[float], q: list[float]) -> float:
    """KL(p || q) in nats; both smoothed, so finite."""
    return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


# ----------------------------------------------------------------------------- the prior


@dataclass
class PriorSource:
    """One past search the prior learns from: its trials (params, loss; lower is better)."""

    trials: list[tuple[Params, float]]
    distance: float = 0.0
    run_id: str = ""
    node_id: str = ""


@dataclass
class SpacePrior:
    """Per-dimension distributions of the best trials of close past searches, and seeds."""

    space: dict[str, Dimension]
    probs: dict[str, list[float]]
    seeds: list[Params]
    sources: list[dict[str, Any]] = field(default_factory=list)

    def sample(self, rng: random.Random) -> Params:
        """One point drawn from the prior, dimension by dimension."""
        out = {}
        for name, dim in self.space.items():
            index = rng.choices(range(len(self.probs[name])), weights=self.probs[name])[0]
            out[name] = value_in(dim, index, rng)
        return out

    def divergence(
        self, points: list[Params], active: Active | None = None
    ) -> tuple[float, float, float]:
        """(KL(current || prior), KL(current || uniform), collapse) of ``points``, means over
        the dimensions some point counts for, ``current`` counted and smoothed as the prior
        was. ``collapse`` (in [0, 1]) is the share of entropy lost: per dimension KL to
        uniform divided by that of a window collapsed onto one bin (same count, same
        smoothing). Why: raw KL to uniform is bounded by the log of the bins and by the
        floor, so a fixed threshold in nats means nothing on a space of two-option fields."""
        counts = _counts(self.space, ((p, 1.0) for p in points), active)
        to_prior, to_uniform, collapse = [], [], []
        for name, count in counts.items():
            n = sum(count)
            if n == 0:
                continue
            current = _smoothed(count)
            uniform = [1 / len(count)] * len(count)
            to_prior.append(kl(current, self.probs[name]))
            to_uniform.append(kl(current, uniform))
            ceiling = kl(_smoothed([n] + [0.0] * (len(count) - 1)), uniform)
            collapse.append(min(1.0, to_uniform[-1] / ceiling) if ceiling > 0 else 0.0)
        if not collapse:
            return 0.0, 0.0, 0.0
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        return mean(to_prior), mean(to_uniform), mean(collapse)


def build_prior(
    sources: list[PriorSource],
    space: dict[str, Dimension],
    *,
    max_distance: float = 0.25,
    active: Active | None = None,
    top: float = TOP_SHARE,
    worst: bool = False,
) -> SpacePrior | None:
    """The prior from ``sources``' best ``top`` share of trials (valid in ``space``), each
    source weighted ``1 - 0.5 * distance / max_distance`` (the farthest allowed counts half);
    None when no source has a valid trial. ``worst`` counts the worst share instead: a
    deliberately misleading prior, for benchmarks and tests."""
    weighted: list[tuple[Params, float]] = []
    tops: list[list[Params]] = []
    used = []
    for source in sources:
        trials = sorted(
            ((p, loss) for p, loss in source.trials if in_space(space, p)),
            key=lambda t: t[1],
            reverse=worst,
        )
        if not trials:
            continue
        kept = [p for p, _ in trials[: max(1, math.ceil(top * len(trials)))]]
        weight = 1.0 - 0.5 * source.distance / max_distance if max_distance > 0 else 1.0
        weighted += [(p, weight) for p in kept]
        tops.append(kept)
        used.append(
            {"run_id": source.run_id, "node_id": source.node_id, "distance": source.distance}
        )
    if not weighted:
        return None
    # seeds: round-robin over the sources (nearest first), distinct points
    seeds: list[Params] = []
    seen: set[str] = set()
    for rank in range(max(len(t) for t in tops)):
        for kept in tops:
            if rank < len(kept) and repr(sorted(kept[rank].items())) not in seen:
                seen.add(repr(sorted(kept[rank].items())))
                seeds.append(dict(kept[rank]))
    return SpacePrior(space, histogram(space, weighted, active), seeds, used)


def find_prior(
    summaries: list[tuple[str, str, Any]],
    *,
    objective: str,
    metric: str,
    profile: dict[str, Any],
    space: dict[str, Dimension],
    max_distance: float,
    exclude: tuple[str, str] | None = None,
    active: Active | None = None,
) -> SpacePrior | None:
    """The prior from the journaled ``search_summary`` records (run_id, node_id, summary) of
    close past searches that kept their trials; None when there is none."""
    near = near_searches(
        summaries,
        objective=objective,
        metric=metric,
        profile=profile,
        max_distance=max_distance,
        exclude=exclude,
    )
    sources = [
        PriorSource([(p, loss) for p, loss in summary["trials"]], round(d, 4), run_id, node_id)
        for d, run_id, node_id, summary in near
        if summary.get("trials")
    ]
    return build_prior(sources, space, max_distance=max_distance, active=active)


def seed_count(budget: int, share: float, prior: SpacePrior) -> int:
    """Seeds asked: ``share`` of the budget (rounded down, at least 1), at most the distinct
    seeds there are. Capped so a wrong prior cannot eat the budget."""
    return min(len(prior.seeds), max(1, int(share * budget))) if share > 0 else 0


# ------------------------------------------------------------------- the guided strategy


class PriorGuided(Strategy):
    """Wraps ``inner``: the warm-start configs and the prior's seeds (asked alternately with
    ``inner``'s points, while the evidence favours them), then a share of prior samples, with
    the KL guard. ``prior`` None: the warm-start configs only (no samples, no guard).

    Sees every result (its own and, through ``tell_unasked``, the design's and random
    fill's) and passes each on to ``inner`` at most once. A *transferred* point (warm start,
    seed, prior sample) is told to ``inner`` only if it wins, that is beats every other result
    so far; otherwise its result is held back, and told only if ``inner`` itself proposes
    that point later (:meth:`claim`). Why: a point from another task that merely looks decent
    pulls TPE's model towards its region (measured on the graph benchmark: the first seed, a
    loser, made searches worse than cold). Held back, it leaves ``inner`` where a cold search
    would be.

    A held-back point also takes one of ``inner``'s random startup slots while it has any
    left (``Strategy.shift_startup``: TPE's first trials are random draws until it has been
    told ``n_startup_trials`` results). Why: held back and uncounted, a losing seed pushed
    the whole cold search one trial later, so the guided search was the cold one without its
    last (model-based) trial: significantly worse than cold at budget 20 on two zero-cost
    problems (bench/results/tuner_prior.md, v4). Counted, it replaces the cold search's last
    random startup point; TPE's model then starts at the same trial as in a cold search and
    makes as many proposals. Optimisers without a random startup (Nevergrad's) pay the
    trial."""

    def __init__(
        self,
        inner: Strategy,
        prior: SpacePrior | None,
        *,
        seeds: int,
        share: float,
        seed: int,
        kl_threshold: float | None,
        patience: int,
        active: Active | None = None,
        warm: list[Params] | None = None,
    ) -> None:
        self.inner, self.prior, self.active = inner, prior, active
        self.queue = [(dict(p), WARM) for p in warm or []]
        self.queue += [(dict(p), SEED) for p in (prior.seeds[:seeds] if prior else [])]
        self.initial_share = self.share = share if prior is not None else 0.0
        #: whether the evidence still favours the transferred points: they go on while so
        self.trusted = True
        #: best loss of the transferred points (warm, seeds, samples) and of all others
        self.best_prior = self.best_other = math.inf
        self.kl_threshold = kl_threshold if prior is not None else None
        self.patience = patience
        self.rng = random.Random(f"prior-{seed}")
        self.retries = inner.retries
        self.recent: deque[Params] = deque(maxlen=WINDOW)
        self.prior_losses: deque[float] = deque(maxlen=WINDOW)
        self.other_losses: deque[float] = deque(maxlen=WINDOW)
        self.results = 0
        self.best = math.inf
        self.since_best = 0
        self.exploring = 0
        self.seed_last = False
        self.explore_prior = False
        #: KL guard firings: result number, KL values, action
        self.events: list[dict[str, Any]] = []
        #: results per source of this wrapper (points the proposer handed out)
        self.told = {WARM: 0, SEED: 0, PRIOR: 0, GUARD: 0}
        #: transferred results told to ``inner`` (they won), and held back (they lost)
        self.admitted = {WARM: 0, SEED: 0, PRIOR: 0}
        self.held: dict[str, float] = {}
        #: held-back points that took one of ``inner``'s random startup slots
        self.slots: set[str] = set()
        self.key: Callable[[Params], str] = _repr_key

    @property
    def used(self) -> str:  # type: ignore[override]
        return self.inner.used

    def use_key(self, key: Callable[[Params], str]) -> None:
        """The proposer's point identity (effective config, rounded floats), so a held-back
        point is recognised when ``inner`` proposes it."""
        self.key = key

    # -------------------------------------------------------------------- ask / tell

    def ask(self) -> Candidate | None:
        self._guard()
        if self.exploring and self.prior is not None:
            self.exploring -= 1
            space = self.prior.space
            point = self.prior.sample(self.rng) if self.explore_prior else sample(space, self.rng)
            return Candidate(point, None, GUARD)
        if self.queue and self.trusted and not self.seed_last:
            self.seed_last = True
            params, source = self.queue.pop(0)
            return Candidate(params, None, source)
        self.seed_last = False
        if self.prior is not None and self.share > 0 and self.rng.random() < self.share:
            return Candidate(self.prior.sample(self.rng), None, PRIOR)
        return self.inner.ask()

    def tell(self, candidate: Candidate, loss: float) -> None:
        source = candidate.source
        if source in TRANSFERRED:
            wins = loss < self.best_other < math.inf  # beats every other result so far
            self._observe(candidate.params, loss, True)
            self.told[source] += 1
            if wins:
                self.admitted[source] += 1
                self.inner.tell_unasked(candidate.params, loss)
            else:
                key = self.key(candidate.params)
                self.held[key] = loss
                if self.inner.shift_startup(-1):
                    self.slots.add(key)
        elif source == GUARD:
            self._observe(candidate.params, loss, False)
            self.told[GUARD] += 1
            self.inner.tell_unasked(candidate.params, loss)
        else:
            self._observe(candidate.params, loss, False)
            self.inner.tell(candidate, loss)

    def discard(self, candidate: Candidate) -> None:
        if candidate.source not in (*TRANSFERRED, GUARD):
            self.inner.discard(candidate)

    def claim(self, candidate: Candidate) -> bool:
        """``inner`` proposed a point evaluated before: if it is a held-back transferred
        point, tell ``inner`` its result now, as a cold search would have (True); else
        False (the proposer discards the ask)."""
        if candidate.source in (*TRANSFERRED, GUARD):
            return False
        key = self.key(candidate.params)
        loss = self.held.pop(key, None)
        if loss is None:
            return False
        if key in self.slots:  # told now, it counts for the startup itself: give its slot back
            self.slots.discard(key)
            self.inner.shift_startup(+1)
        self.inner.tell(candidate, loss)
        return True

    def tell_unasked(self, params: Params, loss: float) -> None:
        self._observe(params, loss, False)
        self.inner.tell_unasked(params, loss)

    # ------------------------------------------------------------------ adaptation

    def _observe(self, params: Params, loss: float, from_prior: bool) -> None:
        self.results += 1
        self.recent.append(params)
        (self.prior_losses if from_prior else self.other_losses).append(loss)
        if from_prior:
            self.best_prior = min(self.best_prior, loss)
        else:
            self.best_other = min(self.best_other, loss)
        if loss < self.best:
            self.best, self.since_best = loss, 0
        else:
            self.since_best += 1
        auc = self.auc()
        # Seeds go on only while the prior leads: its best point is the search's best and its
        # points beat the others more often than not. Why the lead: seeds from tasks that only
        # looked close are often decent (they beat random points, so the AUC stays high) yet
        # lie away from the optimum, and every seed told to the strategy pulls its model
        # there (measured on the graph benchmark: worse than cold at 20-50 evaluations).
        leads = self.best_prior <= self.best_other or not self.prior_losses
        self.trusted = auc > 0.5 and leads
        self.share = self.initial_share * min(1.0, max(0.0, (auc - 0.5) / 0.25))

    def auc(self) -> float:
        """Probability that a recent prior point beats a recent non-prior one (ties count
        half), smoothed towards ``AUC_START``: the evidence the share follows."""
        others = sorted(self.other_losses)
        if not others:
            return AUC_START
        wins = 0.0
        for loss in self.prior_losses:
            below = bisect.bisect_left(others, loss)
            equal = bisect.bisect_right(others, loss) - below
            wins += (len(others) - below - equal + 0.5 * equal) / len(others)
        return (wins + AUC_START * AUC_WEIGHT) / (len(self.prior_losses) + AUC_WEIGHT)

    def _guard(self) -> None:
        """Fire when the recent results collapsed (their share of entropy lost, ``collapse``
        of :meth:`SpacePrior.divergence`, above the threshold) and the best has not improved
        for ``patience`` results. The widening draws from the prior while it still earns a
        share and the search has left it (KL to the prior above KL to uniform), else
        uniformly. Why not KL to the prior as the trigger: a diverse window is far from a
        sharp prior, so that distance alone cannot tell a collapse from exploration."""
        if self.kl_threshold is None or self.exploring or len(self.recent) < WINDOW:
            return
        if self.since_best < self.patience:
            return
        to_prior, to_uniform, collapse = self.prior.divergence(list(self.recent), self.active)
        if collapse <= self.kl_threshold:
            return
        self.exploring = EXPLORE
        self.explore_prior = self.share > 0 and to_prior > to_uniform
        self.since_best = 0  # the next firing needs another ``patience`` results
        self.events.append(
            {
                "result": self.results,
                "collapse": round(collapse, 4),
                "kl_prior": round(to_prior, 4),
                "kl_uniform": round(to_uniform, 4),
                "stalled": self.patience,
                "action": f"{EXPLORE} {'prior' if self.explore_prior else 'uniform'} points",
            }
        )

    def describe(self) -> dict[str, Any]:
        """What the outputs report about the prior (and the warm start's gate)."""
        return {
            "used": self.prior is not None,
            "sources": self.prior.sources if self.prior is not None else [],
            "warm_asked": self.told[WARM],
            "warm_told": self.admitted[WARM],
            "seeds_asked": self.told[SEED],
            "seeds_told": self.admitted[SEED],
            "prior_points": self.told[PRIOR],
            "held_back": len(self.held),
            "startup_slots": len(self.slots),
            "exploration_points": self.told[GUARD],
            "final_share": round(self.share, 4),
            "kl_guard": self.events,
        }


def _repr_key(params: Params) -> str:
    return repr(sorted(params.items()))
