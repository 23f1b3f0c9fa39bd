"""The transformers causal-LM adapter on tiny trained Qwen2 and GLM-4 checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoglm_hf import registry
from autoglm_hf.adapters import TextModel, from_spec, load_causal_lm
from autoglm_hf.errors import AdapterError, ModelNotFoundError
from autoglm_hf.locate import folder_version


def test_checkpoints_are_the_native_families(tiny_qwen2, tiny_glm4):
    types = [
        json.loads((Path(p) / "config.json").read_text())["model_type"]
        for p in (tiny_qwen2, tiny_glm4)
    ]
    assert types == ["qwen2", "glm4"]


def test_greedy_generation_completes_memorised_text(tiny_lm):
    assert isinstance(tiny_lm, TextModel)
    out = tiny_lm.generate(
        ["the capital of italy is", "the capital of france is"], max_new_tokens=4
    )
    assert out == ["rome .", "paris ."]


def test_chat_messages_use_the_chat_template(tiny_lm):
    [answer] = tiny_lm.generate([[{"role": "user", "content": "what is autoglm ?"}]])
    assert answer == "autoglm is a workflow engine ."


def test_mixed_batch_equals_one_by_one(tiny_lm):
    prompts = ["the capital of", [{"role": "user", "content": "what is autoglm ?"}], "review :"]
    batched = tiny_lm.generate(prompts, max_new_tokens=6)
    alone = [tiny_lm.generate([p], max_new_tokens=6)[0] for p in prompts]
    assert batched == alone


def test_max_new_tokens_and_stop_strings(tiny_lm):
    [short] = tiny_lm.generate(["the capital of france is"], max_new_tokens=1)
    assert short == "paris"
    [stopped] = tiny_lm.generate(
        [[{"role": "user", "content": "what is autoglm ?"}]], stop=["workflow"], max_new_tokens=20
    )
    assert stopped == "autoglm is a"


def test_seeded_sampling_is_repeatable_and_varies(tiny_lm):
    prompts = ["the capital of"] * 6
    first = tiny_lm.generate(prompts, temperature=3.0, seed=7, max_new_tokens=4)
    assert first == tiny_lm.generate(prompts, temperature=3.0, seed=7, max_new_tokens=4)
    assert len(set(first)) > 1  # hot sampling leaves the memorised path at least once


def test_score_classifies_by_label_words(tiny_lm):
    pos, neg = tiny_lm.score(
        "review : a wonderful and moving film . sentiment :", ["positive", "negative"]
    )
    assert pos > neg + 2
    pos, neg = tiny_lm.score(
        "review : a dull and boring mess . sentiment :", ["positive", "negative"]
    )
    assert neg > pos + 2
    assert all(v <= 0 for v in (pos, neg))


def test_score_sums_token_logprobs(tiny_lm):
    prompt, cont = "the capital of", "italy is rome"
    tokens = tiny_lm.token_logprobs(f"{prompt} {cont}")
    assert [t for t, _, _ in tokens] == ["the", "capital", "of", "italy", "is", "rome"]
    assert tokens[0][2] is None
    expected = sum(v for _, _, v in tokens[3:])
    [total] = tiny_lm.score(prompt, [cont])
    assert total == pytest.approx(expected, abs=1e-4)
    assert tiny_lm.score(prompt, [""]) == [0.0]


def test_one_load_per_spec(tiny_qwen2):
    spec = {"kind": "hf-causal", "model": tiny_qwen2, "device": "cpu"}
    model = from_spec(spec)
    assert from_spec(dict(spec)) is model is load_causal_lm(tiny_qwen2, device="cpu")
    key = ("hf-causal", model.model_id, folder_version(model.model_id), "cpu", "auto", False)
    assert registry.load_count(key) == 1


def test_bad_arguments_are_named(tiny_lm):
    with pytest.raises(AdapterError, match="max_new_tokens"):
        tiny_lm.generate(["x"], max_new_tokens=0)
    with pytest.raises(AdapterError, match="message 0"):
        tiny_lm.generate([[{"role": "user"}]])


def test_not_a_causal_lm_folder_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="cannot load tokenizer"):
        load_causal_lm(str(tmp_path), device="cpu")


def test_untrained_model_without_chat_template_refuses_messages(tmp_path):
    from autoglm_hf.testing import build_tiny_causal_lm

    folder = build_tiny_causal_lm(tmp_path / "raw", train_steps=0, hidden=32)
    (Path(folder) / "chat_template.jinja").unlink()
    model = load_causal_lm(folder, device="cpu")
    assert len(model.generate(["the capital"], max_new_tokens=3)) == 1
    with pytest.raises(AdapterError, match="need a tokenizer with a chat template"):
        model.generate([[{"role": "user", "content": "hi"}]])
