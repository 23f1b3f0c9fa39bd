"""The items manifest: the spine every multimodal node shares.

A manifest is a JSON-lines file, one object per item: ``id`` (unique), optional ``label``,
``group`` (the grouping key of splits: a speaker, a patient) and ``split``
(``train``/``val``/``test``), and one field per modality (``audio``, ``image``: a file path,
relative paths being relative to the manifest's folder; ``text``: a string). JSON lines because
rows are independent (a bad row is located by its line) and any tool writes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autoglm_multimodal.errors import MultimodalError

SPLITS = ("train", "val", "test")


def read_items(path: str | Path) -> list[dict[str, Any]]:
    """Every item of a manifest, each with a string ``id``; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MultimodalError(f"{path}: cannot read the items manifest: {exc}") from None
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MultimodalError(f"{path}:{number}: not a JSON object: {exc.msg}") from None
        if not isinstance(item, dict) or "id" not in item:
            raise MultimodalError(f"{path}:{number}: an item is an object with an 'id'")
        item["id"] = str(item["id"])
        if item["id"] in seen:
            raise MultimodalError(f"{path}:{number}: duplicate item id {item['id']!r}")
        split = item.get("split")
        if split is not None and split not in SPLITS:
            raise MultimodalError(
                f"{path}:{number}: split {split!r} is not one of {', '.join(SPLITS)}"
            )
        seen.add(item["id"])
        items.append(item)
    if not items:
        raise MultimodalError(f"{path}: the items manifest holds no item")
    return items


def write_items(path: str | Path, items: list[dict[str, Any]]) -> Path:
    """Write a manifest (parent folders created); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, sort_keys=True) + "\n")
    return path


def item_file(manifest: str | Path, value: str) -> Path:
    """The file an item names: absolute as given, relative to the manifest's folder."""
    candidate = Path(value)
    return candidate if candidate.is_absolute() else Path(manifest).resolve().parent / candidate


def split_of(items: list[dict[str, Any]]) -> list[str | None]:
    """Each item's split (None when the manifest has no split yet)."""
    return [item.get("split") for item in items]
