"""Shared fixtures of the autoglm-hf tests: the real MiniLM encoder, loaded once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Two shared CPU cores: one torch thread per test process keeps neighbours responsive."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def minilm():
    from autoglm_hf.adapters import default_encoder_path, load_encoder

    return load_encoder(default_encoder_path(), device="cpu")


@pytest.fixture(scope="session")
def tiny_qwen2(tmp_path_factory) -> str:
    """A trained tiny Qwen2 checkpoint folder (see ``autoglm_hf.testing``)."""
    from autoglm_hf.testing import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-qwen2"), family="qwen2")


@pytest.fixture(scope="session")
def tiny_glm4(tmp_path_factory) -> str:
    """The same, as a native transformers GLM-4 (``Glm4ForCausalLM``)."""
    from autoglm_hf.testing import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-glm4"), family="glm4")


@pytest.fixture(params=["qwen2", "glm4"])
def tiny_lm(request):
    """Each tiny family in turn, loaded through the adapter on CPU."""
    from autoglm_hf.adapters import load_causal_lm

    return load_causal_lm(request.getfixturevalue(f"tiny_{request.param}"), device="cpu")
