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
from collections.abc import Iterator
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
    """Read ``.tsv``, ``.csv`` or ``.jsonl`` rows into examples; errors name file, row (and
    line) and column."""
    file = resolve_path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"data file {str(path)!r} not found (also looked in the data folder {data_dir()})"
        )
    suffix = file.suffix.lower()
    fields = (text_field, label_field)
    if suffix in (".tsv", ".csv"):
        rows = _read_delimited(file, "\t" if suffix == ".tsv" else ",", fields)
    elif suffix in (".jsonl", ".json"):
        rows = _read_jsonl(file)
    else:
        raise ValueError(f"data file {file.name!r}: expected .tsv, .csv or .jsonl, got {suffix!r}")
    out: list[Example] = []
    for number, (where, row) in enumerate(rows, start=1):
        for field in fields:
            if row.get(field) in (None, ""):
                raise ValueError(
                    f"data file {file.name!r}, row {number} ({where}), column {field!r}: empty or "
                    f"missing (expected fields {text_field!r} and {label_field!r}; fields found: "
                    f"{sorted(row)})"
                )
        out.append({"text": str(row[text_field]).strip(), "label": str(row[label_field]).strip()})
        if limit is not None and len(out) >= limit:
            break
    return out


def _lines(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _read_delimited(
    file: Path, delimiter: str, fields: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, str]]]:
    """Rows of a TSV or CSV with real quoting (as pandas and spreadsheets write them: a field
    holding the delimiter, a quote or a newline is quoted, inner quotes doubled), each with its
    line span. A GLUE-style TSV without quotes reads the same. Rows of the wrong width are
    errors naming the row, its lines and the column: with quoting, an unbalanced quote swallows
    the following lines, and that is what the span then shows."""
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ValueError(f"data file {file.name!r}, header (line 1): {exc}") from exc
        if header is None:
            raise ValueError(f"data file {file.name!r}: empty (expected a header line)")
        header = [h.strip() for h in header]
        if any(f not in header for f in fields):
            raise ValueError(
                f"data file {file.name!r}, header (line 1): expected columns "
                f"{' and '.join(map(repr, fields))}, found {header}"
            )
        number, last = 0, reader.line_num
        while True:
            first = last + 1
            try:
                values = next(reader, None)
            except csv.Error as exc:
                hint = (
                    f"; a quote opened on line {first} runs on: an unbalanced quote?"
                    if reader.line_num > first
                    else ""
                )
                raise ValueError(
                    f"data file {file.name!r}, row {number + 1} ({_lines(first, reader.line_num)})"
                    f": {exc}{hint}"
                ) from exc
            if values is None:
                return
            number, last = number + 1, reader.line_num
            where = _lines(first, last)
            if not values or values == [""]:
                continue  # a blank line
            if len(values) != len(header):
                missing = header[len(values) :]
                detail = (
                    f"column {missing[0]!r} is missing"
                    if missing
                    else f"an unquoted {'tab' if delimiter == chr(9) else 'comma'} in a text?"
                )
                if last > first:
                    detail += "; the row spans several lines: an unbalanced quote?"
                raise ValueError(
                    f"data file {file.name!r}, row {number} ({where}): expected "
                    f"{len(header)} fields {header}, got {len(values)}: {detail}"
                )
            yield where, dict(zip(header, values, strict=True))


def _read_jsonl(file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """One JSON object per line; a line that is not one is an error naming it."""
    with file.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(
                    f"data file {file.name!r}, line {line_number}: not valid JSON ({exc})"
                ) from exc
            if not isinstance(row, dict):
                raise ValueError(
                    f"data file {file.name!r}, line {line_number}: expected a JSON object, got "
                    f"{type(row).__name__}"
                )
            yield f"line {line_number}", row


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
