"""Seeded fine-tune members (``seeds``): shared frozen states, averaged probabilities, and a
checkpoint holding every member that reloads and predicts the same, on a tiny BERT."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from autoglm.testing import run_node
from autoglm_finetune.nodes import ClassifierNode, PredictNode

CONFIG = {
    "epochs": 3,
    "lr": 2e-3,
    "head_lr": 5e-3,
    "batch_size": 16,
    "max_length": 32,
    "frozen_layers": 1,
    "ensemble": "none",
    "seeds": 2,
}


def test_average_is_the_members_mean():
    from autoglm_finetune.ensemble import average

    a, b = np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.6, 0.4], [1.0, 0.0]])
    np.testing.assert_allclose(average([a, b]), [[0.4, 0.6], [0.8, 0.2]])
    np.testing.assert_array_equal(average([a]), a)


def test_members_share_the_frozen_states_and_differ_by_seed(hwu4, tiny_encoder, monkeypatch):
    from autoglm_finetune import encoder_train as et
    from autoglm_finetune import layer_cache as lc
    from autoglm_finetune.data import load_splits

    calls = []
    original = lc.bottom_states
    monkeypatch.setattr(
        lc, "bottom_states", lambda *a, **k: calls.append(len(a[2])) or original(*a, **k)
    )
    splits = load_splits(hwu4["train"], hwu4["validation"], None, validation_fraction=0.1, seed=0)
    train = (splits.texts("train"), splits.targets("train"))
    validation = (splits.texts("validation"), splits.targets("validation"))
    settings = et.TrainSettings(
        lr=2e-3, head_lr=5e-3, epochs=2, batch_size=16, max_length=32, frozen_layers=1
    )
    seen: list[tuple[int, int]] = []
    members = et.finetune_members(
        lambda: et.load_trainable(tiny_encoder)[0],
        et.load_trainable(tiny_encoder)[1],
        train,
        validation,
        len(splits.labels),
        settings,
        2,
        progress=lambda done, total, message: seen.append((done, total)),
    )
    # Train and validation states once for both members, not once per member.
    assert calls == [len(train[0]), len(validation[0])]
    assert len(members) == 2 and members[0].model is not members[1].model
    assert not np.allclose(members[0].head[0], members[1].head[0])  # seeds 0 and 1
    # Progress runs over both members to one end.
    assert seen[-1][0] == seen[-1][1] and max(d for d, _ in seen) == seen[-1][1]


def test_two_seeds_average_probabilities_and_reload(hwu4, tiny_encoder, tmp_path):
    import torch

    from autoglm_finetune.checkpoint import load_classifier
    from autoglm_finetune.heads import Head
    from autoglm_hf.api import from_spec

    home = tmp_path / "home"
    out = run_node(ClassifierNode, {"encoder": tiny_encoder, **CONFIG}, hwu4, home=home)
    root = Path(out.checkpoint)
    meta = json.loads((root / "classifier.json").read_text())
    assert meta["members"] == [{"encoder": "encoder_1", "head": "head_1.npz"}]
    assert {h["member"] for h in out.history} == {1, 2}
    assert out.test_accuracy >= 0.7
    # The frozen bottom layer is the same pretrained layer in both; the top layers differ.
    from transformers import AutoModel

    first, second = (AutoModel.from_pretrained(root / d) for d in ("encoder", "encoder_1"))
    for name, value in first.encoder.layer[0].state_dict().items():
        assert torch.equal(value, second.encoder.layer[0].state_dict()[name]), name
    assert not torch.equal(
        first.encoder.layer[1].output.dense.weight, second.encoder.layer[1].output.dense.weight
    )
    # Reloaded: the probabilities are the mean of the two members', each on its own encoder.
    texts = ["set an alarm for six", "is it raining", "play my workout playlist", "email mom"]
    classifier = load_classifier(root)
    alone = [
        Head.load(root / head).probabilities(
            from_spec({"kind": "hf-encoder", "model": str(root / encoder)}).embed(texts)
        )
        for encoder, head in (("encoder", "head.npz"), ("encoder_1", "head_1.npz"))
    ]
    assert not np.allclose(alone[0], alone[1])
    np.testing.assert_allclose(
        classifier.probabilities(texts), (alone[0] + alone[1]) / 2, atol=1e-6
    )
    # A moved copy (nothing absolute inside) predicts the test set as the node reported.
    moved = shutil.copytree(root, tmp_path / "moved")
    again = run_node(PredictNode, {}, {"checkpoint": str(moved), "data": hwu4["test"]}, home=home)
    assert again.predictions == out.test_predictions
    assert again.accuracy == pytest.approx(out.test_accuracy)
