"""Labelled text data: loading TSV/CSV/JSONL files, seeded stratified splits, JSONL artefacts.

Examples are plain ``{"text": str, "label": str}`` dicts. Labels are strings everywhere (a TSV
``1`` and a JSON ``1`` are the same class). Datasets cross node boundaries as JSONL files under
the run's artefacts folder, passed as paths, so the run store holds paths rather than thousands
of sentences.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from autoglm.paths import data_dir

Example = dict[str, str]


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """``path`` itself when it exists, else the same relative path inside the data folder
    (so workflows can say ``sst2/dev.tsv``)."""
    candidate = Path(path).expanduser()
    if candidate.exists() or candidate.is_absolute():
        return candidate
    shared = data_dir() / candidate
    return shared if shared.exists() else candidate


def load_examples(
    path: str | os.PathLike[str],
    *,
    text_field: str = "text",
    label_field: str = "label",
    limit: int | None = None,
) -> list[Example]:
    """Read ``.tsv``, ``.csv`` or ``.jsonl`` rows into examples; errors name file and row."""
    file = resolve_path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"data file {str(path)!r} not found (also looked in the data folder {data_dir()})"
        )
    suffix = file.suffix.lower()
    if suffix in (".tsv", ".csv"):
        with file.open(newline="", encoding="utf-8") as handle:
            delimiter = "\t" if suffix == ".tsv" else ","
            quoting = csv.QUOTE_NONE if suffix == ".tsv" else csv.QUOTE_MINIMAL
            rows: list[dict[str, Any]] = list(
                csv.DictReader(handle, delimiter=delimiter, quoting=quoting)
            )
    elif suffix in (".jsonl", ".json"):
        rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    else:
        raise ValueError(f"data file {file.name!r}: expected .tsv, .csv or .jsonl, got {suffix!r}")
    out: list[Example] = []
    for number, row in enumerate(rows, start=1):
        missing = [f for f in (text_field, label_field) if row.get(f) in (None, "")]
        if missing:
            raise ValueError(
                f"data file {file.name!r}, row {number}: expected fields {text_field!r} and "
                f"{label_field!r}, missing {missing} (fields found: {sorted(row)})"
            )
        out.append({"text": str(row[text_field]).strip(), "label": str(row[label_field]).strip()})
        if limit is not None and len(out) >= limit:
            break
    return out


def write_jsonl(path: str | os.PathLike[str], examples: list[Example]) -> str:
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples))
    return str(file)


def read_jsonl(path: str | os.PathLike[str]) -> list[Example]:
    return load_examples(path)


def labels_of(examples: list[Example]) -> list[str]:
    """The sorted set of labels (the class order used everywhere)."""
    return sorted({e["label"] for e in examples})


def split_examples(
    examples: list[Example], fractions: dict[str, float], *, seed: int = 0, stratify: bool = True
) -> dict[str, list[Example]]:
    """Seeded split into named parts by fractions (which must sum to 1). With ``stratify``
    every part keeps the label proportions. Parts are disjoint and cover all examples."""
    if not fractions or any(f <= 0 for f in fractions.values()):
        raise ValueError(f"fractions: expected positive values, got {fractions}")
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"fractions: expected values summing to 1, got {total:.4f}")
    rng = random.Random(seed)
    groups: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        groups[example["label"] if stratify else ""].append(example)
    parts: dict[str, list[Example]] = {name: [] for name in fractions}
    for key in sorted(groups):
        members = groups[key][:]
        rng.shuffle(members)
        start, cumulative = 0, 0.0
        names = list(fractions)
        for i, name in enumerate(names):
            cumulative += fractions[name]
            end = len(members) if i == len(names) - 1 else round(cumulative * len(members))
            parts[name].extend(members[start:end])
            start = end
    for name in parts:
        rng.shuffle(parts[name])
    return parts


def sample_examples(
    examples: list[Example], n: int, *, seed: int = 0, stratify: bool = True
) -> list[Example]:
    """``n`` examples drawn without replacement (all of them when ``n`` is larger)."""
    if n >= len(examples):
        return list(examples)
    return split_examples(
        examples, {"a": n / len(examples), "b": 1 - n / len(examples)}, seed=seed, stratify=stratify
    )["a"]
