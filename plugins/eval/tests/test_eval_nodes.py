"""The evaluator's node types run as the engine runs them, and the plugin stays light."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from core_helpers import assert_light_import

from autoglm.testing import run_node
from autoglm_eval.feedback import FeedbackStore
from autoglm_eval.nodes import CompareNode, GateNode, MetricsNode, WeakLabelsNode


def test_plugin_import_is_light():
    assert_light_import("autoglm_eval.plugin", ("torch", "sklearn", "scipy", "numpy"))


def test_plugin_registers_its_nodes(autoglm_host):
    host = autoglm_host(["eval"])
    for name in ("eval.metrics", "eval.compare", "eval.gate", "eval.weak_labels"):
        assert host.get_node_type(name).name == name


def test_metrics_node(tmp_path):
    out = run_node(MetricsNode, {}, {"y_true": [1, 0, 1, 1], "y_pred": [1, 0, 0, 1]}, home=tmp_path)
    assert out.accuracy == pytest.approx(0.75)
    assert out.report["confusion"]["matrix"] == [[1, 0], [1, 2]]
    assert out.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_compare_node_finds_a_real_gain(tmp_path):
    y = [1] * 60
    out = run_node(
        CompareNode,
        {"n_resamples": 1000},
        {"y_true": y, "pred_a": [1] * 30 + [0] * 30, "pred_b": [1] * 55 + [0] * 5},
        home=tmp_path,
    )
    assert out.delta == pytest.approx(25 / 60)
    assert out.significant and out.mcnemar["p_value"] < 1e-5 and out.bootstrap["ci_low"] > 0.2


def test_compare_node_names_a_length_mismatch(tmp_path):
    with pytest.raises(ValueError, match="pred_b: expected 3 labels"):
        run_node(
            CompareNode,
            {},
            {"y_true": [1, 1, 1], "pred_a": [1, 1, 1], "pred_b": [1]},
            home=tmp_path,
        )


def test_gate_node_records_its_decision(tmp_path):
    store = tmp_path / "fb.sqlite"
    out = run_node(
        GateNode,
        {"store": str(store), "task": "sst2", "n_resamples": 1000},
        {
            "y_true": [1] * 80,
            "champion_pred": [1] * 40 + [0] * 40,
            "challenger_pred": [1] * 70 + [0] * 10,
            "challenger": {"instruction": "new"},
        },
        home=tmp_path,
    )
    assert out.promoted and out.decision_id == 1
    with FeedbackStore(store) as fb:
        assert fb.get_champion("sst2") == {"instruction": "new"}
        assert fb.list_decisions()[0].payload["node_id"] == "node"


def test_weak_labels_node_writes_labelled_rows(tmp_path):
    store_path = tmp_path / "fb.sqlite"
    with FeedbackStore(store_path) as fb:
        for text, label in [("great", "1"), ("awful", "0"), ("meh", None)]:
            pid = fb.record_prediction(text, "1")
            if label:
                fb.record_feedback(pid, label, "user")
    out = run_node(
        WeakLabelsNode,
        {"store": str(store_path), "classes": ["0", "1"], "rules": [{"kind": "feedback"}]},
        home=tmp_path,
    )
    rows = [json.loads(line) for line in Path(out.data).read_text().splitlines()]
    assert rows == [{"text": "great", "label": "1"}, {"text": "awful", "label": "0"}]
    assert out.n == 2 and out.report["n_items"] == 2
