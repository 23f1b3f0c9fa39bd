"""The simple baselines every encoder prompt search is reported against.

Issue 19: at 77 and 150 labels the optimiser converged to a nearest-centroid classifier (empty
instruction, all pool examples, weight 1), which it tied at 2-3x the encoder calls, and a
logistic probe on the same embeddings beat both by 3-6 points. So the report of every encoder
search carries both, trained on the same few-shot pool and scored on the same dev rows: a
prompt that does not beat them is not worth its calls.
"""

from __future__ import annotations

from typing import Any

from autoglm_prompt.budget import BudgetExhausted
from autoglm_prompt.data import Example


def encoder_baselines(scorer: Any, dev: list[Example], pool: list[Example]) -> dict[str, Any]:
    """Dev accuracy of the nearest class centroid and of a logistic probe (C=1) trained on the
    pool's embeddings, and the calls they cost (texts not yet embedded in this run)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    labels = sorted({e["label"] for e in pool})
    if len(labels) < 2 or not dev:
        return {"skipped": "needs a pool with at least 2 labels and dev rows"}
    before = scorer.budget.used
    try:
        x = scorer.embed([e["text"] for e in pool])
        xd = scorer.embed([e["text"] for e in dev])
    except BudgetExhausted as exc:
        return {"skipped": f"call budget spent before the baselines could embed ({exc})"}
    y = np.array([labels.index(e["label"]) for e in pool])
    truth = np.array([labels.index(e["label"]) if e["label"] in labels else -1 for e in dev])
    means = np.stack([x[y == c].mean(axis=0) for c in range(len(labels))])
    centroid = (xd @ means.T).argmax(axis=1)
    probe = LogisticRegression(C=1.0, max_iter=2000).fit(x, y).predict(xd)
    return {
        "centroid": float((centroid == truth).mean()),
        "probe": float((probe == truth).mean()),
        "calls": scorer.budget.used - before,
        "trained_on": f"{len(pool)} pool examples",
    }
