"""``hf.score``: classify texts by the log-likelihood of each label's words.

A causal LM becomes a zero-shot classifier: render the prompt for a text, score every label's
continuation, pick the highest. ``calibrate`` applies contextual calibration (Zhao et al.,
2021): the label scores of a content-free input are subtracted, removing the model's prior
preference for some label words, which often matters more than the prompt wording.
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm_hf.node_config import ModelFields, causal_spec
from autoglm_hf.templates import placeholders, render


class ScoreConfig(ModelFields):
    labels: dict[str, str] = Field(
        description="Label -> continuation scored after the prompt, e.g. "
        "{positive: ' positive', negative: ' negative'} (mind the leading space for BPE).",
    )
    template: str = Field("{text}", description="Prompt template; must use {text}.")
    calibrate: bool = Field(False, description="Subtract the scores of a content-free input.")
    content_free: str = Field("N/A", description="The content-free input used to calibrate.")

    @field_validator("labels")
    @classmethod
    def _two_labels(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) < 2:
            raise ValueError(f"expected at least 2 labels, got {len(value)}")
        return value

    @field_validator("template")
    @classmethod
    def _uses_text(cls, value: str) -> str:
        names = placeholders(value)
        if names != ["text"]:
            raise ValueError(f"expected exactly the placeholder {{text}}, found {names}")
        return value


class ScoreInputs(NodeModel):
    texts: list[str]
    gold: list[str] | None = Field(None, description="True labels; enables 'accuracy'.")


class ScoreOutputs(NodeModel):
    predictions: list[str]
    scores: list[dict[str, float]] = Field(description="Per text: label -> log-likelihood.")
    probabilities: list[dict[str, float]] = Field(description="Softmax over the label scores.")
    accuracy: float | None = None


def softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


class ScoreNode(NodeType):
    """Zero-shot classification by label-word log-likelihood under a causal LM."""

    name = "hf.score"
    Config = ScoreConfig
    Inputs = ScoreInputs
    Outputs = ScoreOutputs

    def init(self, config: ScoreConfig, context: NodeContext) -> None:
        from autoglm_hf.adapters import from_spec

        self.config = config
        self.model = from_spec(causal_spec(config))

    def _label_scores(self, text: str) -> dict[str, float]:
        config = self.config
        assert isinstance(config, ScoreConfig)
        prompt = render(config.template, {"text": text})
        values = self.model.score(prompt, list(config.labels.values()))
        return dict(zip(config.labels, values, strict=True))

    def execute(self, inputs: ScoreInputs, context: NodeContext) -> ScoreOutputs:
        config = self.config
        assert isinstance(config, ScoreConfig)
        if inputs.gold is not None:
            unknown = sorted(set(inputs.gold) - set(config.labels))
            if len(inputs.gold) != len(inputs.texts) or unknown:
                raise ValueError(
                    f"inputs.gold: expected {len(inputs.texts)} labels from "
                    f"{sorted(config.labels)}, got {len(inputs.gold)} (unknown: {unknown})"
                )
        prior = self._label_scores(config.content_free) if config.calibrate else None
        scores: list[dict[str, float]] = []
        for i, text in enumerate(inputs.texts):
            context.check_cancelled()
            raw = self._label_scores(text)
            scores.append({k: v - prior[k] for k, v in raw.items()} if prior else raw)
            context.progress(i + 1, len(inputs.texts), "texts")
        predictions = [max(s, key=s.__getitem__) for s in scores]
        accuracy = None
        if inputs.gold is not None and inputs.gold:
            hits = sum(p == g for p, g in zip(predictions, inputs.gold, strict=True))
            accuracy = hits / len(inputs.gold)
        return ScoreOutputs(
            predictions=predictions,
            scores=scores,
            probabilities=[softmax(s) for s in scores],
            accuracy=accuracy,
        )
