"""The optimiser's report always carries the centroid and probe baselines (issue 19).

They used to be computed after the search, on what was left of the call budget: a search that
spent its budget reported ``skipped`` instead, and a text-model search reported none at all.
"""

from __future__ import annotations

import pytest

from autoglm.testing import run_node
from autoglm_prompt.budget import BudgetError
from autoglm_prompt.data import load_examples, sample_examples, split_examples, write_jsonl
from autoglm_prompt.nodes import OptimiseNode

SPACE = {
    "verbalizers": {"0": ["bad", "a negative review"], "1": ["good", "a positive review"]},
    "shots": [0, 2],
    "example_sets": 2,
    "example_weights": [0.5, 1.0],
}


@pytest.fixture(scope="module")
def train(tmp_path_factory) -> str:
    """40 SST-2 sentences: a pool of 20 and 20 dev rows."""
    rows = sample_examples(load_examples("sst2/dev.tsv"), 40, seed=1)
    return write_jsonl(tmp_path_factory.mktemp("sst2") / "train.jsonl", rows)


def test_a_search_that_spends_its_budget_still_reports_the_baselines(tmp_path, train):
    # The search alone needs 33 calls (20 dev + 8 examples + 1 + 4 descriptions); the
    # baselines embed the 20 pool texts too. 40 calls used to run the search and leave the
    # baselines "skipped"; now the plan counts them and refuses before any call.
    config = {"space": SPACE, "candidates": 6, "max_calls": 40, "over_budget": "shrink"}
    with pytest.raises(BudgetError, match="over the budget of 40"):
        run_node(OptimiseNode, config, {"train": train}, home=tmp_path)
    out = run_node(OptimiseNode, {**config, "max_calls": 60}, {"train": train}, home=tmp_path)
    assert out.calls <= out.estimated_calls <= 60 and out.stopped is None
    assert {"centroid", "probe"} <= set(out.baselines) and "skipped" not in out.baselines
    # Their calls are part of the node's calls, counted apart from cache hits.
    assert 0 < out.baselines["calls"] <= out.calls and out.baselines["cache_hits"] == 0
    again = run_node(OptimiseNode, {**config, "max_calls": 60}, {"train": train}, home=tmp_path)
    assert again.calls == 0 and again.baselines["cache_hits"] == 20 + 20
    assert again.baselines["centroid"] == out.baselines["centroid"]


def test_a_text_model_search_reports_encoder_baselines(tmp_path, train):
    from autoglm_hf.testing import build_tiny_causal_lm

    folder = build_tiny_causal_lm(tmp_path / "lm", train_steps=0)
    space = {"verbalizers": {"0": ["bad"], "1": ["good"]}, "shots": [0]}
    config = {"model": {"kind": "hf-causal", "model": folder}, "space": space, "candidates": 0}
    out = run_node(OptimiseNode, config, {"train": train}, home=tmp_path / "home")
    assert out.calls == 20  # one likelihood call per dev row: the encoder's are not LM calls
    assert 0 <= out.baselines["centroid"] <= 1 and 0 <= out.baselines["probe"] <= 1
    assert out.baselines["calls"] == 40 and out.baselines["encoder"] == "default"


def test_a_space_with_no_open_dimension_scores_its_one_prompt(tmp_path, train):
    """A fixed prompt with examples (nothing to search) used to crash Nevergrad's suggest."""
    space = {"verbalizers": {"0": ["bad"], "1": ["good"]}, "shots": [4]}
    out = run_node(OptimiseNode, {"space": space, "candidates": 0}, {"train": train}, home=tmp_path)
    assert out.candidates_scored == 1 and out.best_score == out.start_score
    assert out.summary["shots"] == {"0": 4, "1": 4}


def test_the_centroid_baseline_is_the_all_examples_prompt(encoder):
    """Issue 19's optimiser converged to every pool example at weight 1.0: the centroid
    baseline must be exactly that prompt (cosine to normalised class means), or the report
    compares the search with a weaker stand-in."""
    from autoglm_prompt.baselines import encoder_baselines
    from autoglm_prompt.candidate import PromptCandidate
    from autoglm_prompt.scorers import EncoderScorer

    rows = load_examples("hwu64/train.tsv")
    labels = sorted({r["label"] for r in rows})[:20]
    chosen = sample_examples([r for r in rows if r["label"] in labels], 200, seed=0)
    parts = split_examples(chosen, {"pool": 0.5, "dev": 0.5}, seed=0)
    pool, dev = parts["pool"], parts["dev"]
    scorer = EncoderScorer(encoder)
    prompt = PromptCandidate(
        verbalizers={label: label for label in labels}, examples=pool, example_weight=1.0
    )
    predicted, _ = scorer.predict(prompt, [e["text"] for e in dev])
    accuracy = sum(p == e["label"] for p, e in zip(predicted, dev, strict=True)) / len(dev)
    assert encoder_baselines(scorer, dev, pool)["centroid"] == pytest.approx(accuracy)
