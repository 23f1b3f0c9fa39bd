"""Splits by a grouping key: every item of a group lands in the same split.

Items of one speaker (one patient, one session) are not independent: a model that heard a
speaker in training recognises the voice, not the digit, and a random item split reports that
as accuracy. Here whole groups are assigned to train, validation and test, either named
(``test_groups``) or drawn with a seed, and ``check_disjoint`` refuses any dataset where a
group sits on both sides.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autoglm_multimodal.errors import MultimodalError


def choose_groups(
    groups: list[str],
    named: list[str] | None,
    fraction: float,
    rng: np.random.Generator,
    what: str,
) -> list[str]:
    """The named groups (each must exist) or ``ceil(fraction * len(groups))`` drawn ones."""
    if named is not None:
        unknown = sorted(set(named) - set(groups))
        if unknown:
            raise MultimodalError(f"{what}: unknown group(s) {unknown}; the items have {groups}")
        return list(named)
    count = math.ceil(fraction * len(groups)) if fraction > 0 else 0
    return [groups[i] for i in sorted(rng.permutation(len(groups))[:count])]


def assign_splits(
    items: list[dict[str, Any]],
    group_field: str,
    test_groups: list[str] | None,
    val_groups: list[str] | None,
    test_fraction: float,
    val_fraction: float,
    seed: int,
) -> dict[str, list[str]]:
    """Set each item's ``split`` in place; return the groups of each split."""
    missing = [i["id"] for i in items if i.get(group_field) in (None, "")]
    if missing:
        raise MultimodalError(
            f"{len(missing)} item(s) have no {group_field!r} to split by, e.g. {missing[:5]}"
        )
    groups = sorted({str(i[group_field]) for i in items})
    rng = np.random.default_rng(seed)
    test = choose_groups(groups, test_groups, test_fraction, rng, "test_groups")
    rest = [g for g in groups if g not in test]
    val = choose_groups(rest, val_groups, val_fraction, rng, "val_groups")
    overlap = sorted(set(test) & set(val))
    if overlap:
        raise MultimodalError(f"group(s) {overlap} named for both test and validation")
    train = [g for g in rest if g not in val]
    if not train:
        raise MultimodalError(f"no group left for training: {len(groups)} group(s) in all")
    where = {g: "test" for g in test} | {g: "val" for g in val} | {g: "train" for g in train}
    for item in items:
        item["split"] = where[str(item[group_field])]
    return {"train": train, "val": sorted(val), "test": sorted(test)}


def check_disjoint(groups: list[str], splits: list[str]) -> None:
    """Refuse a group present in two splits (a leak), naming the groups."""
    seen: dict[str, set[str]] = {}
    for group, split in zip(groups, splits, strict=True):
        seen.setdefault(group, set()).add(split)
    leaking = {g: sorted(s) for g, s in seen.items() if len(s) > 1}
    if leaking:
        shown = ", ".join(f"{g!r} in {'+'.join(s)}" for g, s in sorted(leaking.items())[:10])
        raise MultimodalError(f"group(s) in more than one split (a leak): {shown}")
