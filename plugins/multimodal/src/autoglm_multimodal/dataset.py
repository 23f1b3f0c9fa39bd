"""One on-disk dataset from an items manifest and the feature folders of its modalities.

The dataset folder holds ``<modality>.<array>.npy`` (rows of the items kept, in manifest
order; ``np.load(..., mmap_mode="r")`` maps them without reading), ``labels.npy``,
``split.npy`` (0 train, 1 validation, 2 test) and ``manifest.json`` (ids, groups, classes,
shapes, counts and groups per split, and every item dropped with the modalities it lacked).
It is built under the plugin's cache, keyed by the content of the manifest and of every
feature folder plus the config, so the same inputs are assembled once however many runs ask.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_multimodal.errors import MultimodalError
from autoglm_multimodal.featureset import read_featureset
from autoglm_multimodal.items import SPLITS, read_items
from autoglm_multimodal.splits import check_disjoint

MANIFEST = "manifest.json"
FORMAT = 1


def content_key(items: str, folders: dict[str, str], config: dict[str, Any]) -> str:
    """SHA-256 over the manifest's bytes, each feature folder's files and the config."""
    sha = hashlib.sha256()
    sha.update(json.dumps({"format": FORMAT, "config": config}, sort_keys=True).encode())
    sha.update(Path(items).read_bytes())
    for name in sorted(folders):
        sha.update(name.encode())
        for path in sorted(Path(folders[name]).glob("*")):
            if path.suffix in {".npy", ".json"}:
                sha.update(path.name.encode())
                with path.open("rb") as handle:
                    for block in iter(lambda h=handle: h.read(1 << 20), b""):
                        sha.update(block)
    return sha.hexdigest()[:32]


def build_dataset(
    target: Path,
    items_path: str,
    folders: dict[str, str],
    label_field: str,
    group_field: str,
    drop_incomplete: bool,
) -> dict[str, Any]:
    """Assemble the dataset into ``target`` (written to a temporary folder, then renamed)."""
    items = read_items(items_path)
    unsplit = [i["id"] for i in items if i.get("split") is None]
    if unsplit:
        raise MultimodalError(
            f"{items_path}: {len(unsplit)} item(s) have no split (e.g. {unsplit[:3]}): "
            "run multimodal.split first"
        )
    unlabelled = [i["id"] for i in items if i.get(label_field) is None]
    if unlabelled:
        raise MultimodalError(f"{items_path}: item(s) without {label_field!r}: {unlabelled[:5]}")
    groups = [str(i.get(group_field, "")) for i in items]
    check_disjoint(groups, [i["split"] for i in items])
    sets = {name: read_featureset(folder) for name, folder in folders.items()}
    ids = [i["id"] for i in items]
    rows_of = {}
    for name, features in sets.items():
        position = {item_id: row for row, item_id in enumerate(features.ids)}
        missing = [i for i in ids if i not in position]
        if missing:
            raise MultimodalError(
                f"{features.folder}: the {name!r} features lack {len(missing)} item(s) of "
                f"{items_path} (e.g. {missing[:3]}): they were computed from another manifest"
            )
        rows_of[name] = np.asarray([position[i] for i in ids])
    lacking = {
        item_id: [n for n in sets if not sets[n].ok[rows_of[n][k]]] for k, item_id in enumerate(ids)
    }
    dropped = {i: m for i, m in lacking.items() if m}
    if dropped and not drop_incomplete:
        shown = ", ".join(f"{i} ({'+'.join(m)})" for i, m in list(dropped.items())[:10])
        raise MultimodalError(f"{len(dropped)} item(s) lack a modality: {shown}")
    keep = np.asarray([k for k, i in enumerate(ids) if i not in dropped], dtype=np.int64)
    if keep.size == 0:
        raise MultimodalError("no item has every modality: nothing to build a dataset from")
    classes = sorted({str(items[k][label_field]) for k in keep}, key=_natural)
    class_index = {c: n for n, c in enumerate(classes)}
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".building-"))
    try:
        shapes = {}
        for name, features in sets.items():
            for array_name, array in features.arrays.items():
                out = np.lib.format.open_memmap(
                    tmp / f"{name}.{array_name}.npy",
                    mode="w+",
                    dtype=array.dtype,
                    shape=(keep.size, *array.shape[1:]),
                )
                source_rows = rows_of[name][keep]
                for begin in range(0, keep.size, 4096):
                    out[begin : begin + 4096] = array[source_rows[begin : begin + 4096]]
                out.flush()
                del out
                shapes[f"{name}.{array_name}"] = {
                    "shape": [int(keep.size), *map(int, array.shape[1:])],
                    "dtype": str(array.dtype),
                }
        labels = np.asarray([class_index[str(items[k][label_field])] for k in keep], np.int64)
        split = np.asarray([SPLITS.index(items[k]["split"]) for k in keep], np.int8)
        np.save(tmp / "labels.npy", labels)
        np.save(tmp / "split.npy", split)
        kept_groups = [groups[k] for k in keep]
        manifest = {
            "format": FORMAT,
            "ids": [ids[k] for k in keep],
            "groups": kept_groups,
            "classes": classes,
            "modalities": {
                name: {
                    "arrays": sorted(a for a in features.arrays),
                    **(
                        {"vocab_size": features.meta["vocab_size"]}
                        if "vocab_size" in features.meta
                        else {}
                    ),
                }
                for name, features in sets.items()
            },
            "arrays": shapes,
            "counts": {s: int((split == n).sum()) for n, s in enumerate(SPLITS)},
            "split_groups": {
                s: sorted({g for g, v in zip(kept_groups, split, strict=True) if v == n})
                for n, s in enumerate(SPLITS)
            },
            "dropped": len(dropped),
            "dropped_items": [{"id": i, "lacks": m} for i, m in list(dropped.items())[:1000]],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest))
        try:
            os.replace(tmp, target)
        except OSError:  # built meanwhile by another run: theirs is the same content
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _natural(label: str) -> tuple:
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)


@dataclass
class Dataset:
    """A built dataset, arrays memory-mapped."""

    folder: Path
    manifest: dict[str, Any]
    labels: np.ndarray
    split: np.ndarray

    def array(self, name: str) -> np.ndarray:
        return np.load(self.folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)

    def rows(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == SPLITS.index(split))


def load_dataset(folder: str | Path) -> Dataset:
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        labels = np.load(folder / "labels.npy", allow_pickle=False)
        split = np.load(folder / "split.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MultimodalError(
            f"{folder}: not a dataset built by multimodal.dataset ({exc})"
        ) from None
    return Dataset(folder, manifest, labels, split)
