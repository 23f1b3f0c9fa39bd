"""Shared fixtures: the real all-MiniLM-L6-v2 encoder and small real SST-2 subsets."""

from __future__ import annotations

import pytest

from autoglm_prompt.data import load_examples, sample_examples, split_examples


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)  # the CI machine has 2 cores shared by everything


class SpyEncoder:
    """The real encoder, recording every text it is asked to embed (not a mock: it embeds)."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.seen: list[str] = []

    def embed(self, texts, *, batch_size=32):
        self.seen.extend(texts)
        return self.encoder.embed(texts, batch_size=batch_size)


@pytest.fixture(scope="session")
def encoder(tmp_path_factory):
    from autoglm_hf.adapters import from_spec

    cache = tmp_path_factory.mktemp("embeddings")
    return from_spec({"kind": "hf-encoder", "model": "default", "cache_dir": str(cache)})


@pytest.fixture
def spy(encoder):
    return SpyEncoder(encoder)


@pytest.fixture(scope="session")
def sst2():
    """120 sentences to optimise on, 120 held out (both from dev.tsv), a 240-phrase pool."""
    dev = load_examples("sst2/dev.tsv")
    halves = split_examples(dev, {"opt": 0.5, "heldout": 0.5}, seed=0)
    return {
        "opt": sample_examples(halves["opt"], 120, seed=0),
        "heldout": sample_examples(halves["heldout"], 120, seed=0),
        "pool": sample_examples(load_examples("sst2/train.tsv", limit=5000), 240, seed=0),
    }


@pytest.fixture
def space_spec() -> dict:
    """A small space: 2 instructions, 2 descriptions per label, up to 64 shots."""
    return {
        "instructions": ["", "Movie review:"],
        "verbalizers": {"0": ["bad", "a negative review"], "1": ["good", "a positive review"]},
        "shots": [0, 8, 32, 64],
        "example_sets": 2,
        "calibrations": ["none", "batch"],
        "example_weights": [0.5, 0.75, 1.0],
    }
