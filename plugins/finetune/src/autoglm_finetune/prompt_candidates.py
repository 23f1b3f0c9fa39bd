"""Prompts and the tuned probe as candidates of the adapt workflow (issue 19).

``finetune.select`` compares candidates that were all trained on the same train split, scored
on the same validation split (a seeded, stratified ``validation_fraction`` of train, built by
``load_splits``) and on the same test file. The prompt optimiser's own nodes split their data
their own way and report on their own dev rows, so they cannot stand beside a probe as they
are. ``finetune.prompt`` runs a prompt through the same splits:

* the prompt space is written against label *names* (``descriptions`` are templates, ``{name}``
  is a label with underscores and dashes as spaces), since an adapt workflow does not know its
  labels before it reads the data;
* when the space leaves a choice (several instructions or descriptions, shot counts,
  weights, calibrations), ``autoglm_prompt``'s optimiser chooses on the *train* split only
  (its few-shot pool and dev rows both come from train), with ``candidates`` as its budget;
  with nothing to choose (one zero-shot prompt) there is no search and train is not touched;
* the search's few-shot pool is only part of train (``pool_fraction``), so with ``refit`` (the
  default) the chosen prompt draws its examples again, the same way, from the whole train
  split, as a tuned model is refitted on all its training data: at "all pool examples" the
  prototypes are then the centroids of the whole train split, not of half of it;
* the first option of every list is the starting prompt, scored first; listing "every pool
  example" (shots 10000) at weight 1.0 first starts the search at the pool's nearest centroid
  (what issue 19 found the optimiser converging to), so its result is never below that on the
  train dev rows: with tens of candidates the search does not reliably find it by itself;
* the chosen prompt is then scored on validation (what selection reads) and test, and the node
  reports the same record as ``finetune.probe`` plus the model calls and cache hits it cost.

``finetune.refit`` trains ``finetune.probe`` with a config that arrives as an input, the
tuner's ``best_config``, so the tuned probe is a candidate like the others (a node's config
cannot reference another node's outputs).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.exclusive import TORCH_RNG
from autoglm_finetune.config import CommonConfig, DataInputs, TrainOutputs
from autoglm_prompt.api import ModelConfig, PromptCandidate, PromptSpace, SearchConfig

Shots = Annotated[int, Field(ge=0, le=10_000)]
Weight = Annotated[float, Field(ge=0.0, le=1.0)]
Calibration = Literal["none", "content_free", "batch"]


class PromptConfig(CommonConfig):
    instructions: list[str] = Field(
        default_factory=lambda: [""],
        min_length=1,
        max_length=50,
        description="Instruction wordings (an encoder embeds '<instruction> <text>'); first = "
        "the starting prompt",
    )
    descriptions: list[str] = Field(
        default_factory=lambda: ["{name}"],
        min_length=1,
        max_length=50,
        description="Label description templates; {name} is the label with underscores and "
        "dashes as spaces ('{name}' alone: the label-name zero-shot prompt)",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        max_length=10_000,
        description="Label -> the words {name} stands for, where the label itself is no name "
        "(SST-2's 0/1: negative/positive); other labels: underscores and dashes as spaces",
    )
    shots: list[Shots] = Field(
        default_factory=lambda: [0],
        min_length=1,
        description="Few-shot examples per label from the pool (0: zero-shot)",
    )
    example_sets: int = Field(1, ge=1, le=100, description="Seeded example draws to try")
    example_weights: list[Weight] = Field(
        default_factory=lambda: [1.0],
        min_length=1,
        description="Weight of the example prototypes against the descriptions",
    )
    calibrations: list[Calibration] = Field(
        default_factory=lambda: ["none"], min_length=1, description="none, content_free, batch"
    )
    candidates: int = Field(
        0,
        ge=0,
        le=1000,
        description="The search budget: points asked from the optimiser beyond the starting "
        "prompt (0: score the start and any seed only)",
    )
    max_calls: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="Cap on the search's model calls (it shrinks its candidates to fit)",
    )
    pool_fraction: float = Field(
        0.5, gt=0, lt=1, description="Share of the train split used as the few-shot pool"
    )
    pool_limit: int | None = Field(None, ge=1, le=1_000_000)
    refit: bool = Field(
        True,
        description="Draw the chosen prompt's few-shot examples again from the whole train "
        "split (the search's pool is pool_fraction of it)",
    )
    dev_limit: int | None = Field(
        None, ge=1, le=1_000_000, description="Cap on the train rows the search scores on"
    )

    @field_validator("descriptions")
    @classmethod
    def _name_in_each(cls, value: list[str]) -> list[str]:
        for template in value:
            if "{name}" not in template:
                raise ValueError(f"description {template!r}: expected '{{name}}' in it")
        return value

    def space(self, labels: list[str]) -> PromptSpace:
        """The prompt space over ``labels`` (validated as ``prompt.optimise`` validates it)."""
        descriptions = list(dict.fromkeys(self.descriptions))
        return PromptSpace(
            instructions=list(dict.fromkeys(self.instructions)),
            verbalizers={
                label: [
                    t.replace("{name}", self.names.get(label) or label_name(label))
                    for t in descriptions
                ]
                for label in labels
            },
            shots=self.shots,
            example_sets=self.example_sets,
            example_weights=self.example_weights,
            calibrations=self.calibrations,
        )


class PromptOutputs(TrainOutputs):
    checkpoint: str = Field(description="JSON file of the prompt (prompt.evaluate reads it)")
    model_calls: int = Field(description="Texts really run through the encoder: search + scoring")
    cache_hits: int = Field(description="Texts found in the on-disk embedding cache: no model work")
    search: dict[str, Any] = Field(
        default_factory=dict,
        description="The search on train: plan, start and best score on its dev rows, "
        "candidates scored, centroid and probe baselines, the chosen prompt's summary",
    )


def label_name(label: str) -> str:
    """A label as words: the label-name head's rule (``alarm_set`` -> ``alarm set``)."""
    return label.replace("_", " ").replace("-", " ")


