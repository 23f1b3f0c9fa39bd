"""The prompt node types run as the engine runs them, on real SST-2 data and the real encoder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autoglm.testing import make_context, run_node
from autoglm_eval.feedback import FeedbackStore
from autoglm_prompt.budget import BudgetError
from autoglm_prompt.data import write_jsonl
from autoglm_prompt.nodes import (
    BaselineNode,
    EvaluateNode,
    LoadNode,
    OptimiseNode,
    ReoptimiseNode,
    SplitNode,
)

WEAK = {"verbalizers": {"0": "bad", "1": "good"}}


def test_plugin_import_is_light():
    code = (
        "import sys, autoglm_prompt.plugin\n"
        "heavy = {'torch', 'transformers', 'nevergrad', 'numpy', 'sklearn'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plugin_registers_its_nodes(autoglm_host):
    host = autoglm_host(["prompt", "eval"])
    for name in (
        "prompt.load",
        "prompt.split",
        "prompt.optimise",
        "prompt.evaluate",
        "prompt.baseline",
        "prompt.reoptimise",
    ):
        assert host.get_node_type(name).name == name


def test_load_split_optimise_evaluate_chain(tmp_path, space_spec):
    home = tmp_path / "home"
    loaded = run_node(LoadNode, {"path": "sst2/dev.tsv", "limit": 160}, home=home)
    assert loaded.n == 160 and loaded.labels == ["0", "1"]
    split = run_node(SplitNode, {"heldout_fraction": 0.5}, {"data": loaded.data}, home=home)
    assert (split.n_train, split.n_heldout) == (80, 80)
    heldout = {json.loads(line)["text"] for line in Path(split.heldout).read_text().splitlines()}

    progress = []
    context = make_context(home, node_id="optimise", node_type="prompt.optimise")
    context.progress_callback = lambda node, done, total, message: progress.append((done, total))
    config = {"space": space_spec, "candidates": 10, "max_calls": 5000}
    out = run_node(OptimiseNode, config, {"train": split.train}, home=home, context=context)
    assert out.best_score >= out.start_score and out.calls <= out.estimated_calls <= 5000
    # The report carries the centroid and probe baselines on the same pool and dev rows.
    assert 0.5 <= out.baselines["centroid"] <= 1 and 0.5 <= out.baselines["probe"] <= 1
    assert progress and progress[-1][0] == out.candidates_scored
    journal = context.journal_read("prompt.candidate")
    assert len(journal) == out.candidates_scored and context.journal_read("prompt.plan")
    prompt = json.loads(Path(out.prompt).read_text())
    assert not {e["text"] for e in prompt["examples"]} & heldout  # few-shot never held out

    base = run_node(BaselineNode, {"prompts": [WEAK]}, {"data": split.train}, home=home)
    assert base.best_index == 0 and len(base.scores) == 1
    best = run_node(EvaluateNode, {}, {"data": split.heldout, "prompt": out.prompt}, home=home)
    weak = run_node(EvaluateNode, {"prompt": WEAK}, {"data": split.heldout}, home=home)
    assert len(best.y_pred) == 80 and best.report["n"] == 80
    assert best.accuracy > weak.accuracy


def test_optimise_node_refuses_an_over_budget_plan(tmp_path, space_spec):
    rows = [{"text": f"sentence {i}", "label": str(i % 2)} for i in range(40)]
    train = write_jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(BudgetError, match="over the budget of 10"):
        run_node(
            OptimiseNode, {"space": space_spec, "max_calls": 10}, {"train": train}, home=tmp_path
        )


def _feedback(store: FeedbackStore, rows: list[dict], source: str) -> None:
    for row in rows:
        pid = store.record_prediction({"text": row["text"]}, "1", variant="weak")
        store.record_feedback(pid, row["label"], source)


def test_reoptimise_waits_for_feedback_then_gates_the_challenger(tmp_path, sst2, space_spec):
    home = tmp_path / "home"
    db = tmp_path / "feedback.sqlite"
    champion = tmp_path / "weak.json"
    champion.write_text(json.dumps({**WEAK, "template": "Text: {text}\nAnswer: {label}"}))
    config = {
        "store": str(db),
        "task": "sst2",
        "threshold": 100,
        "space": space_spec,
        "candidates": 8,
    }
    with FeedbackStore(db) as store:
        _feedback(store, sst2["opt"][:30], "user")
    skipped = run_node(ReoptimiseNode, config, {"champion": str(champion)}, home=home)
    assert not skipped.triggered and "30 new feedback rows < threshold 100" in skipped.reason

    with FeedbackStore(db) as store:
        _feedback(store, sst2["opt"][30:], "user")
    first = run_node(ReoptimiseNode, config, {"champion": str(champion)}, home=home)
    assert first.triggered and first.n_labelled == 120 and first.promoted, first.reason
    with FeedbackStore(db) as store:
        assert store.get_champion("sst2") != json.loads(champion.read_text())
        _feedback(store, sst2["pool"][:100], "reviewer")
    second = run_node(
        ReoptimiseNode,
        {**config, "min_absolute_change": 0.05},
        {"champion": str(champion)},
        home=home,
    )
    assert second.triggered and not second.promoted
    with FeedbackStore(db) as store:
        kinds = [d.kind for d in store.list_decisions()]
        assert kinds == ["skip", "promotion", "refusal"]
        promotion = store.list_decisions("promotion")[0].payload
        assert promotion["weak_labels"]["coverage"]["label_model"] == 1.0
        assert store.get_champion("sst2") == promotion["challenger"]
