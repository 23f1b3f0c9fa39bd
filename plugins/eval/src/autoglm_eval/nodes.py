"""Node types of the evaluator. Light on purpose: numpy, scipy and scikit-learn are imported
inside ``execute`` so that listing plugins does not load them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import OutputPath

Label = str | int | bool | None

#: Most bootstrap resamples: the resampling indices (resamples x examples) are held at once,
#: so 100,000 on 1,000 examples is already 800 MB; 10,000 is the usual choice.
MAX_RESAMPLES = 100_000


def store_path(configured: str | None, context: NodeContext) -> Path:
    """The feedback database: the configured path, or ``feedback.sqlite`` in the autoglm home."""
    return Path(configured).expanduser() if configured else context.home / "feedback.sqlite"


# --------------------------------------------------------------------------- eval.metrics


class MetricsConfig(NodeModel):
    labels: list[str] | None = Field(
        None, description="Class order (and classes that never occur); default: all seen labels"
    )


class MetricsInputs(NodeModel):
    y_true: list[Label]
    y_pred: list[Label]


class MetricsOutputs(NodeModel):
    accuracy: float
    macro_f1: float
    micro_f1: float
    report: dict[str, Any]


class MetricsNode(NodeType):
    """Accuracy, precision/recall/F1 per class, macro and micro, and the confusion matrix."""

    name = "eval.metrics"
    Config = MetricsConfig
    Inputs = MetricsInputs
    Outputs = MetricsOutputs

    def execute(self, inputs: MetricsInputs, context: NodeContext) -> MetricsOutputs:
        from autoglm_eval.metrics import classification_report

        assert isinstance(self.config, MetricsConfig)
        report = classification_report(inputs.y_true, inputs.y_pred, self.config.labels)
        return MetricsOutputs(
            accuracy=report["accuracy"],
            macro_f1=report["macro"]["f1"],
            micro_f1=report["micro"]["f1"],
            report=report,
        )


# --------------------------------------------------------------------------- eval.compare


class CompareConfig(NodeModel):
    test: Literal["bootstrap", "mcnemar", "both"] = "both"
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level")
    n_resamples: int = Field(10_000, ge=100, le=MAX_RESAMPLES)
    confidence: float = Field(0.95, gt=0, lt=1)
    seed: int = 0


class CompareInputs(NodeModel):
    y_true: list[Label]
    pred_a: list[Label] = Field(description="Predictions of the reference variant")
    pred_b: list[Label] = Field(description="Predictions of the variant compared with it")


class CompareOutputs(NodeModel):
    accuracy_a: float
    accuracy_b: float
    delta: float
    bootstrap: dict[str, Any] | None
    mcnemar: dict[str, Any] | None
    significant: bool


class CompareNode(NodeType):
    """Paired comparison of two variants on the same examples (bootstrap CI, McNemar)."""

    name = "eval.compare"
    Config = CompareConfig
    Inputs = CompareInputs
    Outputs = CompareOutputs

    def execute(self, inputs: CompareInputs, context: NodeContext) -> CompareOutputs:
        from autoglm_eval.metrics import check_same_length, correctness
        from autoglm_eval.significance import mcnemar, paired_bootstrap

        cfg = self.config
        assert isinstance(cfg, CompareConfig)
        check_same_length(inputs.y_true, ("pred_a", inputs.pred_a), ("pred_b", inputs.pred_b))
        a = correctness(inputs.y_true, inputs.pred_a)
        b = correctness(inputs.y_true, inputs.pred_b)
        boot = mc = None
        significant = []
        if cfg.test in ("bootstrap", "both"):
            boot = paired_bootstrap(
                a, b, n_resamples=cfg.n_resamples, confidence=cfg.confidence, seed=cfg.seed
            )
            significant.append(boot["ci_low"] > 0 or boot["ci_high"] < 0)
        if cfg.test in ("mcnemar", "both"):
            mc = mcnemar(a, b)
            significant.append(mc["p_value"] < cfg.alpha)
        return CompareOutputs(
            accuracy_a=sum(a) / len(a),
            accuracy_b=sum(b) / len(b),
            delta=(sum(b) - sum(a)) / len(a),
            bootstrap=boot,
            mcnemar=mc,
            significant=all(significant),
        )


# ------------------------------------------------------------------------------ eval.gate


class GateConfig(NodeModel):
    store: OutputPath | None = Field(
        None, description="Feedback database (read and written); default <home>/feedback.sqlite"
    )
    task: str = Field("default", description="Which champion slot this decision is about")
    test: Literal["bootstrap", "mcnemar"] = "bootstrap"
    alpha: float = Field(0.05, gt=0, lt=1)
    min_absolute_change: float = Field(0.0, ge=0)
    min_relative_change: float = Field(0.0, ge=0)
    n_resamples: int = Field(10_000, ge=100, le=MAX_RESAMPLES)
    seed: int = 0


class GateInputs(NodeModel):
    y_true: list[Label]
    challenger_pred: list[Label]
    champion_pred: list[Label] | None = None
    challenger: Any = Field(description="The variant to install if it wins (JSON)")


class GateOutputs(NodeModel):
    promoted: bool
    reason: str
    decision_id: int
    decision: dict[str, Any]


class GateNode(NodeType):
    """Champion/challenger gate: promote only a significantly better variant; record why."""

    name = "eval.gate"
    Config = GateConfig
    Inputs = GateInputs
    Outputs = GateOutputs

    @classmethod
    def state_fingerprint(
        cls, config: GateConfig, inputs: GateInputs, context: NodeContext
    ) -> str | None:
        """The champion slot it reads and may replace: a decision is reused only while the
        champion it was taken against is still the one serving."""
        from autoglm_eval.feedback import store_fingerprint

        return store_fingerprint(store_path(config.store, context), f"champion:{config.task}")

    def execute(self, inputs: GateInputs, context: NodeContext) -> GateOutputs:
        from autoglm_eval.feedback import FeedbackStore
        from autoglm_eval.gate import GatePolicy, champion_challenger

        cfg = self.config
        assert isinstance(cfg, GateConfig)
        policy = GatePolicy(**cfg.model_dump(exclude={"store", "task"}))
        with FeedbackStore(store_path(cfg.store, context)) as store:
            decision = champion_challenger(
                store,
                inputs.y_true,
                inputs.champion_pred,
                inputs.challenger_pred,
                challenger=inputs.challenger,
                policy=policy,
                task=cfg.task,
                context={"run_id": context.run_id, "node_id": context.node_id},
            )
        context.journal_append("eval.decision", decision)
        return GateOutputs(
            promoted=decision["promote"],
            reason=decision["reason"],
            decision_id=decision["decision_id"],
            decision=decision,
        )


# ------------------------------------------------------------------------ eval.weak_labels


class WeakLabelsConfig(NodeModel):
    store: OutputPath | None = Field(
        None,
        description="Feedback database (opened for writing: it may create tables); "
        "default <home>/feedback.sqlite",
    )
    rules: list[dict[str, Any]] = Field(description="Labelling rules (see docs/eval.md)")
    classes: list[str] = Field(min_length=2)
    method: Literal["label_model", "majority"] = "label_model"
    text_field: str = Field("text", description="Field of a mapping input that holds the text")
    after_id: int = Field(0, ge=0, description="Use only feedback newer than this id")

    @field_validator("rules")
    @classmethod
    def _rules_build(cls, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Build every rule when the workflow is validated, so a bad rule (a regex pattern the
        linear-time engine refuses) is a located error before anything runs, not at init."""
        from autoglm_eval.labeling import rule_from_dict

        for i, spec in enumerate(rules):
            rule_from_dict(spec, i)
        return rules


