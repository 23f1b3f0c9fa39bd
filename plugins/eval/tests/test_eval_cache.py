"""The eval nodes that read the feedback store are cached on what they read: new feedback (or a
new champion) recomputes them, and a rerun with nothing new is still a cache hit. Real engine,
real run store, real feedback store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autoglm.engine import Engine, RunResult
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow
from autoglm_eval.feedback import FeedbackStore, store_fingerprint

WEAK_LABELS = """
nodes:
  - id: labels
    type: eval.weak_labels
    config: {rules: [{kind: feedback}], classes: ["neg", "pos"], method: majority}
outputs:
  n: $labels.n
"""

GATE = """
nodes:
  - id: gate
    type: eval.gate
    config: {task: demo, n_resamples: 200}
    inputs:
      y_true: [pos, neg, pos, neg]
      champion_pred: [pos, pos, pos, pos]
      challenger_pred: [pos, neg, pos, neg]
      challenger: {prompt: v2}
outputs:
  promoted: $gate.promoted
"""


def add_feedback(path: Path, count: int) -> None:
    with FeedbackStore(path) as store:
        for i in range(count):
            pid = store.record_prediction({"text": f"review {i}"}, "pos")
            store.record_feedback(pid, "neg" if i % 2 else "pos", "user")


def run(engine: Engine, text: str) -> tuple[RunResult, list[str]]:
    result = engine.run(parse_workflow(text, engine.host))
    assert result.status == "succeeded", result.error
    return result, [node.status for node in result.nodes.values()]


def test_new_feedback_recomputes_weak_labels_and_no_change_is_a_hit(autoglm_home, autoglm_host):
    engine = Engine(autoglm_host(["eval"]), RunStore(autoglm_home / "runs.sqlite"))
    feedback = autoglm_home / "feedback.sqlite"
    add_feedback(feedback, 14)
    first, states = run(engine, WEAK_LABELS)
    assert first.outputs == {"n": 14} and states == ["succeeded"]
    again, states = run(engine, WEAK_LABELS)
    assert again.outputs == {"n": 14} and states == ["cached"]
    add_feedback(feedback, 22)
    grown, states = run(engine, WEAK_LABELS)
    assert grown.outputs == {"n": 36} and states == ["succeeded"]
    _, states = run(engine, WEAK_LABELS)
    assert states == ["cached"]


def test_the_gate_is_reused_only_while_the_champion_is_unchanged(autoglm_home, autoglm_host):
    engine = Engine(autoglm_host(["eval"]), RunStore(autoglm_home / "runs.sqlite"))
    with FeedbackStore(autoglm_home / "feedback.sqlite") as store:
        store.set_champion({"prompt": "v1"}, "demo")
    _, states = run(engine, GATE)
    assert states == ["succeeded"]
    _, states = run(engine, GATE)
    assert states == ["cached"]
    with FeedbackStore(autoglm_home / "feedback.sqlite") as store:
        store.set_champion({"prompt": "v3"}, "demo")  # another gate promoted something else
        decisions = len(store.list_decisions())
    _, states = run(engine, GATE)
    assert states == ["succeeded"]
    with FeedbackStore(autoglm_home / "feedback.sqlite") as store:
        assert len(store.list_decisions()) == decisions + 1
        assert store.list_decisions()[-1].payload["champion_before"] == {"prompt": "v3"}


def test_the_fingerprint_only_reads(tmp_path):
    missing = tmp_path / "none.sqlite"
    assert store_fingerprint(missing) == "absent" and not missing.exists()
    foreign = tmp_path / "keys.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE keys (id TEXT)")
    assert store_fingerprint(foreign).startswith("unreadable")
    with sqlite3.connect(foreign) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["keys"]  # no feedback tables were added to someone else's database
    add_feedback(tmp_path / "feedback.sqlite", 3)
    with FeedbackStore(tmp_path / "feedback.sqlite") as store:
        assert store.fingerprint("x") == store_fingerprint(tmp_path / "feedback.sqlite", "x")
