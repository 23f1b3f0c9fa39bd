"""Node types of the prompt optimiser. Only pydantic and the config models are imported here;
numpy, nevergrad and the model adapters load inside ``execute``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputPath
from autoglm_prompt.config import ModelConfig, SearchConfig
from autoglm_prompt.reoptimise import ReoptimiseConfig

# ------------------------------------------------------------------------------ prompt.load


class LoadConfig(NodeModel):
    path: InputPath = Field(
        description="A .tsv/.csv/.jsonl file; relative paths also resolve in the "
        "shared data folder ($AUTOGLM_DATA_DIR, default ../shared/data)"
    )
    text_field: str = "text"
    label_field: str = "label"
    limit: int | None = Field(None, ge=1, description="Read at most this many rows")


class DataOutputs(NodeModel):
    data: str = Field(description="JSONL file of {text, label}")
    n: int
    labels: list[str]


class LoadNode(NodeType):
    """Load a labelled text file into the JSONL form the prompt nodes pass around."""

    name = "prompt.load"
    Config = LoadConfig
    Outputs = DataOutputs

    @classmethod
    def state_fingerprint(
        cls, config: LoadConfig, inputs: NodeModel, context: NodeContext
    ) -> str | None:
        """The data file's size and modification time: an edited file is read again."""
        from autoglm.fingerprints import files_fingerprint
        from autoglm_prompt.data import resolve_path

        return files_fingerprint([resolve_path(config.path)])

    def execute(self, inputs: NodeModel, context: NodeContext) -> DataOutputs:
        from autoglm_prompt.data import labels_of, load_examples, write_jsonl

        cfg = self.config
        assert isinstance(cfg, LoadConfig)
        rows = load_examples(
            cfg.path, text_field=cfg.text_field, label_field=cfg.label_field, limit=cfg.limit
        )
        path = write_jsonl(context.artifacts_dir / "data.jsonl", rows)
        return DataOutputs(data=path, n=len(rows), labels=labels_of(rows))


# ----------------------------------------------------------------------------- prompt.split


class SplitConfig(NodeModel):
    heldout_fraction: float = Field(0.5, gt=0, lt=1)
    seed: int = 0
    stratify: bool = True


class DataInput(NodeModel):
    data: InputPath = Field(description="JSONL of labelled examples")


class SplitOutputs(NodeModel):
    train: str = Field(description="JSONL for the optimiser")
    heldout: str = Field(description="JSONL the optimiser never sees; report on it")
    n_train: int
    n_heldout: int


class SplitNode(NodeType):
    """Seeded, stratified split into an optimisation part and a held-out part."""

    name = "prompt.split"
    Config = SplitConfig
    Inputs = DataInput
    Outputs = SplitOutputs

    def execute(self, inputs: DataInput, context: NodeContext) -> SplitOutputs:
        from autoglm_prompt.data import read_jsonl, split_examples, write_jsonl

        cfg = self.config
        assert isinstance(cfg, SplitConfig)
        parts = split_examples(
            read_jsonl(inputs.data),
            {"train": 1 - cfg.heldout_fraction, "heldout": cfg.heldout_fraction},
            seed=cfg.seed,
            stratify=cfg.stratify,
        )
        folder = context.artifacts_dir
        return SplitOutputs(
            train=write_jsonl(folder / "train.jsonl", parts["train"]),
            heldout=write_jsonl(folder / "heldout.jsonl", parts["heldout"]),
            n_train=len(parts["train"]),
            n_heldout=len(parts["heldout"]),
        )


# -------------------------------------------------------------------------- prompt.optimise


class OptimiseInputs(NodeModel):
    train: InputPath = Field(description="JSONL of labelled examples to optimise on")
    pool: InputPath | None = Field(None, description="JSONL few-shot pool (default: part of train)")


