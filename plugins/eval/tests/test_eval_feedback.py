"""Feedback store round trip (real SQLite) and the champion/challenger gate."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from autoglm_eval.feedback import FeedbackStore, UnknownPrediction
from autoglm_eval.gate import GatePolicy, champion_challenger, decide


def test_round_trip_survives_reopening(tmp_path):
    path = tmp_path / "fb.sqlite"
    with FeedbackStore(path) as store:
        pid = store.record_prediction(
            {"text": "a fine film"}, "1", variant="v1", score=0.8, metadata={"ms": 3}
        )
        other = store.record_prediction("dull", "0", variant="v2", prediction_id="p-2")
        fb = store.record_feedback(pid, "1", "user", comment="right")
        store.record_feedback(other, "1", "reviewer")
    with FeedbackStore(path) as store:
        got = store.get_prediction(pid)
        assert got is not None
        assert (got.input, got.output, got.variant, got.score) == (
            {"text": "a fine film"},
            "1",
            "v1",
            0.8,
        )
        assert got.metadata == {"ms": 3}
        assert [p.id for p in store.list_predictions(variant="v2")] == ["p-2"]
        assert store.count_predictions() == 2
        items = store.list_feedback()
        assert [(f.prediction_id, f.label, f.source) for f in items] == [
            (pid, "1", "user"),
            ("p-2", "1", "reviewer"),
        ]
        assert items[0].comment == "right" and items[0].id == fb.id
        assert store.count_feedback(after_id=fb.id) == 1
        assert [f.source for f in store.list_feedback(source="reviewer")] == ["reviewer"]
        assert store.last_feedback_id() == items[1].id
        assert [p.id for p, _ in store.labelled_predictions(after_id=fb.id)] == ["p-2"]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_feedback_on_unknown_prediction_is_refused(tmp_path):
    with FeedbackStore(tmp_path / "fb.sqlite") as store:
        with pytest.raises(UnknownPrediction, match="prediction 'nope' not found"):
            store.record_feedback("nope", "1")
        with pytest.raises(TypeError, match="input: expected a JSON-serialisable"):
            store.record_prediction(object(), "1")
        assert store.count_feedback() == 0


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "fb.sqlite"
    store = FeedbackStore(path)
    pid = store.record_prediction("x", "1")

    def write(n: int) -> None:
        own = FeedbackStore(path)  # a second connection, as a second service worker would use
        for i in range(25):
            own.record_feedback(pid, str(i % 2), f"worker{n}")
        own.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_feedback() == 100
    store.close()


def _labels(n_right: int, n: int) -> list[str]:
    return ["1"] * n_right + ["0"] * (n - n_right)


def test_gate_refuses_a_challenger_that_is_not_significantly_better(tmp_path):
    y = ["1"] * 100
    champion = _labels(70, 100)
    challenger = _labels(72, 100)  # +2 points: could be luck
    with FeedbackStore(tmp_path / "fb.sqlite") as store:
        store.set_champion({"prompt": "old"})
        out = champion_challenger(
            store, y, champion, challenger, challenger={"prompt": "new"}, policy=GatePolicy()
        )
        assert out["promote"] is False
        assert "not significant" in out["reason"]
        assert store.get_champion() == {"prompt": "old"}
        (decision,) = store.list_decisions()
        assert decision.kind == "refusal"
        assert decision.payload["challenger"] == {"prompt": "new"}
        assert decision.payload["delta"] == pytest.approx(0.02)


def test_gate_promotes_a_significantly_better_challenger_and_records_both(tmp_path):
    y = ["1"] * 100
    with FeedbackStore(tmp_path / "fb.sqlite") as store:
        store.set_champion({"prompt": "old"})
        refused = champion_challenger(
            store, y, _labels(70, 100), _labels(70, 100), challenger={"prompt": "same"}
        )
        promoted = champion_challenger(
            store,
            y,
            _labels(70, 100),
            _labels(90, 100),
            challenger={"prompt": "new"},
            policy=GatePolicy(test="mcnemar"),
        )
        assert not refused["promote"] and promoted["promote"]
        assert promoted["test"]["only_b"] == 20 and promoted["test"]["p_value"] < 0.001
        assert store.get_champion() == {"prompt": "new"}
        kinds = [d.kind for d in store.list_decisions()]
        assert kinds == ["refusal", "promotion"]
        assert store.list_decisions("promotion")[0].payload["champion_before"] == {"prompt": "old"}


def test_gate_thresholds_apply_even_when_significant():
    y = ["1"] * 400
    policy = GatePolicy(min_absolute_change=0.1)
    out = decide(y, _labels(200, 400), _labels(230, 400), policy)
    assert out["test"]["p_value"] < 0.05
    assert not out["promote"] and "min_absolute_change" in out["reason"]
    assert decide(y, None, _labels(1, 400))["reason"] == "no champion yet"


def test_a_new_feedback_database_is_readable_by_its_owner_only(tmp_path):
    """Feedback holds users' inputs and verdicts: 0600 whatever the umask, as the run store."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = tmp_path / "home" / "feedback.sqlite"
        with FeedbackStore(path) as store:
            store.record_prediction({"text": "hi"}, "greet")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for extra in path.parent.glob("feedback.sqlite-*"):
            assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0
    finally:
        os.umask(old)
