"""Process-wide settings of a training run: seeding, threads and device choice."""

from __future__ import annotations

import functools
import random

import numpy as np
import torch

from autoglm_gnn.errors import GNNConfigError


def seed_everything(seed: int) -> None:
    """Seed python, numpy, torch and DGL so a run with the same seed repeats exactly (CPU)."""
    import dgl

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    dgl.seed(seed)


def set_threads(threads: int) -> None:
    """Limit torch's and DGL's CPU threads (one per trial lets trials run side by side)."""
    import dgl.utils

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    dgl.utils.set_num_threads(threads)


@functools.cache
def _dgl_has_cuda() -> bool:
    """The pip build of DGL 2.1 is CPU-only even when torch sees a GPU: try a tiny graph."""
    if not torch.cuda.is_available():
        return False
    import dgl

    try:
        dgl.graph(([0], [0])).to("cuda")
    except Exception:
        return False
    return True


def resolve_device(device: str) -> str:
    """``auto`` means cuda when both torch and DGL can use it, else cpu."""
    if device == "auto":
        return "cuda" if _dgl_has_cuda() else "cpu"
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not _dgl_has_cuda():
            raise GNNConfigError(
                f"device {device!r} requested but CUDA is not usable by torch and DGL here; "
                "use device: auto or cpu"
            )
        return device
    raise GNNConfigError(f"unknown device {device!r}; expected 'auto', 'cpu' or 'cuda[:N]'")
