"""The search loop: Nevergrad over the prompt space, OPRO proposals between rounds, a budget.

The optimiser only ever sees two data sets: ``dev`` (scored) and ``pool`` (few-shot examples).
Whoever calls it keeps the held-out split to itself, so the score it reports afterwards is
measured on examples no candidate was chosen on.

Order of work: the starting prompt (first option of every dimension) is scored first, then
any seed candidates (a previous champion, warm starts), then ``candidates`` points asked from
Nevergrad, split into rounds; between rounds a generative proposer, when given, adds new
instructions written from the best and worst so far. Each scored candidate goes to the
journal callback; scores already journaled (a resumed run) are reused without model calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from autoglm_prompt.budget import BudgetError, BudgetExhausted
from autoglm_prompt.candidate import PromptCandidate
from autoglm_prompt.data import Example
from autoglm_prompt.scorers import Scorer
from autoglm_prompt.space import PromptSpace

Metric = Literal["accuracy", "macro_f1"]


@dataclass
class Settings:
    candidates: int = 30
    optimizer: str = "NGOpt"
    seed: int = 0
    metric: Metric = "accuracy"
    max_calls: int | None = None
    over_budget: Literal["refuse", "shrink"] = "refuse"
    opro_rounds: int = 0
    proposals: int = 2


@dataclass
class Result:
    best: PromptCandidate
    best_score: float
    start_score: float
    trials: list[dict[str, Any]]
    calls: int
    estimated_calls: int
    planned_candidates: int
    cache_hits: int = 0
    stopped: str | None = None
    instructions: list[str] = field(default_factory=list)
    #: Encoder searches: dev accuracy of the nearest centroid and a logistic probe on the pool.
    baselines: dict[str, Any] = field(default_factory=dict)
    #: The point of ``best`` in the space (None for a seed candidate outside it): decoding it
    #: with another pool redraws the same kind of examples from there.
    best_point: dict[str, Any] | None = None


def metric_value(metric: Metric, y_true: list[str], y_pred: list[str | None]) -> float:
    """The score a candidate is ranked by (shared with the evaluator plugin)."""
    from autoglm_eval.api import classification_report, correctness

    if metric == "accuracy":
        right = correctness(y_true, y_pred)
        return sum(right) / len(right)
    labels = sorted(set(y_true))
    return classification_report(y_true, y_pred, labels)["macro"]["f1"]


class PromptOptimizer:
    """One optimisation. ``plan()`` checks the budget before anything runs; ``run()`` searches."""

    def __init__(
        self,
        space: PromptSpace,
        scorer: Scorer,
        dev: list[Example],
        pool: list[Example],
        settings: Settings,
        *,
        proposer: Any = None,
        journal: Callable[[str, Any], None] | None = None,
        progress: Callable[[float, float | None, str | None], None] | None = None,
        check_cancelled: Callable[[], None] | None = None,
        known_scores: dict[str, float] | None = None,
        known_proposals: dict[int, list[str]] | None = None,
        seed_candidates: list[PromptCandidate] = (),
        reserved_calls: int = 0,
    ) -> None:
        """``reserved_calls``: calls of this scorer's budget spent outside the search (the
        baselines), counted in the plan so that the search cannot crowd them out."""
        if not dev:
            raise ValueError("dev: expected labelled examples to score candidates on, got none")
        unknown = sorted({e["label"] for e in dev} - set(space.labels))
        if unknown:
            raise ValueError(
                f"verbalizers: the data has labels {unknown} with no verbalizer "
                f"(verbalizers given for {space.labels})"
            )
        self.space = space
        self.scorer = scorer
        self.dev = dev
        self.pool = pool
        self.settings = settings
        self.proposer = proposer
        self.journal = journal or (lambda kind, payload: None)
        self.progress = progress or (lambda done, total, message: None)
        self.check_cancelled = check_cancelled or (lambda: None)
        self.known_scores = dict(known_scores or {})
        self.known_proposals = dict(known_proposals or {})
        self.seed_candidates = list(seed_candidates)
        self.reserved_calls = reserved_calls
        self.rounds = 1 + (settings.opro_rounds if proposer is not None else 0)
        self.candidates = settings.candidates
        self.estimated_calls = 0
        self._scores: dict[str, float] = {}
        self._trials: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ budget

    def estimate(self, candidates: int) -> int:
        extra = (self.rounds - 1) * self.settings.proposals
        future = self.space.with_instructions(
            self.space.instructions + [f"<proposal {i}>" for i in range(extra)]
        )
        evaluations = candidates + 1 + len(self.seed_candidates)
        calls = self.scorer.estimate_calls(future, evaluations, len(self.dev), len(self.pool))
        return calls + extra + self.reserved_calls

    def plan(self) -> dict[str, Any]:
        """Estimate the calls; refuse, or shrink the number of candidates, when over budget."""
        limit = self.settings.max_calls
        estimated = self.estimate(self.candidates)
        if limit is not None and estimated > limit:
            if self.settings.over_budget == "refuse":
                raise BudgetError(
                    f"max_calls: the optimisation needs an estimated {estimated} model calls "
                    f"({self.candidates} candidates x {len(self.dev)} dev examples with a "
                    f"{self.scorer.kind} scorer), over the budget of {limit}; raise max_calls, "
                    "lower candidates or the dev size, or set over_budget: shrink"
                )
            while self.candidates > 1 and self.estimate(self.candidates) > limit:
                self.candidates -= 1
            estimated = self.estimate(self.candidates)
            if estimated > limit:
                raise BudgetError(
                    f"max_calls: even one candidate needs an estimated {estimated} calls, "
                    f"over the budget of {limit}"
                )
        self.estimated_calls = estimated
        plan = {
            "estimated_calls": estimated,
            "max_calls": limit,
            "candidates": self.candidates,
            "rounds": self.rounds,
            "scorer": self.scorer.kind,
            "dev": len(self.dev),
            "pool": len(self.pool),
        }
        self.journal("prompt.plan", plan)
        return plan

    # ------------------------------------------------------------------ search

    def score(self, candidate: PromptCandidate) -> tuple[float, bool]:
        """The candidate's metric on dev and whether it was already known (no calls)."""
        key = candidate.key()
        if key in self._scores:
            return self._scores[key], True
        if key in self.known_scores:
            self._scores[key] = self.known_scores[key]
            return self._scores[key], True
        predictions, _ = self.scorer.predict(candidate, [e["text"] for e in self.dev])
        value = metric_value(self.settings.metric, [e["label"] for e in self.dev], predictions)
        self._scores[key] = value
        return value, False

    def _trial(self, candidate: PromptCandidate, source: str, round_: int) -> float:
        self.check_cancelled()
        value, known = self.score(candidate)
        trial = {
            "index": len(self._trials),
            "round": round_,
            "source": source,
            "score": value,
            "reused": known,
            "calls_used": self.scorer.budget.used,
            "candidate": candidate.summary(),
        }
        self._trials.append(trial)
        self.journal("prompt.candidate", {**trial, "key": candidate.key()})
        return value

    def run(self) -> Result:
        import nevergrad as ng

        if not self.estimated_calls:
            self.plan()
        total = 1 + len(self.seed_candidates) + self.candidates
        space, seed = self.space, self.settings.seed
        start_point = space.start()
        best = space.decode(start_point, self.pool, seed)
        best_point: dict[str, Any] | None = start_point
        stopped = None
        try:
            start_score = best_score = self._trial(best, "start", 0)
            for candidate in self.seed_candidates:
                value = self._trial(candidate, "seed", 0)
                if value > best_score:
                    best, best_score, best_point = candidate, value, space.point_of(candidate)
            per_round = _split(self.candidates, self.rounds)
            for round_, count in enumerate(per_round):
                if round_ > 0:
                    space = self._propose(space, round_, best)
                param = space.parametrization(seed + round_)
                opt = ng.optimizers.registry[self.settings.optimizer](
                    parametrization=param, budget=count, num_workers=1
                )
                start = space.start()
                if best_point is not None and start:  # no open dimension: nothing to suggest
                    opt.suggest({**start, **{k: v for k, v in best_point.items() if k in start}})
                for _ in range(count):
                    asked = opt.ask()
                    point = {k: v for k, v in asked.value.items() if k != "fixed"}
                    candidate = space.decode(point, self.pool, seed)
                    value = self._trial(candidate, "optimizer", round_)
                    opt.tell(asked, -value)
                    if value > best_score:
                        best, best_score, best_point = candidate, value, point
                    self.progress(len(self._trials), total, f"best {best_score:.4f}")
        except BudgetExhausted as exc:
            stopped = str(exc)
            start_score = self._trials[0]["score"] if self._trials else float("nan")
            if not self._trials:
                raise
        return Result(
            best=best,
            best_score=best_score,
            start_score=start_score,
            trials=self._trials,
            calls=self.scorer.budget.used,
            cache_hits=self.scorer.budget.cache_hits,
            estimated_calls=self.estimated_calls,
            planned_candidates=self.candidates,
            stopped=stopped,
            instructions=space.instructions,
            best_point=best_point,
        )

    def _propose(self, space: PromptSpace, round_: int, best: PromptCandidate) -> PromptSpace:
        """Add OPRO proposals (or the journaled ones of a resumed run) to the instructions."""
        from autoglm_prompt.opro import propose

        if round_ in self.known_proposals:
            new = self.known_proposals[round_]
        else:
            by_instruction: dict[str, float] = {}
            for trial in self._trials:
                text = trial["candidate"]["instruction"]
                by_instruction[text] = max(by_instruction.get(text, -1.0), trial["score"])
            new = propose(
                self.proposer,
                sorted(by_instruction.items(), key=lambda kv: kv[1]),
                self.dev[:4],
                best.verbalizers,
                n=self.settings.proposals,
                budget=self.scorer.budget,
                seed=self.settings.seed + round_,
            )
            self.journal("prompt.proposals", {"round": round_, "instructions": new})
        return space.with_instructions(space.instructions + new)


def _split(total: int, parts: int) -> list[int]:
    """``total`` evaluations in ``parts`` rounds, as even as possible."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
