"""Weak supervision: rules, majority vote and the learned label model."""

from __future__ import annotations

import time

import numpy as np
import pytest

from autoglm_eval.feedback import FeedbackStore
from autoglm_eval.labeling import (
    ABSTAIN,
    LabelItem,
    LabelModel,
    items_from_store,
    majority_vote,
    rule_from_dict,
    weak_labels,
)

CLASSES = ["0", "1"]


def test_rules_vote_or_abstain():
    item = LabelItem(
        text="A wonderful film, not boring",
        output="1",
        score=0.95,
        feedback=(("user", "0"), ("user", "yes")),
    )
    votes = {
        "feedback": rule_from_dict({"kind": "feedback", "source": "user"}).vote(item, CLASSES),
        "confirm": rule_from_dict({"kind": "confirm"}).vote(item, CLASSES),
        "kw": rule_from_dict({"kind": "keyword", "label": 1, "keywords": ["wonderful"]}).vote(
            item, CLASSES
        ),
        "kw_miss": rule_from_dict({"kind": "keyword", "label": 0, "keywords": ["won"]}).vote(
            item, CLASSES
        ),
        "regex": rule_from_dict({"kind": "regex", "label": 0, "pattern": r"not \w+"}).vote(
            item, CLASSES
        ),
        "pred": rule_from_dict({"kind": "prediction", "min_score": 0.9}).vote(item, CLASSES),
        "pred_low": rule_from_dict({"kind": "prediction", "min_score": 0.99}).vote(item, CLASSES),
    }
    assert votes == {
        "feedback": "0",  # "yes" is not a class, only "0" counts
        "confirm": "1",  # the latest thumbs-up confirms the served output
        "kw": "1",
        "kw_miss": None,  # whole words only
        "regex": "0",
        "pred": "1",
        "pred_low": None,
    }
    down = LabelItem(text="x", output="1", feedback=(("user", "wrong"),))
    assert rule_from_dict({"kind": "confirm"}).vote(down, CLASSES) == "0"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "vibes"}, r"rules\[0\].kind: expected one of"),
        ({"kind": "keyword", "keywords": ["x"]}, r"rules\[0\].label"),
        ({"kind": "regex", "label": 1, "pattern": "("}, r"rules\[0\].pattern: regular expression"),
        ({"kind": "regex", "label": 1, "pattern": "(?<!not )good"}, "look-around"),
        ({"kind": "feedback", "sauce": "user"}, r"unknown field\(s\) \['sauce'\]"),
    ],
)
def test_bad_rules_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        rule_from_dict(spec)


def test_catastrophic_regex_rule_votes_at_once():
    """``(a+)+$`` backtracks for seconds in ``re`` (issue 11); rules match in linear time."""
    rule = rule_from_dict({"kind": "regex", "label": "0", "pattern": "(a+)+$"})
    started = time.perf_counter()
    assert rule.vote(LabelItem(text="a" * 26 + "!" + "a" * 5000 + "!"), CLASSES) is None
    assert rule.vote(LabelItem(text="AAAA"), CLASSES) == "0"  # still case-insensitive
    assert time.perf_counter() - started < 0.1


def test_majority_vote_ties_and_empty_rows_abstain():
    m = np.array([[0, 0, 1], [0, 1, ABSTAIN], [ABSTAIN, ABSTAIN, ABSTAIN], [1, ABSTAIN, 1]])
    assert majority_vote(m, 2).tolist() == [0, ABSTAIN, ABSTAIN, 1]


def test_label_model_weights_a_reliable_rule_over_two_noisy_ones():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=2000)

    def noisy(acc: float) -> np.ndarray:
        return np.where(rng.random(truth.size) < acc, truth, 1 - truth)

    matrix = np.stack([noisy(0.95), noisy(0.6), noisy(0.6)], axis=1)
    mv = majority_vote(matrix, 2)
    model = LabelModel(2).fit(matrix)
    lm = model.predict(matrix)
    mv_acc, lm_acc = (mv == truth).mean(), (lm == truth).mean()
    assert mv_acc == pytest.approx(0.82, abs=0.03)  # hand-computed: 0.95*0.84 + 0.05*0.36
    assert lm_acc == pytest.approx(0.95, abs=0.02)
    assert model.accuracy[0] > 0.85 and model.accuracy[1:].max() < 0.7


def test_weak_labels_from_a_real_store_report_both_aggregators(tmp_path):
    with FeedbackStore(tmp_path / "fb.sqlite") as store:
        rows = [
            ("a great and wonderful film", "1", [("user", "1")]),
            ("a dull , boring film", "1", [("user", "0")]),
            ("great fun", "0", [("user", "down")]),
            ("boring", "0", []),  # no feedback: not an item
        ]
        for text, output, feedback in rows:
            pid = store.record_prediction({"text": text}, output)
            for source, label in feedback:
                store.record_feedback(pid, label, source)
        items = items_from_store(store)
    assert [i.text for i in items] == [r[0] for r in rows[:3]]
    rules = [
        rule_from_dict(s, i)
        for i, s in enumerate(
            [
                {"kind": "feedback", "source": "user"},
                {"kind": "confirm"},
                {"kind": "keyword", "label": "1", "keywords": ["great", "wonderful"]},
                {"kind": "keyword", "label": "0", "keywords": ["dull", "boring"]},
            ]
        )
    ]
    out = weak_labels(items, rules, CLASSES, gold=["1", "0", "1"])
    assert out.majority == ["1", "0", "1"]
    assert out.label_model == ["1", "0", "1"]
    assert out.report["gold_accuracy"]["majority"] == {"n": 3, "accuracy": 1.0}
    assert [r["coverage"] for r in out.report["rules"]] == pytest.approx(
        [2 / 3, 1 / 3, 2 / 3, 1 / 3]
    )
