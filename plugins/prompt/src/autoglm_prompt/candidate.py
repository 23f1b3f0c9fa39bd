"""A prompt candidate: everything that decides what the model sees, as one JSON document.

The candidate holds the chosen example *texts*, not indices into a pool, so a saved prompt is
self-contained: it can be served, compared or used to warm-start a later optimisation run that
has a different pool.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autoglm_hf.api import placeholders

DEFAULT_TEMPLATE = "Text: {text}\nAnswer: {label}"
Calibration = Literal["none", "content_free", "batch"]
#: The input of contextual calibration (Zhao et al. 2021): a text with no content.
CONTENT_FREE = "N/A"


class PromptCandidate(BaseModel):
    """One point of the prompt search space, resolved to concrete text."""

    model_config = ConfigDict(extra="forbid")

    instruction: str = ""
    verbalizers: dict[str, str] = Field(
        description="Label -> the word a model should answer (LMs) or the description embedded "
        "for it (encoders)"
    )
    examples: list[dict[str, str]] = Field(default_factory=list, description="Few-shot, in order")
    template: str = Field(
        DEFAULT_TEMPLATE, description="How an example and the query are laid out; ends in {label}"
    )
    calibrate: Calibration = "none"
    example_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Encoders: weight of example prototypes vs descriptions"
    )

    @field_validator("template")
    @classmethod
    def _template_shape(cls, value: str) -> str:
        check_template(value)
        return value

    @field_validator("verbalizers")
    @classmethod
    def _two_labels(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) < 2:
            raise ValueError(f"expected a verbalizer for each of at least 2 labels, got {value}")
        return value

    @property
    def labels(self) -> list[str]:
        return sorted(self.verbalizers)

    def key(self) -> str:
        """Stable identity: equal candidates are scored once."""
        text = json.dumps(self.model_dump(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        """What a person wants to see in a log line: everything but the example texts."""
        data = self.model_dump(exclude={"examples"})
        data["shots"] = dict(sorted(Counter(e["label"] for e in self.examples).items()))
        data["key"] = self.key()
        return data

    # --------------------------------------------------------------- rendering for LMs

    def render_example(self, text: str, label: str | None) -> str:
        answer = "" if label is None else self.verbalizers[label]
        return self.template.format(text=text, label=answer).rstrip()

    def render(self, text: str) -> str:
        """The full prompt for a causal LM; the answer follows it (after a space)."""
        parts = [self.instruction.strip()] if self.instruction.strip() else []
        parts += [self.render_example(e["text"], e["label"]) for e in self.examples]
        parts.append(self.render_example(text, None))
        return "\n\n".join(parts)

    def query_text(self, text: str) -> str:
        """What an encoder embeds for an input: the instruction as a query prefix."""
        return f"{self.instruction.strip()} {text}".strip()


def check_template(template: str) -> None:
    """A template must hold ``{text}`` once and end with ``{label}`` (the scored answer)."""
    if template.count("{text}") != 1 or not template.rstrip().endswith("{label}"):
        raise ValueError(
            f"template {template!r}: expected exactly one '{{text}}' and '{{label}}' at the end"
        )
    # Bare names only: str.format would also reach attributes ({text.__class__}) and pad to any
    # width ({text:>300000000} allocates 300 MB), and templates come from requests.
    try:
        names = placeholders(template)
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc}") from exc
    if set(names) != {"text", "label"}:
        raise ValueError(f"template {template!r}: only {{text}} and {{label}} allowed")
