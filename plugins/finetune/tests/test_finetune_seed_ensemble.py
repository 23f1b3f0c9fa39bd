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


def test_observers_see_every_step_and_epoch_and_change_nothing(hwu4, tiny_encoder):
    """Observers (bench/finetune_variants.py's weight averages) are called after each
    optimiser step and at each epoch's end with the trained parameters, and a read-only
    observer leaves the training bit for bit as it is without one."""
    import torch

    from autoglm_finetune import encoder_train as et
    from autoglm_finetune.data import load_splits

    splits = load_splits(hwu4["train"], hwu4["validation"], None, validation_fraction=0.1, seed=0)
    train = (splits.texts("train"), splits.targets("train"))
    validation = (splits.texts("validation"), splits.targets("validation"))
    settings = et.TrainSettings(
        lr=2e-3, head_lr=5e-3, epochs=2, batch_size=16, max_length=32, frozen_layers=1, patience=5
    )
    steps, epochs = [], []

    def after_step(params):
        steps.append(float(sum(p.detach().sum() for p in params)))

    def after_epoch(epoch, model, head, params):
        assert params[-1] is head.bias and all(p.requires_grad for p in params)
        with torch.no_grad():
            epochs.append((epoch, head.weight.detach().clone()))

    def train_once(observers):
        model, tokenizer = et.load_trainable(tiny_encoder)
        head, history, _ = et.finetune_classifier(
            model, tokenizer, train, validation, len(splits.labels), settings, observers=observers
        )
        return head, history

    watched = train_once(et.Observers(after_step, after_epoch))
    alone = train_once(None)
    per_epoch = -(-len(train[0]) // settings.batch_size)
    assert len(steps) == 2 * per_epoch and len(set(steps)) == len(steps)  # weights moved each step
    assert [e for e, _ in epochs] == [1, 2]
    assert not torch.equal(epochs[0][1], epochs[1][1])
    np.testing.assert_array_equal(watched[0][0], alone[0][0])
    assert [h["val"] for h in watched[1]] == [h["val"] for h in alone[1]]
