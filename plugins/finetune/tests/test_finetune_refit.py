"""The refit (``refit: true``; off by default): validation chooses each member's epochs and the
blend, then the members train again on train + validation and the checkpoint holds these. On a
tiny BERT, so every step runs for real in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoglm.testing import run_node
from autoglm_finetune.nodes import ClassifierNode, PredictNode

CONFIG = {
    "epochs": 4,
    "lr": 2e-3,
    "head_lr": 5e-3,
    "batch_size": 16,
    "max_length": 32,
    "frozen_layers": 1,
    "patience": 1,
    "ensemble": "none",
    "seeds": 2,
}


@pytest.fixture(scope="module")
def both(hwu4, tiny_encoder, tmp_path_factory):
    """The same node with and without the refit (same seeds, so the same validated members)."""
    home = tmp_path_factory.mktemp("refit-home")
    other = tmp_path_factory.mktemp("validated-home")  # its own artifacts folder
    config = {"encoder": tiny_encoder, **CONFIG}
    return (
        run_node(ClassifierNode, {**config, "refit": True}, hwu4, home=home),
        run_node(ClassifierNode, {**config, "refit": False}, hwu4, home=other),
        home,
    )


def test_refit_reports_the_validated_members_and_keeps_the_refitted_ones(both, hwu4):
    refitted, validated_only, home = both
    assert refitted.refit and not validated_only.refit
    # Validation saw the same members both times; the refit does not change what it measured.
    assert refitted.val_accuracy == pytest.approx(validated_only.val_accuracy)
    # The validated members' test accuracy is what the node without refit reports.
    assert refitted.test_accuracy_validated == pytest.approx(validated_only.test_accuracy)
    assert validated_only.test_accuracy_validated is None
    # The checkpoint is the refitted one, and it reloads to the predictions reported.
    again = run_node(
        PredictNode, {}, {"checkpoint": refitted.checkpoint, "data": hwu4["test"]}, home=home
    )
    assert again.predictions == refitted.test_predictions
    assert refitted.test_accuracy >= 0.7


def test_each_refit_member_repeats_the_epochs_its_validated_twin_kept(both):
    refitted, _, _ = both
    for member in (1, 2):
        rows = [h for h in refitted.history if h["member"] == member]
        validated = [h for h in rows if not h.get("refit")]
        again = [h for h in rows if h.get("refit")]
        scores = [h["val"] for h in validated]
        assert len(again) == scores.index(max(scores)) + 1
        assert all("val" not in h for h in again)  # nothing left to validate on


def test_refit_skips_validation_rows_whose_label_training_never_saw(hwu4, tiny_encoder, tmp_path):
    rows = [json.loads(line) for line in Path(hwu4["validation"]).read_text().splitlines()]
    rows.append({"text": "book me a table for two", "label": "restaurant_booking"})
    validation = tmp_path / "val.jsonl"
    validation.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = {"encoder": tiny_encoder, **CONFIG, "seeds": 1, "epochs": 2, "refit": True}
    out = run_node(
        ClassifierNode, config, {**hwu4, "validation": str(validation)}, home=tmp_path / "home"
    )
    assert out.refit and "restaurant_booking" not in out.labels


def test_supervised_contrastive_loss_rewards_same_label_neighbours():
    import torch

    from autoglm_finetune.encoder_train import supervised_contrastive

    labels = torch.tensor([0, 0, 1, 1])
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    grouped = torch.stack([a, a, b, b])  # each text beside its label's partner
    mixed = torch.stack([a, b, a, b])  # each text beside the other label
    assert supervised_contrastive(grouped, labels, 0.1) < supervised_contrastive(mixed, labels, 0.1)
    # A batch where no text has a partner of its label contributes nothing, and stays finite.
    alone = supervised_contrastive(grouped, torch.tensor([0, 1, 2, 3]), 0.1)
    assert alone.item() == 0.0


@pytest.mark.parametrize("extra", [{"contrastive_weight": 0.5}, {"consistency_weight": 1.0}])
def test_an_extra_loss_term_changes_training_and_still_reloads(extra, hwu4, tiny_encoder, tmp_path):
    config = {"encoder": tiny_encoder, **CONFIG, "seeds": 1, "epochs": 2}
    plain = run_node(
        ClassifierNode,
        {**config, "contrastive_weight": 0.0, "consistency_weight": 0.0},
        hwu4,
        home=tmp_path / "a",
    )
    mixed = run_node(ClassifierNode, {**config, **extra}, hwu4, home=tmp_path / "b")
    assert [h["loss"] for h in plain.history] != [h["loss"] for h in mixed.history]
    again = run_node(
        PredictNode, {}, {"checkpoint": mixed.checkpoint, "data": hwu4["test"]}, home=tmp_path / "b"
    )
    assert again.predictions == mixed.test_predictions and mixed.test_accuracy >= 0.7


def test_consistency_loss_is_cross_entropy_plus_the_passes_disagreement():
    import torch

    from autoglm_finetune.encoder_train import TrainSettings, classification_loss

    targets = torch.tensor([0, 1, 2])
    first = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    other = torch.tensor([[0.0, 2.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 3.0]])
    plain = TrainSettings(label_smoothing=0.1)
    rdrop = TrainSettings(label_smoothing=0.1, consistency_weight=1.0)
    ce = torch.nn.functional.cross_entropy(first, targets, label_smoothing=0.1)
    calls = []

    def second_pass(logits=other):
        calls.append(1)
        return logits

    # Off: one pass, the plain cross-entropy, and no second pass is run.
    assert torch.isclose(classification_loss(first, targets, plain, second_pass), ce)
    assert not calls
    # Two identical passes: nothing to disagree about, so the same cross-entropy.
    assert torch.isclose(classification_loss(first, targets, rdrop, lambda: first.clone()), ce)
    # Passes that disagree: the mean of their cross-entropies plus a positive KL term.
    ce_other = torch.nn.functional.cross_entropy(other, targets, label_smoothing=0.1)
    loss = classification_loss(first, targets, rdrop, second_pass)
    assert calls and loss > 0.5 * (ce + ce_other) + 0.1