class OptimiseOutputs(NodeModel):
    prompt: str = Field(description="JSON file of the best prompt candidate")
    best_score: float
    start_score: float
    calls: int = Field(description="Real model calls (texts embedded, prompts scored)")
    cache_hits: int = Field(0, description="Texts found in the on-disk cache: not model calls")
    estimated_calls: int
    candidates_scored: int
    summary: dict[str, Any]
    history: str = Field(description="JSON file with the plan and every scored candidate")
    stopped: str | None = Field(None, description="Why the search stopped early (budget)")
    baselines: dict[str, Any] = Field(
        default_factory=dict,
        description="Encoder searches: dev accuracy of the nearest class centroid and of a "
        "logistic probe trained on the same pool, and their calls; beat them or use them",
    )


class OptimiseNode(NodeType):
    """Search instruction, verbalizers, few-shot examples, order and format with Nevergrad
    (and OPRO proposals), under a budget of model calls."""

    name = "prompt.optimise"
    Config = SearchConfig
    Inputs = OptimiseInputs
    Outputs = OptimiseOutputs

    def execute(self, inputs: OptimiseInputs, context: NodeContext) -> OptimiseOutputs:
        from autoglm_prompt.data import read_jsonl
        from autoglm_prompt.runner import optimise, write_history, write_prompt

        cfg = self.config
        assert isinstance(cfg, SearchConfig)
        pool = read_jsonl(inputs.pool) if inputs.pool else None
        result, plan = optimise(cfg, read_jsonl(inputs.train), pool, context)
        folder = context.artifacts_dir
        return OptimiseOutputs(
            prompt=write_prompt(folder / "prompt.json", result.best),
            best_score=result.best_score,
            start_score=result.start_score,
            calls=result.calls,
            cache_hits=result.cache_hits,
            estimated_calls=result.estimated_calls,
            candidates_scored=len(result.trials),
            summary=result.best.summary(),
            history=write_history(folder / "history.json", result, plan),
            stopped=result.stopped,
            baselines=result.baselines,
        )


# -------------------------------------------------------------------------- prompt.evaluate


class EvaluateConfig(ModelConfig):
    prompt: dict[str, Any] | None = Field(
        None, description="An inline prompt candidate (used when no prompt file is connected)"
    )


class EvaluateInputs(NodeModel):
    data: InputPath = Field(description="JSONL of labelled examples")
    prompt: InputPath | None = Field(None, description="JSON prompt file from prompt.optimise")


class EvaluateOutputs(NodeModel):
    accuracy: float
    macro_f1: float
    report: dict[str, Any]
    y_true: list[str]
    y_pred: list[str | None]
    calls: int = Field(description="Real model calls")
    cache_hits: int = Field(0, description="Texts found in the on-disk cache: not model calls")


class EvaluateNode(NodeType):
    """Apply one prompt to labelled data: predictions and every metric."""

    name = "prompt.evaluate"
    Config = EvaluateConfig
    Inputs = EvaluateInputs
    Outputs = EvaluateOutputs

    def execute(self, inputs: EvaluateInputs, context: NodeContext) -> EvaluateOutputs:
        from autoglm_eval.api import classification_report
        from autoglm_prompt.budget import CallBudget
        from autoglm_prompt.candidate import PromptCandidate
        from autoglm_prompt.data import read_jsonl
        from autoglm_prompt.runner import build_scorer, read_prompt

        cfg = self.config
        assert isinstance(cfg, EvaluateConfig)
        if inputs.prompt:
            candidate = read_prompt(inputs.prompt)
        elif cfg.prompt is not None:
            candidate = PromptCandidate.model_validate(cfg.prompt)
        else:
            raise ValueError(
                "prompt.evaluate: connect a prompt file (input 'prompt') or set "
                "config 'prompt'; found neither"
            )
        rows = read_jsonl(inputs.data)
        budget = CallBudget()
        predictions, _ = build_scorer(cfg, context, budget).predict(
            candidate, [r["text"] for r in rows]
        )
        truth = [r["label"] for r in rows]
        report = classification_report(truth, predictions, candidate.labels)
        return EvaluateOutputs(
            accuracy=report["accuracy"],
            macro_f1=report["macro"]["f1"],
            report=report,
            y_true=truth,
            y_pred=predictions,
            calls=budget.used,
            cache_hits=budget.cache_hits,
        )


