"""Labelled splits for training: train, validation (given, or a seeded stratified share of
train) and an optional test file. Selection must only ever see validation; test is scored once,
at the end, and reported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autoglm_prompt.api import Example, labels_of, load_examples, split_examples


@dataclass
class Splits:
    train: list[Example]
    validation: list[Example]
    test: list[Example]
    labels: list[str]

    def texts(self, part: str) -> list[str]:
        return [e["text"] for e in getattr(self, part)]

    def targets(self, part: str) -> list[int]:
        """Label indices (in ``labels`` order); a test label unseen in training is -1."""
        index = {label: i for i, label in enumerate(self.labels)}
        return [index.get(e["label"], -1) for e in getattr(self, part)]


def load_splits(
    train: str,
    validation: str | None,
    test: str | None,
    *,
    validation_fraction: float,
    seed: int,
    limit: int | None = None,
) -> Splits:
    """Read the files; without a validation file, hold out ``validation_fraction`` of train."""
    rows = load_examples(train, limit=limit)
    if validation:
        val = load_examples(validation)
    else:
        parts = split_examples(
            rows, {"train": 1 - validation_fraction, "val": validation_fraction}, seed=seed
        )
        rows, val = parts["train"], parts["val"]
    labels = labels_of(rows)
    if len(labels) < 2:
        raise ValueError(f"train: expected at least 2 labels, found {labels}")
    return Splits(rows, val, load_examples(test) if test else [], labels)


def node_splits(cfg: Any, inputs: Any) -> Splits:
    """The splits a finetune node trains and scores on, from its config (``validation_fraction``,
    ``seed``, ``limit``) and its data inputs: every candidate of one workflow gets the same."""
    return load_splits(
        inputs.train,
        inputs.validation,
        inputs.test,
        validation_fraction=cfg.validation_fraction,
        seed=cfg.seed,
        limit=cfg.limit,
    )
