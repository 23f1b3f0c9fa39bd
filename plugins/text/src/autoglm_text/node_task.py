"""``text.task_type``: recognise what a request asks for, by rules then nearest examples."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.regexsafe import SafeRegex, search
from autoglm_hf.api import EncoderFields
from autoglm_text.task_defaults import DEFAULT_EXAMPLES, DEFAULT_RULES


class TaskTypeConfig(EncoderFields):
    strategy: Literal["rules+examples", "rules", "examples"] = Field(
        "rules+examples", description="Rules first, then nearest examples; or one of them."
    )
    rules: dict[str, list[SafeRegex]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_RULES.items()},
        description=(
            "Task type -> regexes (case-insensitive, RE2 syntax: matched in linear time, so no "
            "backreferences or look-around), in order; first match wins."
        ),
    )
    examples: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_EXAMPLES.items()},
        description="Task type -> labelled example requests for the nearest-neighbour vote.",
    )
    k: int = Field(3, ge=1, le=1000, description="Nearest examples that vote.")
    min_similarity: float = Field(
        0.25, ge=-1, le=1, description="Below this cosine to the nearest example: default."
    )
    default: str = Field("qa", description="Task type when nothing decides.")
    summary_min_words: int = Field(
        60,
        ge=0,
        le=1_000_000,
        description="A text of at least this many words in several sentences is a summary "
        "request even without an instruction word (an article pasted alone); 0: off.",
    )
    shape_task: str = Field("summary", description="Task type of such a long, multi-sentence text.")


class TaskTypeInputs(NodeModel):
    text: str

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """An empty request would be routed to QA and answered with unrelated passages."""
        if not value.strip():
            raise ValueError("empty request: expected a question or a text to summarise")
        return value


class TaskTypeOutputs(NodeModel):
    task: str
    method: Literal["shape", "rule", "examples", "default"]
    confidence: float = Field(
        description="1 for a rule or the shape; similarity-weighted vote share else."
    )
    evidence: str | None = Field(None, description="The matching rule or nearest example.")


#: Sentence ends: a full stop, question or exclamation mark followed by space or the end.
_SENTENCE_END = re.compile(r"[.!?](\s|$)")


def looks_like_a_document(text: str, min_words: int) -> bool:
    """A text of ``min_words`` words or more in at least three sentences: an article, not a
    question (questions are one or two sentences), whatever words it starts with."""
    if min_words <= 0 or len(text.split()) < min_words:
        return False
    return len(_SENTENCE_END.findall(text.strip())) >= 3


def match_rules(text: str, rules: dict[str, list[str]]) -> tuple[str, str] | None:
    """(task, pattern) of the first matching rule, in the order written.

    Rules come from requests, so they are matched by the linear-time engine: a catastrophic
    pattern cannot stall the process (see ``autoglm.regexsafe``).
    """
    for task, patterns in rules.items():
        for pattern in patterns:
            if search(pattern, text, ignorecase=True, multiline=True):
                return task, pattern
    return None


class TaskTypeNode(NodeType):
    """Recognise the task type of a request (qa, summary, ...) by rules and nearest examples."""

    name = "text.task_type"
    Config = TaskTypeConfig
    Inputs = TaskTypeInputs
    Outputs = TaskTypeOutputs

    def init(self, config: TaskTypeConfig, context: NodeContext) -> None:
        self.config = config
        self.encoder = None
        self.labels: list[str] = []
        self.example_texts: list[str] = []
        if config.strategy != "rules" and any(config.examples.values()):
            from autoglm_hf.api import from_spec

            self.encoder = from_spec(config.encoder_spec(context))
            for task, texts in config.examples.items():
                self.labels.extend([task] * len(texts))
                self.example_texts.extend(texts)
            self.example_vectors = self.encoder.embed(self.example_texts)

    def execute(self, inputs: TaskTypeInputs, context: NodeContext) -> TaskTypeOutputs:
        config = self.config
        assert isinstance(config, TaskTypeConfig)
        if looks_like_a_document(inputs.text, config.summary_min_words):
            words = len(inputs.text.split())
            return TaskTypeOutputs(
                task=config.shape_task, method="shape", confidence=1.0, evidence=f"{words} words"
            )
        if config.strategy != "examples":
            hit = match_rules(inputs.text, config.rules)
            if hit:
                return TaskTypeOutputs(task=hit[0], method="rule", confidence=1.0, evidence=hit[1])
        if self.encoder is not None:
            voted = self._vote(inputs.text)
            if voted is not None:
                return voted
        return TaskTypeOutputs(task=config.default, method="default", confidence=0.0)

    def _vote(self, text: str) -> TaskTypeOutputs | None:
        """Similarity-weighted vote of the k nearest examples (None if none is close enough)."""
        config = self.config
        assert isinstance(config, TaskTypeConfig)
        query = self.encoder.embed([text])[0]
        sims = self.example_vectors @ query
        order = sims.argsort()[::-1][: config.k]
        if sims[order[0]] < config.min_similarity:
            return None
        weights: dict[str, float] = {}
        for i in order:
            weights[self.labels[i]] = weights.get(self.labels[i], 0.0) + max(float(sims[i]), 0.0)
        task = max(weights, key=weights.__getitem__)
        total = sum(weights.values()) or 1.0
        return TaskTypeOutputs(
            task=task,
            method="examples",
            confidence=round(weights[task] / total, 4),
            evidence=self.example_texts[order[0]],
        )
