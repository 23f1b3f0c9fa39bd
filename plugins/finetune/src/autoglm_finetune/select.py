"""Choosing among trained candidates by validation only, and reporting each one honestly.

Every candidate (a zero-shot prompt, an optimised prompt, a probe, a fine-tune...) arrives with
its validation accuracy, its test predictions and its cost. The selection reads validation
only (ties: the cheaper in CPU seconds); test is reported for all, with a paired test of each
against the best *simple baseline* (the nearest centroid or the probe, whichever validated
better), so "the adapted model beats the probe" is a claim with a p-value.

Cost is reported as CPU seconds and, for candidates that count them (the prompt candidates),
model calls and on-disk cache hits apart: a rerun over cached embeddings does no model work,
and its calls say so. A candidate that does not count them reports None, never a guess.
"""

from __future__ import annotations

from typing import Any


def correct(predictions: list[str | None], gold: list[str]) -> list[int]:
    return [int(p == g) for p, g in zip(predictions, gold, strict=True)]


def select(
    candidates: list[dict[str, Any]], gold: list[str], *, baselines: tuple[str, ...]
) -> dict[str, Any]:
    """``candidates``: dicts with ``name``, ``val_accuracy``, ``test_predictions`` and optional
    ``cpu_seconds``, ``model_calls`` (or ``calls``) and ``cache_hits``. Returns the chosen
    name, the best baseline and one row per candidate (test accuracy, costs, McNemar p and
    bootstrap difference against the baseline)."""
    from autoglm_eval.api import mcnemar, paired_bootstrap

    if not candidates:
        raise ValueError("candidates: expected at least one, got none")
    ranked = sorted(candidates, key=lambda c: (-c["val_accuracy"], c.get("cpu_seconds", 0.0)))
    chosen = ranked[0]["name"]
    simple = [c for c in ranked if c["name"] in baselines]
    baseline = simple[0] if simple else None
    base_right = correct(baseline["test_predictions"], gold) if baseline else None
    rows = []
    for c in candidates:
        right = correct(c["test_predictions"], gold)
        row = {
            "name": c["name"],
            "val_accuracy": c["val_accuracy"],
            "test_accuracy": sum(right) / len(right) if right else 0.0,
            "cpu_seconds": c.get("cpu_seconds"),
            "model_calls": c.get("model_calls", c.get("calls")),
            "cache_hits": c.get("cache_hits"),
            "chosen": c["name"] == chosen,
        }
        if base_right is not None and baseline is not None and c["name"] != baseline["name"]:
            test = mcnemar(base_right, right)
            boot = paired_bootstrap(base_right, right, seed=0)
            row.update(
                mcnemar_p=test["p_value"],
                delta=boot["delta"],
                ci=(boot["ci_low"], boot["ci_high"]),
            )
        rows.append(row)
    return {"chosen": chosen, "baseline": baseline["name"] if baseline else None, "rows": rows}
