"""The encoder adapter on the real all-MiniLM-L6-v2: pooling, normalisation, cache, sharing."""

from __future__ import annotations

import numpy as np
import pytest

from autoglm_hf import registry
from autoglm_hf.adapters import Encoder, default_encoder_path, from_spec, load_encoder
from autoglm_hf.errors import ModelNotFoundError, ModelSpecError
from autoglm_hf.locate import folder_version


def test_default_encoder_path_is_the_minilm_folder():
    path = default_encoder_path()
    assert path.endswith("model")
    import json
    from pathlib import Path

    config = json.loads((Path(path) / "config.json").read_text())
    assert config["hidden_size"] == 384


def test_embeddings_are_normalised_and_semantic(minilm):
    vectors = minilm.embed(
        ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock markets fell sharply."]
    )
    assert isinstance(minilm, Encoder)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.3


def test_batch_size_and_padding_do_not_change_vectors(minilm):
    texts = ["short", "a much longer sentence with many more tokens in it than the first"]
    together = minilm.embed(texts, batch_size=2)
    alone = np.concatenate([minilm.embed([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_empty_input_gives_empty_matrix(minilm):
    assert minilm.embed([]).shape == (0, 384)


def test_cache_dir_embeds_each_text_once(tmp_path, minilm):
    encoder = load_encoder(default_encoder_path(), device="cpu", cache_dir=str(tmp_path))
    assert encoder is not minilm and encoder.backend is minilm.backend  # weights shared
    first = encoder.embed(["alpha beta", "gamma delta", "alpha beta"])
    assert encoder.computed == 2
    second = encoder.embed(["gamma delta", "alpha beta", "epsilon"])
    assert encoder.computed == 3  # only "epsilon" was new
    np.testing.assert_allclose(second[0], first[1], atol=1e-6)
    np.testing.assert_allclose(second[1], first[0], atol=1e-6)
    assert encoder.cache.count(encoder.model_id) == 3


def test_from_spec_shares_one_object_per_spec(minilm):
    spec = {"kind": "hf-encoder", "model": default_encoder_path(), "device": "cpu"}
    assert from_spec(spec) is minilm
    assert from_spec(dict(spec)) is minilm
    path = default_encoder_path()
    key = ("hf-encoder-backend", path, folder_version(path), "cpu", "float32", False)
    assert registry.load_count(key) == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "bert"}, "'kind': expected one of"),
        ({"kind": "hf-causal"}, "'model': expected a path or hub id"),
        ({"kind": "hf-encoder", "dtyp": "float16"}, "unknown field(s) ['dtyp']"),
        ({"kind": "openai", "model": "m"}, "'base_url' is required"),
    ],
)
def test_bad_specs_are_named(spec, message):
    with pytest.raises(ModelSpecError) as info:
        from_spec(spec)
    assert message in str(info.value)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_encoder(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        load_encoder(str(tmp_path / "empty"))


def test_offline_hub_id_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="offline mode is on"):
        load_encoder("autoglm-test/definitely-not-cached-model")


def test_a_folder_saved_again_in_place_is_not_served_the_old_weights(tmp_path):
    """A checkpoint retrained under the same path (a rerun writing the same run folder) is
    another model: the per-process registry and the on-disk cache must not return the first
    one's weights or vectors. Found when two fine-tunes in one process shared a path."""
    import shutil

    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path / "checkpoint"
    AutoTokenizer.from_pretrained(default_encoder_path()).save_pretrained(folder)
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=30522,
    )

    def save(seed: int) -> None:
        torch.manual_seed(seed)
        BertModel(config).save_pretrained(folder)

    cache = tmp_path / "cache"
    save(0)
    first = load_encoder(str(folder), device="cpu", cache_dir=str(cache))
    before = first.embed(["turn on the lights"])
    shutil.rmtree(folder / "1_Pooling", ignore_errors=True)
    save(1)
    second = load_encoder(str(folder), device="cpu", cache_dir=str(cache))
    after = second.embed(["turn on the lights"])
    assert second is not first and second.backend is not first.backend
    assert second.computed == 1  # not a hit on the first model's cached vector
    assert not np.allclose(before, after, atol=1e-4)
    assert load_encoder(str(folder), device="cpu", cache_dir=str(cache)) is second
