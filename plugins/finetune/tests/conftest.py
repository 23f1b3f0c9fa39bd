"""Shared fixtures: small real HWU64 slices and a tiny BERT encoder built on the spot."""

from __future__ import annotations

import json

import pytest

from autoglm_prompt.api import load_examples, sample_examples, write_jsonl

#: Four intents with clearly different words: a tiny model can learn them in seconds.
INTENTS = ["alarm_set", "weather_query", "play_music", "email_sendemail"]


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)  # the CI machine has 2 cores shared by everything


@pytest.fixture(scope="session")
def hwu4(tmp_path_factory) -> dict[str, str]:
    """JSONL files of 4 HWU64 intents: 40 train rows each, 10 validation, the test rows."""
    folder = tmp_path_factory.mktemp("hwu4")
    train = [r for r in load_examples("hwu64/train.tsv") if r["label"] in INTENTS]
    test = [r for r in load_examples("hwu64/test.tsv") if r["label"] in INTENTS]
    picked = sample_examples(train, 200, seed=0)
    return {
        "train": write_jsonl(folder / "train.jsonl", picked[:160]),
        "validation": write_jsonl(folder / "val.jsonl", picked[160:]),
        "test": write_jsonl(folder / "test.jsonl", test),
    }


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> str:
    """A 2-layer, 64-wide BERT with MiniLM's tokenizer, randomly initialised and saved with
    ``save_pretrained``: a real transformers encoder small enough to fine-tune in seconds."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from autoglm_hf.api import default_encoder_path

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(default_encoder_path())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 32}))
    return str(folder)
