"""SQuAD-style exact match and token F1, and abstention precision/recall."""

from __future__ import annotations

import pytest

from autoglm_eval.api import exact_match, normalise_answer, qa_report, token_f1


def test_normalisation_and_token_scores():
    assert normalise_answer("The  Engine, caches!") == "engine caches"
    assert exact_match("the engine caches.", ["Engine caches"]) == 1.0
    assert token_f1("engine caches results", ["the engine caches node results"]) == pytest.approx(
        2 * 1.0 * 0.75 / 1.75
    )
    assert token_f1("nothing shared", ["engine caches"]) == 0.0


def test_report_scores_answers_and_abstentions_apart():
    golds = [["engine caches"], ["runs resume"], [], []]
    report = qa_report(
        ["engine caches", "Not in the knowledge base", "Not in the knowledge base", "junk"],
        [False, True, True, False],
        golds,
    )
    assert (report["answerable"], report["unanswerable"]) == (2, 2)
    assert report["exact_match"] == 0.5 and report["f1"] == 0.5  # the abstention scores 0
    assert report["abstention_precision"] == 0.5 and report["abstention_recall"] == 0.5
    assert report["answerable_abstained"] == 1
    with pytest.raises(ValueError, match="as many"):
        qa_report(["a"], [], golds)
