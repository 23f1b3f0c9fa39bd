"""Glue between node configs and the optimiser: load the model, build scorer and data, run,
journal, and write the artefacts. Shared by ``prompt.optimise`` and ``prompt.reoptimise``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autoglm import NodeContext
from autoglm_hf.api import ModelSpec
from autoglm_prompt.baselines import baseline_calls, encoder_baselines
from autoglm_prompt.budget import CallBudget
from autoglm_prompt.candidate import PromptCandidate
from autoglm_prompt.config import ModelConfig, SearchConfig
from autoglm_prompt.data import Example, sample_examples, split_examples
from autoglm_prompt.optimizer import PromptOptimizer, Result, Settings
from autoglm_prompt.scorers import Scorer, make_scorer


def load_model(model: ModelSpec, context: NodeContext) -> Any:
    """The adapter for ``model``; encoders cache embeddings under the autoglm home."""
    from autoglm_hf.api import from_spec

    spec = model.to_spec()
    if spec.get("kind") == "hf-encoder" and "cache_dir" not in spec:
        spec["cache_dir"] = str(context.cache_dir("embeddings"))
    return from_spec(spec)


def build_scorer(config: ModelConfig, context: NodeContext, budget: CallBudget) -> Scorer:
    return make_scorer(load_model(config.model, context), config.mode, budget)


def read_prompt(path: str | Path) -> PromptCandidate:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"prompt file {str(path)!r} not found")
    return PromptCandidate.model_validate_json(file.read_text())


def write_prompt(path: Path, candidate: PromptCandidate) -> str:
    path.write_text(candidate.model_dump_json(indent=2))
    return str(path)


def dev_and_pool(
    config: SearchConfig, train: list[Example], pool: list[Example] | None
) -> tuple[list[Example], list[Example]]:
    """Scored dev set and few-shot pool: a given pool, or a seeded split of ``train``."""
    if pool is None:
        parts = split_examples(
            train, {"pool": config.pool_fraction, "dev": 1 - config.pool_fraction}, seed=config.seed
        )
        pool, dev = parts["pool"], parts["dev"]
    else:
        dev = train
    if config.pool_limit is not None:
        pool = sample_examples(pool, config.pool_limit, seed=config.seed)
    if config.dev_limit is not None:
        dev = sample_examples(dev, config.dev_limit, seed=config.seed)
    return dev, pool


def warm_candidates(
    context: NodeContext, labels: list[str], limit: int = 3
) -> list[PromptCandidate]:
    """Best prompts of earlier runs (newest first) for the same labels."""
    out: list[PromptCandidate] = []
    for _run, _node, payload in context.journal_search("prompt.best", limit=50):
        try:
            candidate = PromptCandidate.model_validate(payload["candidate"])
        except (KeyError, TypeError, ValueError):
            continue
        if candidate.labels == labels and candidate not in out:
            out.append(candidate)
        if len(out) >= limit:
            break
    return out


def optimise(
    config: SearchConfig,
    train: list[Example],
    pool: list[Example] | None,
    context: NodeContext,
    *,
    seed_candidates: list[PromptCandidate] = (),
) -> tuple[Result, dict[str, Any]]:
    """Plan (budget check) and run one optimisation; returns the result and the plan."""
    budget = CallBudget(config.max_calls)
    scorer = build_scorer(config, context, budget)
    space = config.space.for_encoder() if scorer.kind == "embedding" else config.space
    if scorer.kind != "embedding":
        space = space.for_text_model()
    proposer = load_model(config.proposer, context) if config.proposer else None
    dev, pool_ = dev_and_pool(config, train, pool)
    seeds = list(seed_candidates)
    if config.warm_start:
        seeds += [c for c in warm_candidates(context, space.labels) if c not in seeds]
    encoder_search = scorer.kind == "embedding"
    reserved = baseline_calls(dev, pool_, space.instructions) if encoder_search else 0
    known = {e["key"]: e["score"] for e in context.journal_read("prompt.candidate")}
    proposals = {e["round"]: e["instructions"] for e in context.journal_read("prompt.proposals")}
    optimizer = PromptOptimizer(
        space,
        scorer,
        dev,
        pool_,
        Settings(
            candidates=config.candidates,
            optimizer=config.optimizer,
            seed=config.seed,
            metric=config.metric,
            max_calls=config.max_calls,
            over_budget=config.over_budget,
            opro_rounds=config.opro_rounds,
            proposals=config.proposals,
        ),
        proposer=proposer,
        journal=context.journal_append,
        progress=context.progress,
        check_cancelled=context.check_cancelled,
        known_scores=known,
        known_proposals=proposals,
        seed_candidates=seeds,
        reserved_calls=reserved,
    )
    plan = optimizer.plan()
    context.log.info("prompt.plan", **plan)
    # Before the search: a search that spends its budget still reports the baselines.
    if encoder_search:
        baselines = encoder_baselines(scorer, dev, pool_)
    else:
        own = make_scorer(load_model(config.baseline_encoder, context), "embedding", CallBudget())
        baselines = {**encoder_baselines(own, dev, pool_), "encoder": config.baseline_encoder.model}
    result = optimizer.run()
    result.baselines = baselines
    context.journal_append(
        "prompt.best", {"score": result.best_score, "candidate": result.best.model_dump()}
    )
    if result.stopped:
        context.log.warning("prompt.budget_stop", reason=result.stopped)
    return result, plan


def write_history(path: Path, result: Result, plan: dict[str, Any]) -> str:
    payload = {"plan": plan, "baselines": result.baselines, "trials": result.trials}
    path.write_text(json.dumps(payload, indent=1))
    return str(path)