class PromptNode(NodeType):
    """A zero-shot prompt or the prompt optimiser as an adapt candidate: searched on train,
    scored on the shared validation split and on test, with its model calls and cache hits."""

    name = "finetune.prompt"
    description = "A prompt (zero-shot or optimised on train) scored like the other candidates"
    Config = PromptConfig
    Inputs = DataInputs
    Outputs = PromptOutputs

    def execute(self, inputs: DataInputs, context: NodeContext) -> PromptOutputs:
        from autoglm_eval.api import classification_report
        from autoglm_finetune.data import node_splits
        from autoglm_prompt.api import predict_prompt

        cfg = self.config
        assert isinstance(cfg, PromptConfig)
        cpu, wall = time.process_time(), time.perf_counter()
        splits = node_splits(cfg, inputs)
        # The probe nodes' embedding cache: a raw text any candidate embedded is a cache hit.
        model = {"kind": "hf-encoder", "model": cfg.encoder, "device": cfg.device}
        model["cache_dir"] = str(context.cache_dir("hf-embeddings"))
        search_config = SearchConfig(
            model=model,
            mode="embedding",
            space=cfg.space(splits.labels),
            candidates=cfg.candidates,
            seed=cfg.seed,
            max_calls=cfg.max_calls,
            over_budget="shrink",
            pool_fraction=cfg.pool_fraction,
            pool_limit=cfg.pool_limit,
            dev_limit=cfg.dev_limit,
        )
        prompt, search = _choose(search_config, splits.train, context, refit=cfg.refit)
        context.progress(1, 2, "scoring validation and test")
        predicted, calls, hits = predict_prompt(
            ModelConfig(model=model, mode="embedding"),
            prompt,
            {"validation": splits.texts("validation"), "test": splits.texts("test")},
            context,
        )
        val_gold = [e["label"] for e in splits.validation]
        val = _accuracy(predicted["validation"], val_gold)
        test_pred = [p or "" for p in predicted["test"]]
        test_gold = [e["label"] for e in splits.test]
        accuracy = macro = None
        if test_gold:
            report = classification_report(test_gold, test_pred, splits.labels)
            accuracy, macro = report["accuracy"], report["macro"]["f1"]
        path = context.artifacts_dir / "prompt.json"
        path.write_text(prompt.model_dump_json(indent=2))
        context.progress(2, 2, f"validation accuracy {val:.4f}")
        return PromptOutputs(
            checkpoint=str(path),
            labels=splits.labels,
            val_accuracy=val,
            test_accuracy=accuracy,
            test_macro_f1=macro,
            test_predictions=test_pred,
            test_gold=test_gold,
            n_train=len(splits.train),
            n_validation=len(splits.validation),
            cpu_seconds=round(time.process_time() - cpu, 2),
            wall_seconds=round(time.perf_counter() - wall, 2),
            model_calls=search.get("calls", 0) + calls,
            cache_hits=search.get("cache_hits", 0) + hits,
            search=search,
        )


def _choose(
    config: SearchConfig, train: list[dict[str, str]], context: NodeContext, *, refit: bool
) -> tuple[PromptCandidate, dict[str, Any]]:
    """The prompt to score: the optimiser's best on train (with ``refit``, its examples drawn
    from all of ``train``), or, when the space leaves nothing to choose, its only point (no
    search, no train text embedded)."""
    from autoglm_prompt.api import optimise_prompt

    space = config.space.for_encoder()
    if not space.dimensions() and max(space.shots) == 0:
        return space.decode(space.start(), []), {"searched": False}
    result, plan = optimise_prompt(config, train, context)
    best, refitted = result.best, False
    if refit and result.best_point is not None and best.examples:
        best, refitted = space.decode(result.best_point, train, config.seed), True
    return best, {
        "searched": True,
        "refitted": refitted,
        "best_point": result.best_point,
        "plan": plan,
        "start_score": result.start_score,
        "best_score": result.best_score,
        "candidates_scored": len(result.trials),
        "calls": result.calls,
        "cache_hits": result.cache_hits,
        "stopped": result.stopped,
        "baselines": result.baselines,
        "summary": result.best.summary(),
    }


def _accuracy(predicted: list[str | None], gold: list[str]) -> float:
    if not gold:
        return 0.0
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)


class RefitInputs(DataInputs):
    config: dict[str, Any] = Field(
        description="A finetune.probe config, e.g. tuner.search's best_config"
    )


class RefitNode(NodeType):
    """Train ``finetune.probe`` with a config given as an input (a tuner's best), so the tuned
    probe is a candidate scored on the same splits as every other."""

    name = "finetune.refit"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "finetune.probe with its config from an input (e.g. tuner.search best_config)"
    Inputs = RefitInputs
    Outputs = TrainOutputs

    def execute(self, inputs: RefitInputs, context: NodeContext) -> NodeModel:
        from autoglm_finetune.config import ProbeConfig
        from autoglm_finetune.nodes import ProbeNode

        probe = ProbeNode()
        probe.init(ProbeConfig.model_validate(inputs.config), context)
        data = DataInputs(train=inputs.train, validation=inputs.validation, test=inputs.test)
        return probe.execute(data, context)


NODE_TYPES: tuple[type[NodeType], ...] = (PromptNode, RefitNode)
