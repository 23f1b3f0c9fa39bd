"""Standardisation statistics fitted on training rows only.

The statistics that scale features (per MFCC coefficient, per image channel, per table column)
are computed from the rows whose split is ``train`` and nothing else, then applied to every
row and saved beside the features for inference. Fitting them on all rows would let test data
shape the training inputs, a leak that flatters held-out scores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoglm_multimodal.errors import MultimodalError


@dataclass
class Standardizer:
    """Per-feature mean and standard deviation (a floor keeps constant features finite)."""

    mean: np.ndarray
    std: np.ndarray
    fitted_on: int

    @classmethod
    def fit(cls, rows: np.ndarray, eps: float = 1e-6) -> Standardizer:
        """``rows``: (samples, features), training samples only."""
        if rows.shape[0] == 0:
            raise MultimodalError(
                "no training rows to fit statistics on: give the items a split "
                "(multimodal.split) with at least one 'train' item that loads"
            )
        rows = rows.astype(np.float64, copy=False)
        mean = rows.mean(axis=0)
        std = np.maximum(rows.std(axis=0), eps)
        return cls(mean.astype(np.float32), std.astype(np.float32), int(rows.shape[0]))

    def apply(self, values: np.ndarray, axis: int = -1) -> np.ndarray:
        """Standardise ``values`` whose feature axis is ``axis``."""
        shape = [1] * values.ndim
        shape[axis] = -1
        return ((values - self.mean.reshape(shape)) / self.std.reshape(shape)).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict) -> Standardizer:
        return cls(
            np.asarray(data["mean"], np.float32),
            np.asarray(data["std"], np.float32),
            int(data["fitted_on"]),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> Standardizer:
        return cls.from_dict(json.loads(Path(path).read_text()))
