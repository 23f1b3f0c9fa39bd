"""The finetune nodes on real data (HWU64 slices) with real models, as the engine runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoglm import Choice, FloatRange
from autoglm.space import search_space
from autoglm.testing import make_context, run_node
from autoglm_finetune.config import ClassifierConfig, ProbeConfig
from autoglm_finetune.nodes import ClassifierNode, PredictNode, ProbeNode


def test_plugin_import_is_light():
    code = (
        "import sys, autoglm_finetune.plugin\n"
        "heavy = {'torch', 'transformers', 'numpy', 'sklearn', 'peft'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plugin_registers_its_nodes(autoglm_host):
    host = autoglm_host(["finetune"])
    for name in ("finetune.probe", "finetune.classifier", "finetune.predict", "finetune.lora"):
        assert host.get_node_type(name).name == name


def test_hyperparameters_are_a_declared_space():
    probe = search_space(ProbeConfig)
    assert probe["head"] == Choice(["logistic", "mlp"])
    assert probe["C"] == FloatRange(0.01, 100.0, log=True)
    full = search_space(ClassifierConfig)
    assert full["lr"] == FloatRange(1e-5, 2e-4, log=True)
    assert full["mode"].values == ["full", "contrastive"]
    assert full["init_head"].values == ["probe", "random"]
    for plumbing in ("seed", "device", "encoder", "limit", "validation_fraction"):
        assert plumbing not in full and plumbing not in probe


@pytest.mark.parametrize("head", ["logistic", "mlp", "centroid"])
def test_probe_on_frozen_minilm_reloads_and_predicts(hwu4, tmp_path, head):
    home = tmp_path / "home"
    out = run_node(ProbeNode, {"head": head, "epochs": 60}, hwu4, home=home)
    assert out.labels == ["alarm_set", "email_sendemail", "play_music", "weather_query"]
    assert out.val_accuracy >= 0.9 and out.test_accuracy >= 0.9
    assert len(out.test_predictions) == len(out.test_gold) > 50
    assert out.cpu_seconds > 0
    moved = shutil.copytree(out.checkpoint, tmp_path / "moved")  # nothing absolute inside
    again = run_node(PredictNode, {}, {"checkpoint": str(moved), "data": hwu4["test"]}, home=home)
    assert again.predictions == out.test_predictions
    assert again.accuracy == pytest.approx(out.test_accuracy)


def test_full_finetuning_learns_reports_progress_and_reloads(hwu4, tiny_encoder, tmp_path):
    home = tmp_path / "home"
    context = make_context(home, node_id="ft", node_type="finetune.classifier")
    seen: list[tuple[float, float | None]] = []
    context.progress_callback = lambda node, done, total, message: seen.append((done, total))
    config = {
        "encoder": tiny_encoder,
        "epochs": 8,
        "lr": 2e-3,
        "head_lr": 5e-3,
        "batch_size": 16,
        "patience": 3,
        "max_length": 32,
        "init_head": "random",
        "frozen_layers": 0,
        "ensemble": "none",
        "seeds": 1,
    }
    out = run_node(ClassifierNode, config, hwu4, home=home, context=context)
    # A random 2-layer BERT learns these 4 intents from 160 texts (chance: 0.25).
    assert out.val_accuracy >= 0.75 and out.test_accuracy >= 0.7
    assert seen and seen[-1][0] == seen[-1][1]
    assert out.history[0]["loss"] > out.history[-1]["loss"]
    # Early stopping keeps the best validation epoch.
    assert out.val_accuracy == pytest.approx(max(h["val"] for h in out.history), abs=1e-6)
    assert (Path(out.checkpoint) / "encoder" / "config.json").is_file()
    meta = json.loads((Path(out.checkpoint) / "classifier.json").read_text())
    assert meta["kind"] == "finetune-full" and meta["encoder"] == "encoder"
    moved = shutil.copytree(out.checkpoint, tmp_path / "moved")  # nothing absolute inside
    again = run_node(PredictNode, {}, {"checkpoint": str(moved), "data": hwu4["test"]}, home=home)
    assert again.predictions == out.test_predictions


def test_contrastive_mode_trains_pairs_then_a_logistic_head(hwu4, tiny_encoder, tmp_path):
    config = {
        "encoder": tiny_encoder,
        "mode": "contrastive",
        "epochs": 2,
        "lr": 2e-3,
        "batch_size": 32,
        "pairs_per_example": 2,
        "max_length": 32,
    }
    out = run_node(ClassifierNode, config, hwu4, home=tmp_path / "home")
    assert out.history[0]["pair_loss"] > out.history[-1]["pair_loss"]
    assert out.val_accuracy >= 0.7 and out.test_accuracy >= 0.7


def test_label_name_zero_shot_head_needs_no_training(hwu4, tmp_path):
    """Issue 19's hand-written label-name baseline as a head: well above chance (0.25)."""
    out = run_node(ProbeNode, {"head": "label_names"}, hwu4, home=tmp_path / "home")
    assert out.test_accuracy > 0.6


def test_probe_counts_model_calls_and_cache_hits_apart(hwu4, tmp_path):
    """A probe's encoder calls are the texts really embedded; a second probe on the same home
    reads them all from the embedding cache, so its calls are 0 and its hits are every text."""
    from autoglm_prompt.api import load_examples

    texts = [
        r["text"] for name in ("train", "validation", "test") for r in load_examples(hwu4[name])
    ]
    home = tmp_path / "home"
    first = run_node(ProbeNode, {"head": "centroid"}, hwu4, home=home)
    assert first.model_calls == len(set(texts))
    assert first.cache_hits == len(texts) - len(set(texts))
    second = run_node(ProbeNode, {"head": "logistic"}, hwu4, home=home)
    assert (second.model_calls, second.cache_hits) == (0, len(texts))