class WeakLabelsOutputs(NodeModel):
    data: str = Field(description="JSONL file of {text, label} rows (abstained items dropped)")
    n: int
    report: dict[str, Any]


class WeakLabelsNode(NodeType):
    """Turn feedback and heuristic rules into labels (majority vote and a label model)."""

    name = "eval.weak_labels"
    Config = WeakLabelsConfig
    Outputs = WeakLabelsOutputs

    @classmethod
    def state_fingerprint(
        cls, config: WeakLabelsConfig, inputs: NodeModel, context: NodeContext
    ) -> str | None:
        """The feedback rows it labels: new feedback recomputes the labels."""
        from autoglm_eval.feedback import store_fingerprint

        return store_fingerprint(store_path(config.store, context))

    def init(self, config: WeakLabelsConfig, context: NodeContext) -> None:
        from autoglm_eval.labeling import rule_from_dict

        super().init(config, context)
        self.rules = [rule_from_dict(spec, i) for i, spec in enumerate(config.rules)]

    def execute(self, inputs: NodeModel, context: NodeContext) -> WeakLabelsOutputs:
        from autoglm_eval.feedback import FeedbackStore
        from autoglm_eval.labeling import items_from_store, weak_labels

        cfg = self.config
        assert isinstance(cfg, WeakLabelsConfig)
        with FeedbackStore(store_path(cfg.store, context)) as store:
            items = items_from_store(store, after_id=cfg.after_id, text_field=cfg.text_field)
        result = weak_labels(items, self.rules, cfg.classes)
        rows = [
            {"text": item.text, "label": label}
            for item, label in zip(items, result.chosen(cfg.method), strict=True)
            if label is not None
        ]
        path = context.artifacts_dir / "weak_labels.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return WeakLabelsOutputs(data=str(path), n=len(rows), report=result.report)


NODE_TYPES = (MetricsNode, CompareNode, GateNode, WeakLabelsNode)
