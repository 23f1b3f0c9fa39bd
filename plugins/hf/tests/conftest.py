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
