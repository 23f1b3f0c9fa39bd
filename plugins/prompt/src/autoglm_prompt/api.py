"""The public API of ``autoglm-prompt``: what other plugins may import.

``autoglm-finetune`` reads the same labelled files as ``prompt.load`` (TSV/CSV with real
quoting, JSONL, located errors) and splits them the same seeded, stratified way; its adapt
workflow runs zero-shot prompts and the optimiser as candidates beside probes and fine-tunes.
These are the names promised to stay. Importing this module is light (no numpy, no torch):
the search and the scorers load inside ``optimise_prompt`` and ``predict_prompt``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoglm_prompt.candidate import PromptCandidate
from autoglm_prompt.config import ModelConfig, SearchConfig
from autoglm_prompt.data import (
    Example,
    labels_of,
    load_examples,
    read_jsonl,
    sample_examples,
    split_examples,
    write_jsonl,
)
from autoglm_prompt.space import PromptSpace

if TYPE_CHECKING:
    from autoglm import NodeContext


def optimise_prompt(
    config: SearchConfig,
    train: list[Example],
    context: NodeContext,
    pool: list[Example] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Plan and run one search as ``prompt.optimise`` does (pool and dev from ``train``
    unless a pool is given); returns its result (``best``, ``best_score``, ``calls``,
    ``cache_hits``, ``baselines``, ``trials``...) and the plan."""
    from autoglm_prompt.runner import optimise

    return optimise(config, train, pool, context)


def predict_prompt(
    config: ModelConfig,
    candidate: PromptCandidate,
    parts: dict[str, list[str]],
    context: NodeContext,
) -> tuple[dict[str, list[str | None]], int, int]:
    """Predictions of ``candidate`` for each named list of texts, with one scorer (label
    descriptions embedded once), and the model calls and cache hits that cost, apart."""
    from autoglm_prompt.budget import CallBudget
    from autoglm_prompt.runner import build_scorer

    budget = CallBudget()
    scorer = build_scorer(config, context, budget)
    out = {name: scorer.predict(candidate, t)[0] if t else [] for name, t in parts.items()}
    return out, budget.used, budget.cache_hits


__all__ = [
    "Example",
    "ModelConfig",
    "PromptCandidate",
    "PromptSpace",
    "SearchConfig",
    "labels_of",
    "load_examples",
    "optimise_prompt",
    "predict_prompt",
    "read_jsonl",
    "sample_examples",
    "split_examples",
    "write_jsonl",
]
