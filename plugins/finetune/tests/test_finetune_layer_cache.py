"""Frozen-bottom caching, length-bucketed batches and the probe blend, on a tiny BERT."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from autoglm import Choice, FloatRange, IntRange
from autoglm.space import search_space
from autoglm.testing import run_node
from autoglm_finetune.config import ClassifierConfig
from autoglm_finetune.nodes import ClassifierNode, PredictNode

TEXTS = [
    "wake me up at seven tomorrow",
    "hi",
    "what is the weather going to be like in paris on saturday afternoon",
    "play some jazz",
    "send an email to my boss saying i will be late for the meeting",
]


@pytest.fixture()
def tiny(tiny_encoder):
    from autoglm_finetune.encoder_train import load_trainable

    model, tokenizer = load_trainable(tiny_encoder)
    return model.eval(), tokenizer


@pytest.mark.parametrize("frozen", [0, 1])
def test_cached_bottom_layers_give_the_full_models_embeddings(tiny, frozen):
    import torch

    from autoglm_finetune import layer_cache as lc
    from autoglm_finetune.encoder_train import embed_batch

    model, tokenizer = tiny
    with torch.no_grad():
        full = embed_batch(model, tokenizer, TEXTS, 32).numpy()
    states = lc.bottom_states(model, tokenizer, TEXTS, 32, frozen, batch_size=2)
    # One unpadded tensor per text, in the caller's order.
    lengths = [len(tokenizer(t)["input_ids"]) for t in TEXTS]
    assert [s.shape[0] for s in states] == lengths
    np.testing.assert_allclose(
        lc.embed_states(model, states, frozen, batch_size=2), full, atol=1e-5
    )


def test_length_buckets_keep_every_text_once_and_outputs_in_order(tiny):
    from autoglm_finetune import layer_cache as lc

    lengths = [random.Random(1).randint(3, 30) for _ in range(200)]
    batches = lc.length_batches(lengths, 8, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(200))
    # Within a batch, lengths are close: far less padding than random batches would need.
    waste = sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)
    assert waste < 0.2 * sum(lengths)
    # Bucketed, batched embedding equals embedding each text alone, row for row.
    model, tokenizer = tiny
    states = lc.bottom_states(model, tokenizer, TEXTS, 32, 1, batch_size=3)
    alone = np.concatenate([lc.embed_states(model, [s], 1) for s in states])
    np.testing.assert_allclose(lc.embed_states(model, states, 1, batch_size=3), alone, atol=1e-5)


def test_paired_batches_give_every_text_a_partner_of_its_label():
    from autoglm_finetune import layer_cache as lc
    from autoglm_finetune.encoder_train import supervised_contrastive

    rng = random.Random(3)
    targets = [i % 64 for i in range(64 * 6)] + [5]  # 64 labels x 6 texts, and one odd text
    lengths = [rng.randint(3, 30) for _ in targets]
    batches = lc.paired_batches(lengths, targets, 32, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(len(targets)))
    assert max(len(b) for b in batches) == 32
    # Every text but label 5's odd one has a same-label partner in its batch.
    alone = [i for b in batches for i in b if sum(targets[j] == targets[i] for j in b) < 2]
    assert len(alone) <= 1 and all(targets[i] == 5 for i in alone)
    # Random length batches of the same texts leave most of them without one.
    plain = lc.length_batches(lengths, 32, random.Random(0))
    alone_plain = [i for b in plain for i in b if sum(targets[j] == targets[i] for j in b) < 2]
    assert len(alone_plain) > len(targets) // 4
    # So the contrastive term has anchors in a paired batch; with no partners it has none.
    import torch

    embedded = torch.nn.functional.normalize(torch.randn(32, 8, generator=torch.manual_seed(0)))
    paired = torch.tensor([targets[i] for i in next(b for b in batches if len(b) == 32)])
    assert float(supervised_contrastive(embedded, paired, 0.1)) > 0.0
    assert float(supervised_contrastive(embedded, torch.arange(32), 0.1)) == 0.0
    assert lc.paired_batches(lengths, targets, 32, random.Random(0)) == batches  # seeded


def test_frozen_layers_stay_put_and_layer_decay_scales_learning_rates(tiny):
    from autoglm_finetune import layer_cache as lc

    model, _ = tiny
    groups = lc.trainable_groups(model, 1, lr=1e-3, layer_decay=0.5)
    assert [g["lr"] for g in groups] == [1e-3]
    assert not any(p.requires_grad for p in model.embeddings.parameters())
    assert not any(p.requires_grad for p in model.encoder.layer[0].parameters())
    assert all(p.requires_grad for p in model.encoder.layer[1].parameters())
    assert [g["lr"] for g in lc.trainable_groups(model, 0, 1e-3, 0.5)] == [1e-3, 5e-4]


def test_blend_weight_is_chosen_on_validation():
    from autoglm_finetune.ensemble import choose_weight

    # The fine-tune is confidently wrong on row 0, the probe on row 1: only a blend gets both.
    own = np.array([[0.45, 0.55], [0.9, 0.1], [0.2, 0.8]])
    probe = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    weight, accuracy = choose_weight(own, probe, [0, 0, 1])
    assert accuracy == 1.0 and 0 < weight < 1
    # Nothing to gain: the fine-tune alone (weight 0), not an arbitrary tie.
    assert choose_weight(own, probe, [1, 0, 1]) == (0.0, 1.0)


def test_blend_margin_keeps_the_finetune_alone_unless_the_blend_wins_by_it():
    from autoglm_finetune.ensemble import choose_weight

    own = np.array([[0.45, 0.55], [0.9, 0.1], [0.2, 0.8]])
    probe = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    # Alone: 2 of 3 right; the best blend: 3 of 3, a gain of one row in three.
    weight, accuracy = choose_weight(own, probe, [0, 0, 1], margin=0.3)
    assert 0 < weight < 1 and accuracy == 1.0
    assert choose_weight(own, probe, [0, 0, 1], margin=0.5) == (0.0, pytest.approx(2 / 3))


def test_new_options_are_declared_for_the_tuner():
    space = search_space(ClassifierConfig)
    assert space["frozen_layers"] == IntRange(0, 5)
    assert space["layer_decay"] == FloatRange(0.5, 1.0)
    assert space["label_smoothing"] == FloatRange(0.0, 0.2)
    assert space["ensemble"] == Choice(["none", "probe"])
    assert space["seeds"] == IntRange(1, 4)
    assert "blend_margin" not in space  # a rule against noise, not a hyperparameter
    defaults = ClassifierConfig()
    assert (defaults.frozen_layers, defaults.epochs, defaults.seeds) == (1, 3, 2)
    assert space["frozen_layers"].low <= defaults.frozen_layers <= space["frozen_layers"].high
    assert space["seeds"].low <= defaults.seeds <= space["seeds"].high


def test_cached_finetune_with_probe_blend_reloads_and_predicts(hwu4, tiny_encoder, tmp_path):
    import torch

    home = tmp_path / "home"
    config = {
        "encoder": tiny_encoder,
        "epochs": 6,
        "lr": 2e-3,
        "head_lr": 5e-3,
        "batch_size": 16,
        "max_length": 32,
        "frozen_layers": 1,
        "layer_decay": 0.8,
        "label_smoothing": 0.1,
        "ensemble": "probe",
        "blend_margin": 0.0,
        "seeds": 1,
        "C": 10.0,
    }
    out = run_node(ClassifierNode, config, hwu4, home=home)
    # The blend is chosen on validation: never below the best epoch alone (weight 0 is a choice).
    assert out.blend_weight is not None
    assert out.val_accuracy >= max(h["val"] for h in out.history)
    assert out.test_accuracy >= 0.7
    root = Path(out.checkpoint)
    meta = json.loads((root / "classifier.json").read_text())
    assert meta.get("blend", {}).get("weight", 0.0) == out.blend_weight
    # The frozen bottom layer was saved untouched; the top one was trained.
    from transformers import AutoModel

    before, after = (
        AutoModel.from_pretrained(tiny_encoder),
        AutoModel.from_pretrained(root / "encoder"),
    )
    for name, value in before.encoder.layer[0].state_dict().items():
        assert torch.equal(value, after.encoder.layer[0].state_dict()[name]), name
    assert not torch.equal(
        before.encoder.layer[1].output.dense.weight, after.encoder.layer[1].output.dense.weight
    )
    moved = shutil.copytree(root, tmp_path / "moved")  # nothing absolute inside
    again = run_node(PredictNode, {}, {"checkpoint": str(moved), "data": hwu4["test"]}, home=home)
    assert again.predictions == out.test_predictions


def test_a_blended_checkpoint_reloads_as_the_weighted_average(hwu4, tiny_encoder, tmp_path):
    from autoglm_finetune.checkpoint import PROBE_HEAD, load_classifier
    from autoglm_finetune.heads import Head

    config = {
        "encoder": tiny_encoder,
        "epochs": 1,
        "max_length": 32,
        "ensemble": "none",
        "seeds": 1,
    }
    out = run_node(ClassifierNode, config, hwu4, home=tmp_path / "home")
    root = Path(out.checkpoint)
    texts = ["set an alarm for six", "is it raining", "play my workout playlist"]
    alone = load_classifier(root).probabilities(texts)
    # A probe head on the frozen tiny encoder, weight 0.3, written as the node writes a blend.
    rng = np.random.default_rng(0)
    probe = Head([(rng.normal(size=(64, 4)).astype("float32"), np.zeros(4, "float32"))])
    probe.save(root / PROBE_HEAD)
    meta = json.loads((root / "classifier.json").read_text())
    meta["blend"] = {"encoder": tiny_encoder, "weight": 0.3}
    (root / "classifier.json").write_text(json.dumps(meta))
    blended = load_classifier(root)
    other = probe.probabilities(blended.blend.encoder.embed(texts))
    np.testing.assert_allclose(blended.probabilities(texts), 0.7 * alone + 0.3 * other, atol=1e-6)
