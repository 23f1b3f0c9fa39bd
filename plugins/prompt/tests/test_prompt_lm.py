"""Scoring with a real (tiny, freshly trained) causal LM: likelihood, generation, OPRO."""

from __future__ import annotations

import pytest

from autoglm_prompt.budget import BudgetError, CallBudget
from autoglm_prompt.candidate import PromptCandidate
from autoglm_prompt.opro import meta_prompt, parse_instructions, propose
from autoglm_prompt.optimizer import PromptOptimizer, Settings
from autoglm_prompt.scorers import GenerativeScorer, LikelihoodScorer, make_scorer, parse_label
from autoglm_prompt.space import PromptSpace

TEMPLATE = "review : {text} . sentiment : {label}"
DATA = [
    {"text": "a wonderful and moving film", "label": "1"},
    {"text": "a dull and boring mess", "label": "0"},
    {"text": "great acting and a lovely story", "label": "1"},
    {"text": "terrible plot and awful pacing", "label": "0"},
]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from autoglm_hf.adapters import load_causal_lm
    from autoglm_hf.testing import build_tiny_causal_lm

    folder = build_tiny_causal_lm(tmp_path_factory.mktemp("tiny"), extra_words=["bad", "good"])
    return load_causal_lm(folder, device="cpu")


def _candidate(**kw) -> PromptCandidate:
    return PromptCandidate(verbalizers={"0": "negative", "1": "positive"}, template=TEMPLATE, **kw)


def test_likelihood_scorer_reads_the_memorised_labels(tiny_lm):
    budget = CallBudget()
    scorer = make_scorer(tiny_lm, "auto", budget)
    assert isinstance(scorer, LikelihoodScorer)
    predictions, scores = scorer.predict(_candidate(), [d["text"] for d in DATA])
    assert predictions == [d["label"] for d in DATA]
    assert scores.shape == (4, 2) and budget.used == 4
    scorer.predict(_candidate(calibrate="content_free"), [DATA[0]["text"]])
    assert budget.used == 6  # one input + the content-free input


def test_generative_scorer_parses_the_answer(tiny_lm):
    scorer = make_scorer(tiny_lm, "generate", CallBudget())
    assert isinstance(scorer, GenerativeScorer)
    predictions, _ = scorer.predict(_candidate(), [d["text"] for d in DATA])
    assert predictions == [d["label"] for d in DATA]


def test_parse_label_and_instructions():
    verbalizers = {"0": "negative", "1": "positive"}
    assert parse_label("Positive, clearly.", verbalizers) == "1"
    assert parse_label("not sure", verbalizers) is None
    assert parse_label("negative rather than positive", verbalizers) == "0"
    assert parse_instructions("x <INS>Rate the review.</INS> <INS> Be  brief </INS>") == [
        "Rate the review.",
        "Be brief",
    ]
    assert parse_instructions("\n\nInstruction: Decide the sentiment.\nmore") == [
        "Decide the sentiment."
    ]
    prompt = meta_prompt([("a", 0.5), ("b", 0.9), ("c", 0.1)], DATA[:1], {"0": "n", "1": "y"})
    assert prompt.index("<INS>c</INS>") < prompt.index("<INS>a</INS>") < prompt.index("<INS>b")


def test_opro_proposals_charge_the_budget_and_skip_known_ones(tiny_lm):
    budget = CallBudget(10)
    new = propose(
        tiny_lm, [("", 0.5)], DATA[:2], {"0": "negative", "1": "positive"}, n=2, budget=budget
    )
    assert budget.used == 2
    assert all(isinstance(i, str) and i and i != "" for i in new) and len(new) <= 2


def test_text_model_search_shrinks_to_the_budget_and_uses_proposals(tiny_lm):
    space = PromptSpace(
        instructions=["", "classify"],
        verbalizers={"0": ["bad", "negative"], "1": ["good", "positive"]},
        templates=["Text: {text}\nAnswer: {label}", TEMPLATE],
        shots=[0, 1],
    ).for_text_model()
    scorer = LikelihoodScorer(tiny_lm, CallBudget(60))
    settings = Settings(candidates=30, max_calls=60, over_budget="shrink", opro_rounds=1)
    optimizer = PromptOptimizer(space, scorer, DATA, DATA, settings, proposer=tiny_lm)
    plan = optimizer.plan()
    assert plan["candidates"] < 30 and plan["estimated_calls"] <= 60
    result = optimizer.run()
    assert result.calls <= 60
    assert result.best_score == 1.0 > result.start_score  # the memorised layout is found
    with pytest.raises(BudgetError, match="over the budget of 60"):
        PromptOptimizer(
            space, LikelihoodScorer(tiny_lm), DATA, DATA, Settings(candidates=30, max_calls=60)
        ).plan()
