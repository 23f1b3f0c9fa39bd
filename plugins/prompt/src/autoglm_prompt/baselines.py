"""The simple baselines every prompt search is reported against.

Issue 19: at 77 and 150 labels the optimiser converged to a nearest-centroid classifier (empty
instruction, all pool examples, weight 1), which it tied at 2-3x the encoder calls, and a
logistic probe on the same embeddings beat both by 3-6 points. So the report of every search
carries both, trained on the same few-shot pool and scored on the same dev rows: a prompt that
does not beat them is not worth its calls.

They are computed *before* the search, so a search that spends its whole budget still reports
them; an encoder search reserves their calls in its plan (``baseline_calls``), and the raw
texts they embed are the ones a prompt with an empty instruction embeds anyway. A text-model
search has no embeddings of its own: its baselines use ``baseline_encoder`` (all-MiniLM-L6-v2
by default), whose encoder calls are counted apart from the text model's.
"""

from __future__ import annotations

from typing import Any

from autoglm_prompt.budget import BudgetExhausted
from autoglm_prompt.data import Example


def baseline_calls(dev: list[Example], pool: list[Example], instructions: list[str]) -> int:
    """Upper bound of the encoder calls of ``encoder_baselines`` beyond the search's own:
    the pool texts, and the dev texts unless an empty instruction embeds them anyway."""
    return len(pool) + (0 if "" in instructions else len(dev))


def encoder_baselines(scorer: Any, dev: list[Example], pool: list[Example]) -> dict[str, Any]:
    """Dev accuracy of the nearest class centroid and of a logistic probe (C=1) trained on the
    pool's embeddings, and what they cost: model calls (texts not yet embedded in this run nor
    in the on-disk cache) and cache hits, apart."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    labels = sorted({e["label"] for e in pool})
    if len(labels) < 2 or not dev:
        return {"skipped": "needs a pool with at least 2 labels and dev rows"}
    calls, hits = scorer.budget.used, scorer.budget.cache_hits
    try:
        x = scorer.embed([e["text"] for e in pool])
        xd = scorer.embed([e["text"] for e in dev])
    except BudgetExhausted as exc:
        return {"skipped": f"call budget spent before the baselines could embed ({exc})"}
    y = np.array([labels.index(e["label"]) for e in pool])
    truth = np.array([labels.index(e["label"]) if e["label"] in labels else -1 for e in dev])
    # Cosine to each normalised class mean: the prompt with every pool example at weight 1.0
    # (the encoder scorer's prototypes) and finetune.probe's centroid head. Raw means favoured
    # the tight classes, whose means are longer.
    means = np.stack([x[y == c].mean(axis=0) for c in range(len(labels))])
    means /= np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)
    centroid = (xd @ means.T).argmax(axis=1)
    probe = LogisticRegression(C=1.0, max_iter=2000).fit(x, y).predict(xd)
    return {
        "centroid": float((centroid == truth).mean()),
        "probe": float((probe == truth).mean()),
        "calls": scorer.budget.used - calls,
        "cache_hits": scorer.budget.cache_hits - hits,
        "trained_on": f"{len(pool)} pool examples",
    }
