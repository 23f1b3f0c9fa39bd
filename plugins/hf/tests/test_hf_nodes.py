"""The hf.* node types, run the way the engine runs them (autoglm.testing.run_node)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from autoglm.testing import run_node
from autoglm_hf.errors import ModelSpecError
from autoglm_hf.node_embed import EmbedNode
from autoglm_hf.node_generate import GenerateNode
from autoglm_hf.node_score import ScoreNode
from autoglm_hf.serve import create_app, serve_in_thread

REVIEWS = [
    "review : a wonderful and moving film .",
    "review : terrible plot and awful pacing .",
    "review : great acting and a lovely story .",
    "review : a dull and boring mess .",
]
GOLD = ["positive", "negative", "positive", "negative"]
LABELS = {"positive": "positive", "negative": "negative"}


def test_generate_chat_and_raw_prompts(tiny_qwen2, autoglm_home):
    config = {"model": tiny_qwen2, "device": "cpu", "max_new_tokens": 8, "batch_size": 1}
    out = run_node(GenerateNode, config, {"prompts": ["what is autoglm ?"]}, home=autoglm_home)
    assert out.texts == ["autoglm is a workflow engine ."] and out.text == out.texts[0]
    raw = run_node(
        GenerateNode,
        {**config, "chat": False, "stop": ["."]},
        {"prompts": ["the capital of italy is"], "prompt": "the capital of france is"},
        home=autoglm_home,
    )
    assert raw.texts == ["rome", "paris"]


def test_generate_needs_a_prompt(tiny_qwen2, autoglm_home):
    with pytest.raises(ValidationError, match="expected 'prompt' or a non-empty 'prompts'"):
        run_node(GenerateNode, {"model": tiny_qwen2, "device": "cpu"}, {}, home=autoglm_home)


def test_generate_through_a_server(tiny_qwen2, autoglm_home):
    from autoglm_hf.adapters import load_causal_lm

    with serve_in_thread(create_app(load_causal_lm(tiny_qwen2, device="cpu"), "tiny")) as url:
        out = run_node(
            GenerateNode,
            {"model": "tiny", "base_url": url, "max_new_tokens": 8},
            {"prompt": "what is autoglm ?"},
            home=autoglm_home,
        )
    assert out.text == "autoglm is a workflow engine ."


def test_raw_generation_through_a_server_skips_the_chat_template(tiny_qwen2, autoglm_home):
    """Issue 19: ``chat: false`` with a ``base_url`` used to go through /chat/completions, so
    the server wrapped the raw text in the chat template ("is is a workflow" instead of
    "paris"). A raw prompt must reach /v1/completions and complete like the local model."""
    from autoglm_hf.adapters import load_causal_lm

    local = load_causal_lm(tiny_qwen2, device="cpu")
    config = {"max_new_tokens": 3, "chat": False, "stop": ["."]}
    prompts = {"prompts": ["the capital of france is", "the capital of italy is"]}
    local_config = {**config, "model": tiny_qwen2, "device": "cpu"}
    here = run_node(GenerateNode, local_config, prompts, home=autoglm_home)
    with serve_in_thread(create_app(local, "tiny")) as url:
        remote = run_node(
            GenerateNode, {**config, "model": "tiny", "base_url": url}, prompts, home=autoglm_home
        )
    assert here.texts == ["paris", "rome"]
    assert remote.texts == here.texts


def test_only_local_sampling_takes_turns_for_the_torch_generator():
    """Seeded sampling from a local model draws from torch's one generator, so it runs alone
    among such nodes; greedy decoding and a server need no turn and keep running side by side."""
    from autoglm.exclusive import TORCH_RNG

    def resource(**fields):
        config = GenerateNode.Config.model_validate({"model": "m", **fields})
        return GenerateNode.exclusive_resource(config)

    assert resource(temperature=0.7, seed=1) == TORCH_RNG
    assert resource() is None
    assert resource(temperature=0.7, base_url="http://127.0.0.1:9/v1") is None


def test_missing_api_key_variable_is_named(autoglm_home, monkeypatch):
    monkeypatch.delenv("AUTOGLM_TEST_KEY", raising=False)
    config = {"model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "AUTOGLM_TEST_KEY"}
    with pytest.raises(ModelSpecError, match="'AUTOGLM_TEST_KEY' is not set"):
        run_node(GenerateNode, config, {"prompt": "x"}, home=autoglm_home)


def test_score_classifies_reviews(tiny_glm4, autoglm_home):
    config = {
        "model": tiny_glm4,
        "device": "cpu",
        "labels": LABELS,
        "template": "{text} sentiment :",
    }
    out = run_node(ScoreNode, config, {"texts": REVIEWS, "gold": GOLD}, home=autoglm_home)
    assert out.predictions == GOLD and out.accuracy == 1.0
    for probs in out.probabilities:
        assert sum(probs.values()) == pytest.approx(1.0)
        assert max(probs.values()) > 0.9


def test_calibration_subtracts_the_content_free_scores(tiny_glm4, autoglm_home):
    from autoglm_hf.adapters import load_causal_lm

    config = {
        "model": tiny_glm4,
        "device": "cpu",
        "labels": LABELS,
        "template": "{text} sentiment :",
    }
    raw = run_node(ScoreNode, config, {"texts": REVIEWS}, home=autoglm_home)
    calibrated = run_node(
        ScoreNode, {**config, "calibrate": True}, {"texts": REVIEWS}, home=autoglm_home
    )
    prior = load_causal_lm(tiny_glm4, device="cpu").score("N/A sentiment :", list(LABELS.values()))
    for before, after in zip(raw.scores, calibrated.scores, strict=True):
        for (label, value), base in zip(before.items(), prior, strict=True):
            assert after[label] == pytest.approx(value - base, abs=1e-4)


def test_score_config_and_gold_errors(tiny_glm4, autoglm_home):
    base = {"model": tiny_glm4, "device": "cpu", "labels": LABELS}
    with pytest.raises(ValidationError, match=r"exactly the placeholder \{text\}"):
        run_node(ScoreNode, {**base, "template": "{review}"}, {"texts": []}, home=autoglm_home)
    with pytest.raises(ValidationError, match="at least 2 labels"):
        run_node(ScoreNode, {**base, "labels": {"a": "a"}}, {"texts": []}, home=autoglm_home)
    with pytest.raises(
        ValueError, match=r"inputs.gold: expected 1 labels .*\(unknown: \['neutral'\]\)"
    ):
        run_node(ScoreNode, base, {"texts": ["x"], "gold": ["neutral"]}, home=autoglm_home)


def test_embed_writes_normalised_vectors_and_caches(autoglm_home, minilm):
    texts = ["graphs and nodes", "prompt optimisation", "graphs and nodes"]
    out = run_node(
        EmbedNode, {"device": "cpu", "inline": True}, {"texts": texts}, home=autoglm_home
    )
    vectors = np.load(out.path)
    assert (out.count, out.dim) == (3, 384) and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.asarray(out.vectors), vectors, atol=1e-6)
    np.testing.assert_allclose(vectors, minilm.embed(texts), atol=1e-5)
    from autoglm_hf.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(autoglm_home / "cache" / "hf-embeddings")
    assert cache.count() == 2  # two distinct texts
