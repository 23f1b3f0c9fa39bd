"""Shared fixtures of the autoglm-text tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
KB = REPO / "configs" / "kb"


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Two shared CPU cores: one torch thread per test process keeps neighbours responsive."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def kb_dir() -> Path:
    """The shipped knowledge base, configs/kb (read only)."""
    return KB


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    """A private copy of the shipped knowledge base that a test may edit."""
    target = tmp_path / "kb"
    shutil.copytree(KB, target)
    return target


@pytest.fixture(scope="session")
def tiny_lm_folder(tmp_path_factory) -> str:
    """A tiny trained Qwen2 whose vocabulary covers the knowledge base's words."""
    from autoglm_hf.testing import DEFAULT_SENTENCES, build_tiny_causal_lm

    words = " ".join(p.read_text() for p in sorted(KB.glob("*.md"))).split()
    return build_tiny_causal_lm(
        tmp_path_factory.mktemp("tiny-text-lm"),
        sentences=[*DEFAULT_SENTENCES, "answer : plugins are found through entry points ."],
        extra_words=words,
        train_steps=60,
    )