# -------------------------------------------------------------------------- prompt.baseline


class BaselineConfig(ModelConfig):
    prompts: list[dict[str, Any]] = Field(min_length=1, description="Hand-written candidates")


class BaselineOutputs(NodeModel):
    prompt: str = Field(description="JSON file of the best hand-written prompt on train")
    scores: list[float]
    best_index: int
    calls: int = Field(description="Real model calls, all prompts together")
    cache_hits: int = Field(0, description="Texts found in the on-disk cache: not model calls")


class BaselineNode(NodeType):
    """Pick the best of a few hand-written prompts on the optimisation data (a fair baseline:
    chosen on the same data the optimiser sees, reported on held-out)."""

    name = "prompt.baseline"
    Config = BaselineConfig
    Inputs = DataInput
    Outputs = BaselineOutputs

    def execute(self, inputs: DataInput, context: NodeContext) -> BaselineOutputs:
        from autoglm_prompt.budget import CallBudget
        from autoglm_prompt.candidate import PromptCandidate
        from autoglm_prompt.data import read_jsonl
        from autoglm_prompt.optimizer import metric_value
        from autoglm_prompt.runner import build_scorer, write_prompt

        cfg = self.config
        assert isinstance(cfg, BaselineConfig)
        candidates = [PromptCandidate.model_validate(p) for p in cfg.prompts]
        rows = read_jsonl(inputs.data)
        budget = CallBudget()
        scorer = build_scorer(cfg, context, budget)
        scores = []
        for i, candidate in enumerate(candidates):
            predictions, _ = scorer.predict(candidate, [r["text"] for r in rows])
            scores.append(metric_value("accuracy", [r["label"] for r in rows], predictions))
            context.progress(i + 1, len(candidates), f"prompt {i}: {scores[-1]:.4f}")
        best = max(range(len(scores)), key=scores.__getitem__)
        path = write_prompt(context.artifacts_dir / "baseline.json", candidates[best])
        return BaselineOutputs(
            prompt=path,
            scores=scores,
            best_index=best,
            calls=budget.used,
            cache_hits=budget.cache_hits,
        )


# ------------------------------------------------------------------------ prompt.reoptimise


class ReoptimiseInputs(NodeModel):
    champion: InputPath | None = Field(
        None, description="Prompt file serving now, used when the store holds no champion yet"
    )


class ReoptimiseOutputs(NodeModel):
    triggered: bool
    promoted: bool
    reason: str
    new_feedback: int
    decision_id: int
    n_labelled: int = 0
    weak_labels: dict[str, Any] | None = None
    champion: str | None = Field(None, description="Prompt file of the champion after the run")


class ReoptimiseNode(NodeType):
    """When enough new feedback has accumulated: weak labels, re-optimise, champion/challenger."""

    name = "prompt.reoptimise"
    Config = ReoptimiseConfig
    Inputs = ReoptimiseInputs
    Outputs = ReoptimiseOutputs

    @classmethod
    def state_fingerprint(
        cls, config: ReoptimiseConfig, inputs: ReoptimiseInputs, context: NodeContext
    ) -> str | None:
        """The feedback store (rows, champion, watermark) and the champion file: new feedback
        recomputes the step; a rerun with nothing new is a cache hit."""
        from autoglm_prompt.reoptimise import state_fingerprint

        return state_fingerprint(config, inputs.champion, context)

    def execute(self, inputs: ReoptimiseInputs, context: NodeContext) -> ReoptimiseOutputs:
        from autoglm_prompt.reoptimise import reoptimise
        from autoglm_prompt.runner import read_prompt

        cfg = self.config
        assert isinstance(cfg, ReoptimiseConfig)
        initial = read_prompt(inputs.champion).model_dump() if inputs.champion else None
        return ReoptimiseOutputs(**reoptimise(cfg, context, initial))


NODE_TYPES: tuple[type[NodeType], ...] = (
    LoadNode,
    SplitNode,
    OptimiseNode,
    EvaluateNode,
    BaselineNode,
    ReoptimiseNode,
)
