"""``prompt.reoptimise`` is cached on the feedback store it reads, and commits its outcome and
its watermark together: a crash loses no feedback, and a champion given by file survives a
refused challenger. Real engine, real stores, the real encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.testing import make_context, run_node
from autoglm.workflow import parse_workflow
from autoglm_eval.feedback import FeedbackStore
from autoglm_prompt.nodes import ReoptimiseNode
from autoglm_prompt.reoptimise import watermark_key

CHAMPION = {
    "verbalizers": {"0": "bad", "1": "good"},
    "template": "Text: {text}\nAnswer: {label}",
}

SKIPPING = """
nodes:
  - id: reopt
    type: prompt.reoptimise
    config:
      task: demo
      threshold: 1000
      space: {instructions: [""], verbalizers: {"0": [bad], "1": [good]}, shots: [0]}
outputs:
  new: $reopt.new_feedback
"""


def add_feedback(path: Path, rows: list[dict]) -> None:
    with FeedbackStore(path) as store:
        for row in rows:
            pid = store.record_prediction({"text": row["text"]}, "1", variant="weak")
            store.record_feedback(pid, row["label"], "user")


def test_a_rerun_sees_new_feedback_and_is_a_hit_without_it(autoglm_home, autoglm_host):
    engine = Engine(autoglm_host(["prompt", "eval"]), RunStore(autoglm_home / "runs.sqlite"))
    workflow = parse_workflow(SKIPPING, engine.host)
    feedback = autoglm_home / "feedback.sqlite"
    add_feedback(feedback, [{"text": f"t{i}", "label": str(i % 2)} for i in range(30)])

    def run() -> tuple[int, str]:
        result = engine.run(workflow)
        assert result.status == "succeeded", result.error
        return result.outputs["new"], result.nodes["reopt"].status

    assert run() == (30, "succeeded")
    assert run() == (30, "cached")
    add_feedback(feedback, [{"text": f"u{i}", "label": "1"} for i in range(20)])
    assert run() == (50, "succeeded")
    assert run() == (50, "cached")


@pytest.fixture
def refusing(tmp_path: Path, sst2: dict, space_spec: dict) -> dict:
    """A store with 60 labelled rows and no champion, a champion file, and a gate that refuses
    every challenger (it would need +100 points of accuracy)."""
    db = tmp_path / "feedback.sqlite"
    add_feedback(db, sst2["opt"][:60])
    champion = tmp_path / "champion.json"
    champion.write_text(json.dumps(CHAMPION))
    config = {
        "store": str(db),
        "task": "sst2",
        "threshold": 10,
        "space": space_spec,
        "candidates": 4,
        "min_absolute_change": 1.0,
    }
    return {"db": db, "champion": str(champion), "config": config, "home": tmp_path / "home"}


@pytest.mark.slow
def test_a_refused_challenger_keeps_the_champion_of_the_file(refusing: dict) -> None:
    out = run_node(
        ReoptimiseNode,
        refusing["config"],
        {"champion": refusing["champion"]},
        home=refusing["home"],
    )
    assert out.triggered and not out.promoted and out.n_labelled == 60
    assert "min_absolute_change" in out.reason
    written = json.loads(Path(out.champion).read_text())
    assert written["verbalizers"] == CHAMPION["verbalizers"]
    with FeedbackStore(refusing["db"]) as store:
        assert [d.kind for d in store.list_decisions()] == ["refusal"]
        assert store.get_state(watermark_key("sst2")) == store.last_feedback_id()


@pytest.mark.slow
def test_a_crash_before_the_commit_loses_no_feedback(refusing: dict) -> None:
    home = refusing["home"]
    context = make_context(home, node_id="reopt", node_type="prompt.reoptimise")
    blocker = context.artifacts_dir / "champion.json"
    blocker.mkdir()  # writing the champion file fails: the whole outcome must roll back
    with pytest.raises(IsADirectoryError):
        run_node(
            ReoptimiseNode,
            refusing["config"],
            {"champion": refusing["champion"]},
            home=home,
            context=context,
        )
    with FeedbackStore(refusing["db"]) as store:
        assert store.list_decisions() == []
        assert store.get_state(watermark_key("sst2")) is None
        assert store.get_champion("sst2") is None
    blocker.rmdir()
    again = run_node(
        ReoptimiseNode,
        refusing["config"],
        {"champion": refusing["champion"]},
        home=home,
        context=context,
    )
    assert again.triggered and again.new_feedback == 60 and again.n_labelled == 60
