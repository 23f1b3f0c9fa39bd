"""Selection by validation only, with every candidate's test score and paired test."""

from __future__ import annotations

import pytest

from autoglm_finetune.select import select

GOLD = ["a", "b"] * 50


def _predictions(right: int) -> list[str]:
    """The first ``right`` answers correct, the rest wrong."""
    return [g if i < right else ("b" if g == "a" else "a") for i, g in enumerate(GOLD)]


def test_selects_on_validation_not_test_and_tests_against_the_best_baseline():
    candidates = [
        {"name": "centroid", "val_accuracy": 0.70, "test_predictions": _predictions(70)},
        {"name": "probe", "val_accuracy": 0.80, "test_predictions": _predictions(80)},
        # Best on test, worse on validation: must not be chosen.
        {"name": "lucky", "val_accuracy": 0.75, "test_predictions": _predictions(99)},
        {"name": "fine-tune", "val_accuracy": 0.90, "test_predictions": _predictions(95)},
    ]
    report = select(candidates, GOLD, baselines=("centroid", "probe"))
    assert (report["chosen"], report["baseline"]) == ("fine-tune", "probe")
    rows = {r["name"]: r for r in report["rows"]}
    assert rows["fine-tune"]["chosen"] and not rows["lucky"]["chosen"]
    assert rows["fine-tune"]["test_accuracy"] == pytest.approx(0.95)
    assert rows["fine-tune"]["delta"] == pytest.approx(0.15)
    assert rows["fine-tune"]["mcnemar_p"] < 0.01
    assert "mcnemar_p" not in rows["probe"]


def test_ties_go_to_the_cheaper_candidate():
    candidates = [
        {"name": "slow", "val_accuracy": 0.9, "cpu_seconds": 500.0, "test_predictions": GOLD},
        {"name": "fast", "val_accuracy": 0.9, "cpu_seconds": 5.0, "test_predictions": GOLD},
    ]
    assert select(candidates, GOLD, baselines=())["chosen"] == "fast"
    with pytest.raises(ValueError, match="at least one"):
        select([], GOLD, baselines=())


def test_rows_report_model_calls_and_cache_hits_beside_cpu_seconds():
    candidates = [
        {"name": "probe", "val_accuracy": 0.8, "cpu_seconds": 2.0, "test_predictions": GOLD},
        {
            "name": "prompt",
            "val_accuracy": 0.7,
            "cpu_seconds": 9.0,
            "model_calls": 120,
            "cache_hits": 880,
            "test_predictions": _predictions(70),
        },
    ]
    rows = {r["name"]: r for r in select(candidates, GOLD, baselines=("probe",))["rows"]}
    assert (rows["prompt"]["model_calls"], rows["prompt"]["cache_hits"]) == (120, 880)
    assert rows["prompt"]["cpu_seconds"] == 9.0
    # A candidate that does not count its calls reports None, not zero.
    assert rows["probe"]["model_calls"] is None and rows["probe"]["cache_hits"] is None
    # Costs never decide: the cheaper prompt loses on validation.
    assert rows["probe"]["chosen"] and not rows["prompt"]["chosen"]
