"""``text.prompt``: render a prompt from a safe template, chosen per task type."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm_hf.api import placeholders, render

DEFAULT_TEMPLATES = {
    "qa": (
        "Answer the question using only the context. Cite the [source] you used.\n\n"
        "Context:\n{context}\n\nQuestion: {question}\nAnswer:"
    ),
    "summary": "Summarise the following text in a few sentences.\n\n{context}\n\nSummary:",
}


class PromptConfig(NodeModel):
    templates: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TEMPLATES),
        description="Task type -> template with {placeholders} (bare names only).",
    )
    template: str | None = Field(None, description="One template for every task (overrides).")

    @model_validator(mode="after")
    def _valid(self) -> PromptConfig:
        for name, template in [("template", self.template), *self.templates.items()]:
            if template is not None:
                try:
                    placeholders(template)
                except ValueError as exc:
                    raise ValueError(f"templates.{name}: {exc}") from exc
        return self


class PromptInputs(NodeModel):
    task: str | None = Field(None, description="Selects the template (from text.task_type).")
    question: str | None = None
    context: str | list[str] | None = Field(None, description="Passages or chunks (joined).")
    text: str | None = None
    values: dict[str, Any] = Field(default_factory=dict, description="More placeholders.")


class PromptOutputs(NodeModel):
    text: str
    template: str = Field(description="Which template was used.")


class PromptNode(NodeType):
    """Render a prompt from a {placeholder} template (no code runs), chosen by task type."""

    name = "text.prompt"
    Config = PromptConfig
    Inputs = PromptInputs
    Outputs = PromptOutputs

    def execute(self, inputs: PromptInputs, context: NodeContext) -> PromptOutputs:
        config = self.config
        assert isinstance(config, PromptConfig)
        if config.template is not None:
            name, template = "template", config.template
        elif inputs.task in config.templates:
            name, template = inputs.task, config.templates[inputs.task]
        else:
            raise ValueError(
                f"inputs.task: expected one of {sorted(config.templates)} (config.templates), "
                f"got {inputs.task!r}"
            )
        values = {
            **inputs.values,
            **{
                k: v
                for k, v in (
                    ("question", inputs.question),
                    ("context", inputs.context),
                    ("text", inputs.text),
                )
                if v is not None
            },
        }
        if isinstance(values.get("context"), list):
            values["context"] = "\n\n".join(values["context"])
        return PromptOutputs(text=render(template, values), template=name)
