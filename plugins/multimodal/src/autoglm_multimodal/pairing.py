"""Pair each spoken digit of FSDD with a written digit of the same class.

The written digits are scikit-learn's bundled 8x8 images (``load_digits``: 1,797 images, about
180 per class). Each speaker gets a disjoint share of every class's images (a seeded
permutation, cut in as many parts as there are speakers), and each of the speaker's recordings
is paired with an image drawn from that share. So a speaker held out for testing brings images
no training item carries, and the image branch of a fused model cannot pass a held-out speaker
by remembering pictures it was trained on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_multimodal.errors import MultimodalError

#: FSDD names its recordings ``{digit}_{speaker}_{index}.wav``.
FSDD_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<index>\d+)\.wav$")


def fsdd_recordings(folder: Path) -> list[dict[str, Any]]:
    """One record per recording: id (file stem), label, group (speaker), index, file."""
    if not folder.is_dir():
        raise MultimodalError(f"{folder}: no FSDD recordings folder (set AUTOGLM_DATA_DIR)")
    rows = []
    for path in sorted(folder.iterdir()):
        match = FSDD_NAME.match(path.name)
        if match:
            rows.append(
                {
                    "id": path.stem,
                    "label": int(match["digit"]),
                    "group": match["speaker"],
                    "index": int(match["index"]),
                    "audio": str(path),
                }
            )
    if not rows:
        raise MultimodalError(f"{folder}: no file named like 0_speaker_0.wav")
    return rows


def image_pools(
    labels: np.ndarray, groups: list[str], seed: int
) -> dict[tuple[str, int], np.ndarray]:
    """(group, class) -> indices of the images that group may use; disjoint across groups."""
    rng = np.random.default_rng(seed)
    pools = {}
    for digit in np.unique(labels):
        indices = rng.permutation(np.flatnonzero(labels == digit))
        for group, share in zip(groups, np.array_split(indices, len(groups)), strict=True):
            pools[(group, int(digit))] = share
    return pools


def pair_with_digits(
    recordings: list[dict[str, Any]], images: np.ndarray, labels: np.ndarray, seed: int
) -> list[tuple[dict[str, Any], int]]:
    """Each recording with the index of an image of its class from its speaker's share."""
    groups = sorted({r["group"] for r in recordings})
    pools = image_pools(labels, groups, seed)
    rng = np.random.default_rng(seed + 1)
    return [(r, int(rng.choice(pools[(r["group"], r["label"])]))) for r in recordings]
