"""Metrics and significance tests against values computed by hand."""

from __future__ import annotations

import math

import pytest

from autoglm_eval.metrics import classification_report, correctness
from autoglm_eval.significance import mcnemar, paired_bootstrap

Y_TRUE = ["a", "a", "a", "b", "b", "c"]
Y_PRED = ["a", "a", "b", "b", "c", "c"]


def test_report_matches_hand_computed_values():
    r = classification_report(Y_TRUE, Y_PRED)
    assert r["accuracy"] == pytest.approx(4 / 6)
    # a: TP 2 FP 0 FN 1 | b: TP 1 FP 1 FN 1 | c: TP 1 FP 1 FN 0
    expected = {"a": (1.0, 2 / 3, 0.8), "b": (0.5, 0.5, 0.5), "c": (0.5, 1.0, 2 / 3)}
    for label, (p, rec, f1) in expected.items():
        got = r["per_class"][label]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p, rec, f1))
    assert r["per_class"]["a"]["support"] == 3
    assert r["macro"]["precision"] == pytest.approx(2 / 3)
    assert r["macro"]["recall"] == pytest.approx(13 / 18)
    assert r["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["micro"]["f1"] == pytest.approx(4 / 6)
    assert r["confusion"] == {
        "labels": ["a", "b", "c"],
        "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]],
    }


def test_labels_are_compared_as_strings_and_fixed_order_is_kept():
    r = classification_report([1, 0, 1], ["1", "0", "0"], labels=["1", "0"])
    assert r["accuracy"] == pytest.approx(2 / 3)
    assert r["confusion"]["labels"] == ["1", "0"]
    assert r["confusion"]["matrix"] == [[1, 1], [0, 1]]
    assert correctness([1, 0], ["1", "1"]) == [1, 0]


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match="y_pred: expected 3 labels"):
        classification_report([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match=r"true labels \['2'\] are not among"):
        classification_report([2], [1], labels=["0", "1"])


def test_bootstrap_identical_variants_show_no_difference():
    scores = [1, 0] * 50
    out = paired_bootstrap(scores, scores, n_resamples=2000)
    assert out["delta"] == 0.0
    assert out["ci_low"] == out["ci_high"] == 0.0
    assert out["p_value"] == 1.0


def test_bootstrap_detects_a_clear_paired_gain():
    a = [1] * 50 + [0] * 50
    b = [1] * 50 + [1] * 30 + [0] * 20  # B fixes 30 errors and breaks nothing
    out = paired_bootstrap(a, b, n_resamples=2000, seed=1)
    assert out["delta"] == pytest.approx(0.3)
    assert 0.15 < out["ci_low"] < 0.3 < out["ci_high"] < 0.45
    assert out["p_value"] < 0.001


def test_mcnemar_exact_for_few_discordant_pairs():
    a = [1] * 20 + [0] * 10
    b = [1] * 30
    out = mcnemar(a, b)
    assert (out["only_a"], out["only_b"], out["method"]) == (0, 10, "exact")
    assert out["p_value"] == pytest.approx(2 * 0.5**10)


def test_mcnemar_chi_square_with_continuity_correction():
    # 30 examples only B gets right, 10 only A gets right, 60 both right.
    a = [1] * 60 + [0] * 30 + [1] * 10
    b = [1] * 60 + [1] * 30 + [0] * 10
    out = mcnemar(a, b)
    statistic = (abs(10 - 30) - 1) ** 2 / 40
    assert out["statistic"] == pytest.approx(statistic)
    assert out["p_value"] == pytest.approx(math.erfc(math.sqrt(statistic / 2)))
    assert out["method"] == "chi2-corrected"
    assert mcnemar([1, 0], [1, 0])["p_value"] == 1.0
