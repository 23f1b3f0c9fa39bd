"""Averaging probabilities: seeded fine-tunes with each other, and the result with the probe.

* **Seeded members** (``seeds``): fine-tunes that differ only in their seed (batch order,
  dropout) make partly different mistakes, so the mean of their probabilities is steadier than
  any one of them: on HWU64 and SST-2 two or three members validated above one member in most
  settings measured (docs/finetune.md). The frozen bottom layers are shared, so a member costs
  only its trained layers.
* **The probe blend** (``ensemble: probe``): the probe on frozen embeddings keeps the pretrained
  geometry, the fine-tune sharpens it on the training labels. The probe's weight is picked on
  validation from a coarse grid, but a few hundred validation rows rank such a grid mostly by
  noise (SST-2: a blend chosen one validation sentence ahead scored 3 points lower held out),
  so the blend is kept only when it beats the fine-tune alone by ``margin`` on validation.
"""

from __future__ import annotations

import numpy as np

#: Probe weights tried: coarse on purpose, a few hundred validation rows cannot rank a finer grid.
GRID = tuple(round(0.1 * i, 1) for i in range(11))


def average(probabilities: list[np.ndarray]) -> np.ndarray:
    """The members' mean probabilities (equal weights: seeds are exchangeable)."""
    return np.mean(np.stack(probabilities), axis=0)


def blend(own: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    return (1 - weight) * own + weight * other


def accuracy(probabilities: np.ndarray, targets: list[int]) -> float:
    if not len(targets):
        return 0.0
    return float((probabilities.argmax(axis=1) == np.asarray(targets)).mean())


def choose_weight(
    own: np.ndarray,
    other: np.ndarray,
    targets: list[int],
    grid: tuple[float, ...] = GRID,
    margin: float = 0.0,
) -> tuple[float, float]:
    """(weight, validation accuracy) of the best probe weight on validation, ties going to the
    smaller weight; weight 0 (the fine-tune alone) unless the best blend beats it by at least
    ``margin`` (a share: 0.01 is one validation point)."""
    best = (0.0, -1.0)
    for weight in grid:
        score = accuracy(blend(own, other, weight), targets)
        if score > best[1]:
            best = (weight, score)
    alone = accuracy(own, targets)
    if best[0] and best[1] - alone < margin - 1e-9:
        return 0.0, alone
    return best
