"""The on-disk form of one modality's features: what a modality node writes, what
``multimodal.dataset`` reads.

A feature folder holds one ``.npy`` per array (``features``; for text ``input_ids`` and
``attention_mask``), each with one row per manifest item in manifest order, so rows line up
across modalities by position; ``features.json`` lists the item ids, which rows are usable
(``ok``), the arrays, and the statistics fitted on training rows; ``problems.jsonl`` holds one
located problem per bad item. ``.npy`` because it memory-maps (``np.load(mmap_mode="r")``) and
any numpy reads it without this plugin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_multimodal.errors import ItemProblem, MultimodalError

INDEX = "features.json"
PROBLEMS = "problems.jsonl"


@dataclass
class FeatureSet:
    """One modality's features, as read back from its folder."""

    folder: Path
    modality: str
    ids: list[str]
    ok: np.ndarray
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


def write_featureset(
    folder: Path,
    modality: str,
    ids: list[str],
    ok: list[bool],
    arrays: dict[str, np.ndarray],
    problems: list[ItemProblem],
    meta: dict[str, Any],
) -> Path:
    """Write arrays, index and problems into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        if array.shape[0] != len(ids):
            raise MultimodalError(f"array {name!r} has {array.shape[0]} rows for {len(ids)} items")
        np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    index = {
        "modality": modality,
        "ids": ids,
        "ok": [bool(v) for v in ok],
        "arrays": {n: {"shape": list(a.shape), "dtype": str(a.dtype)} for n, a in arrays.items()},
        **meta,
    }
    (folder / INDEX).write_text(json.dumps(index))
    with (folder / PROBLEMS).open("w", encoding="utf-8") as out:
        for problem in problems:
            out.write(json.dumps(problem.as_dict()) + "\n")
    return folder


def read_featureset(folder: str | Path) -> FeatureSet:
    """Read a feature folder, arrays memory-mapped; a located error if it is not one."""
    folder = Path(folder)
    try:
        index = json.loads((folder / INDEX).read_text())
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in index["arrays"]
        }
    except (OSError, ValueError, KeyError) as exc:
        raise MultimodalError(
            f"{folder}: not a feature folder written by a multimodal node ({exc})"
        ) from None
    meta = {k: v for k, v in index.items() if k not in {"ids", "ok", "arrays", "modality"}}
    return FeatureSet(
        folder, index["modality"], index["ids"], np.asarray(index["ok"], bool), arrays, meta
    )
