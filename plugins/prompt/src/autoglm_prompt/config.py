"""Config models shared by the prompt nodes (pydantic only: cheap to import for listings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from autoglm import NodeModel
from autoglm_hf.api import ModelSpec
from autoglm_prompt.space import PromptSpace

DEFAULT_MODEL = {"kind": "hf-encoder", "model": "default"}


class ModelConfig(NodeModel):
    model: ModelSpec = Field(
        default_factory=lambda: ModelSpec(**DEFAULT_MODEL),
        description="Model adapter spec for autoglm_hf.adapters.from_spec; an hf-encoder gets "
        "an on-disk embedding cache in the autoglm home unless cache_dir is given",
    )
    mode: Literal["auto", "embedding", "likelihood", "generate"] = Field(
        "auto", description="How the model scores: auto = embedding for encoders, else likelihood"
    )


class SearchConfig(ModelConfig):
    space: PromptSpace
    candidates: int = Field(
        30, ge=0, le=10_000, description="Points asked from Nevergrad (plus the start)"
    )
    optimizer: str = Field("NGOpt", description="Any name in nevergrad.optimizers.registry")
    seed: int = 0
    metric: Literal["accuracy", "macro_f1"] = "accuracy"
    max_calls: int | None = Field(None, ge=1, le=10_000_000, description="Budget of model calls")
    over_budget: Literal["refuse", "shrink"] = Field(
        "refuse", description="When the estimate exceeds max_calls: fail, or fewer candidates"
    )
    pool_fraction: float = Field(
        0.5, gt=0, lt=1, description="Share of train used as few-shot pool when no pool is given"
    )
    pool_limit: int | None = Field(
        None, ge=1, le=1_000_000, description="Cap on the pool size (seeded sample)"
    )
    dev_limit: int | None = Field(
        None, ge=1, le=1_000_000, description="Cap on the scored dev examples"
    )
    proposer: ModelSpec | None = Field(
        None, description="Generative model spec for OPRO instruction proposals (none: off)"
    )
    opro_rounds: int = Field(0, ge=0, le=100, description="Proposal rounds (with a proposer)")
    proposals: int = Field(2, ge=1, le=100, description="New instructions per round")
    warm_start: bool = Field(
        False, description="Also score the best prompts of earlier runs (journal search)"
    )
    baseline_encoder: ModelSpec = Field(
        default_factory=lambda: ModelSpec(**DEFAULT_MODEL),
        description="Text-model searches: the encoder of the centroid and probe baselines "
        "(encoder searches use their own model)",
    )
