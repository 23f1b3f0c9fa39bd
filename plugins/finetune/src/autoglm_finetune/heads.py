"""Classification heads as plain arrays: a stack of dense layers (ReLU between them).

A logistic probe is one layer, an MLP two; a fine-tuned encoder's head is one layer too. Kept
as numpy arrays in an ``.npz`` written without pickle, so a checkpoint is data, never code, and
prediction needs no torch module definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Head:
    #: (weight (in, out), bias (out,)) per layer.
    layers: list[tuple[np.ndarray, np.ndarray]]

    def logits(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(x, dtype=np.float32)
        for i, (w, b) in enumerate(self.layers):
            out = out @ w + b
            if i < len(self.layers) - 1:
                out = np.maximum(out, 0.0)
        return out

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return softmax_rows(self.logits(x))

    def save(self, path: str | Path) -> None:
        arrays = {}
        for i, (w, b) in enumerate(self.layers):
            arrays[f"w{i}"], arrays[f"b{i}"] = w.astype(np.float32), b.astype(np.float32)
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Head:
        with np.load(path, allow_pickle=False) as data:
            count = len([k for k in data.files if k.startswith("w")])
            return cls([(data[f"w{i}"], data[f"b{i}"]) for i in range(count)])


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores (shifted by each row's maximum, so large scores stay finite)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def from_sklearn(coef: np.ndarray, intercept: np.ndarray) -> Head:
    """A one-layer head from a scikit-learn linear model (binary models have one row: it
    becomes two symmetric columns, so every head scores every label)."""
    if coef.shape[0] == 1:
        coef = np.concatenate([-coef / 2, coef / 2])
        intercept = np.concatenate([-intercept / 2, intercept / 2])
    return Head([(coef.T.astype(np.float32), intercept.astype(np.float32))])
