"""Shared fixtures of the multimodal tests: one torch thread and slices of the real FSDD
recordings (skipped with a reason when the shared data is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tests share 2 cores with other work."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def fsdd_recordings() -> Path:
    from autoglm.paths import data_dir

    folder = data_dir() / "fsdd" / "recordings"
    if not (folder / "0_george_0.wav").is_file():
        pytest.skip(f"FSDD recordings not found in {folder} (set AUTOGLM_DATA_DIR)")
    return folder


@pytest.fixture
def fsdd_manifest(tmp_path, fsdd_recordings) -> Path:
    """60 real recordings: 2 per digit of george (train), jackson (val), theo (test)."""
    from autoglm_multimodal.items import write_items
    from autoglm_multimodal.testing import fsdd_items

    return write_items(tmp_path / "items.jsonl", fsdd_items(fsdd_recordings))
