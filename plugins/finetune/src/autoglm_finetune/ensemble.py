"""Blending a fine-tuned classifier with the logistic probe, the weight chosen on validation.

The probe on frozen embeddings and the fine-tuned encoder make different mistakes (the probe
keeps the pretrained geometry, the fine-tune sharpens it on the training labels), so averaging
their probabilities is a cheap ensemble: the probe costs a few CPU-seconds next to the
fine-tune. The weight is picked on validation only, from a coarse grid, ties going to the
smaller probe weight (the fine-tune alone when nothing is gained).
"""

from __future__ import annotations

import numpy as np

#: Probe weights tried: coarse on purpose, a few hundred validation rows cannot rank a finer grid.
GRID = tuple(round(0.1 * i, 1) for i in range(11))


def blend(own: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    return (1 - weight) * own + weight * other


def choose_weight(
    own: np.ndarray, other: np.ndarray, targets: list[int], grid: tuple[float, ...] = GRID
) -> tuple[float, float]:
    """(weight, validation accuracy) of the best probe weight on validation."""
    gold = np.asarray(targets)
    best = (0.0, -1.0)
    for weight in grid:
        accuracy = float((blend(own, other, weight).argmax(axis=1) == gold).mean())
        if accuracy > best[1]:
            best = (weight, accuracy)
    return best
