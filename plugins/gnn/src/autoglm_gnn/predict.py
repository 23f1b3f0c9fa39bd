"""Predict with a checkpoint on a graph file: the checkpoint rebuilds its own model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from autoglm_gnn.checkpoint import load_checkpoint
from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.runtime import resolve_device
from autoglm_gnn.tensors import load_tensors

MASK_NAMES = ("train", "val", "test", "all")


@dataclass
class Prediction:
    """Predicted class of every node, the labels, and the evaluated mask."""

    predictions: np.ndarray
    labels: np.ndarray
    mask: np.ndarray

    @property
    def accuracy(self) -> float | None:
        if not self.mask.any():
            return None
        return float((self.predictions[self.mask] == self.labels[self.mask]).mean())


def predict_file(
    checkpoint: str | Path, graph: str | Path, mask: str = "test", device: str = "auto"
) -> Prediction:
    """Reload ``checkpoint`` and predict every node of ``graph``; score on ``mask``."""
    if mask not in MASK_NAMES:
        raise ValueError(f"unknown mask {mask!r}; expected one of {list(MASK_NAMES)}")
    device = resolve_device(device)
    saved = load_checkpoint(checkpoint, device)
    data = load_tensors(graph, device, saved.config.sparse_features)
    if data.in_dim != saved.in_dim:
        raise GraphFileError(
            graph,
            f"graph has {data.in_dim} features per node but the checkpoint {checkpoint} "
            f"was trained on {saved.in_dim}",
        )
    with torch.no_grad():
        logits = saved.model(data, data.feat)
    selected = (
        torch.ones_like(data.label, dtype=torch.bool)
        if mask == "all"
        else getattr(data, f"{mask}_mask")
    )
    return Prediction(
        predictions=logits.argmax(-1).cpu().numpy(),
        labels=data.label.cpu().numpy(),
        mask=selected.cpu().numpy(),
    )
