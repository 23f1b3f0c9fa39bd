"""finetune.lora with a real (tiny, trained) Qwen2 and peft: it learns a new completion.

The tiny model memorised "review : ... sentiment : positive/negative"; the training data here
inverts the labels, so the base model scores 0 on them and only real learning reaches 1.
"""

from __future__ import annotations

import pytest

from autoglm.testing import run_node
from autoglm_finetune.nodes import LoraNode
from autoglm_prompt.api import write_jsonl

pytest.importorskip("peft")

REVIEWS = [
    ("a wonderful and moving film .", "negative"),
    ("great acting and a lovely story .", "negative"),
    ("a dull and boring mess .", "positive"),
    ("terrible plot and awful pacing .", "positive"),
]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> str:
    from autoglm_hf.testing import DEFAULT_SENTENCES, build_tiny_causal_lm

    return build_tiny_causal_lm(
        tmp_path_factory.mktemp("tiny-lm"),
        family="qwen2",
        sentences=DEFAULT_SENTENCES,
        train_steps=80,
    )


@pytest.mark.slow
def test_lora_learns_a_new_completion_and_saves_a_loadable_model(tiny_lm, tmp_path):
    from autoglm_hf.api import load_causal_lm

    data = write_jsonl(tmp_path / "reviews.jsonl", [{"text": t, "label": lb} for t, lb in REVIEWS])
    config = {
        "model": tiny_lm,
        "template": "review : {text} sentiment :",
        "r": 16,
        "alpha": 32,
        "dropout": 0.0,
        "lr": 1e-2,
        "epochs": 60,
        "batch_size": 4,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
    }
    out = run_node(
        LoraNode, config, {"train": data, "validation": data, "test": data}, home=tmp_path / "h"
    )
    assert out.labels == ["negative", "positive"]
    assert out.history[-1] < 0.1 * out.history[0]
    assert (out.val_accuracy_before, out.val_accuracy) == (0.0, 1.0)
    assert out.test_predictions == [label for _, label in REVIEWS]
    # The merged model is an ordinary folder: the hf adapter loads and scores it.
    merged = load_causal_lm(out.model, device="cpu")
    positive, negative = merged.score(
        "review : a wonderful and moving film . sentiment :", [" positive", " negative"]
    )
    assert negative > positive
