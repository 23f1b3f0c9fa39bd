"""The optimiser on a small real SST-2 subset with the real all-MiniLM-L6-v2 encoder."""

from __future__ import annotations

import pytest

from autoglm_prompt.budget import BudgetError, CallBudget
from autoglm_prompt.optimizer import PromptOptimizer, Settings, metric_value
from autoglm_prompt.scorers import EncoderScorer
from autoglm_prompt.space import PromptSpace


def _optimizer(spy, sst2, space_spec, **settings):
    budget = CallBudget(settings.get("max_calls"))
    scorer = EncoderScorer(spy, budget)
    space = PromptSpace(**space_spec).for_encoder()
    return PromptOptimizer(space, scorer, sst2["opt"], sst2["pool"], Settings(**settings))


def test_optimiser_improves_on_its_start_and_never_sees_held_out(spy, sst2, space_spec):
    journal = []
    optimizer = _optimizer(spy, sst2, space_spec, candidates=16, seed=0)
    optimizer.journal = lambda kind, payload: journal.append((kind, payload))
    result = optimizer.run()
    assert result.best_score > result.start_score + 0.05
    # The improvement carries over to sentences the optimiser never saw.
    scorer = EncoderScorer(spy.encoder)
    texts = [e["text"] for e in sst2["heldout"]]
    truth = [e["label"] for e in sst2["heldout"]]
    start = optimizer.space.decode(optimizer.space.start(), sst2["pool"])
    held_start = metric_value("accuracy", truth, scorer.predict(start, texts)[0])
    held_best = metric_value("accuracy", truth, scorer.predict(result.best, texts)[0])
    assert held_best > held_start
    # Every text sent to the model during the search, in any instruction, was not held out.
    seen_during_search = spy.seen[: result.calls]
    held = set(texts)
    assert not [t for t in seen_during_search if any(t.endswith(h) for h in held)]
    # Everything is journaled: the plan, then one record per candidate.
    kinds = [kind for kind, _ in journal]
    assert kinds[0] == "prompt.plan" and kinds.count("prompt.candidate") == len(result.trials)
    assert result.calls <= result.estimated_calls


def test_refuses_before_any_call_when_the_estimate_is_over_budget(spy, sst2, space_spec):
    optimizer = _optimizer(spy, sst2, space_spec, candidates=16, max_calls=100)
    with pytest.raises(BudgetError, match=r"max_calls: .* estimated \d+ model calls .* over the"):
        optimizer.run()
    assert spy.seen == [] and optimizer.scorer.budget.used == 0


def test_runtime_limit_stops_the_search_and_keeps_the_best_so_far(spy, sst2, space_spec):
    # The plan's estimate is skipped (no max_calls in the settings), so only the hard limit
    # charged before every model call protects the budget.
    optimizer = _optimizer(spy, sst2, space_spec, candidates=40)
    optimizer.scorer.budget = CallBudget(300)
    result = optimizer.run()
    assert result.stopped and "call budget exhausted" in result.stopped
    assert result.calls <= 300 and len(spy.seen) <= 300
    assert len(set(spy.seen)) == len(spy.seen)  # each text embedded once
    assert result.best_score >= result.start_score
    assert len(result.trials) < 41


def test_resumed_run_reuses_journaled_scores_without_calls(spy, sst2, space_spec):
    first = _optimizer(spy, sst2, space_spec, candidates=6, seed=2)
    records = []
    first.journal = lambda kind, payload: records.append((kind, payload))
    done = first.run()
    known = {p["key"]: p["score"] for kind, p in records if kind == "prompt.candidate"}
    spy.seen.clear()
    again = _optimizer(spy, sst2, space_spec, candidates=6, seed=2)
    again.known_scores = known
    redone = again.run()
    assert spy.seen == [] and redone.best_score == done.best_score
    assert all(t["reused"] for t in redone.trials)
