"""``hf.generate``: prompts in, generated texts out, from a local model or a server."""

from __future__ import annotations

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.exclusive import TORCH_RNG
from autoglm_hf.node_config import GenerationFields, ModelFields, causal_spec


class GenerateConfig(ModelFields, GenerationFields):
    chat: bool = Field(
        True,
        description="Send each prompt as a user message through the chat template (instruct "
        "models); false sends the raw text (base models, tokenizers without a template).",
    )
    system: str | None = Field(None, description="System message put before each chat prompt.")
    batch_size: int = Field(
        8, ge=1, le=1024, description="Prompts per forward batch / progress step."
    )


class GenerateInputs(NodeModel):
    prompts: list[str] = Field(default_factory=list)
    prompt: str | None = Field(None, description="A single prompt (appended to prompts).")

    @model_validator(mode="after")
    def _some_prompt(self) -> GenerateInputs:
        if not self.prompts and self.prompt is None:
            raise ValueError("expected 'prompt' or a non-empty 'prompts', got neither")
        return self


class GenerateOutputs(NodeModel):
    texts: list[str]
    text: str = Field(description="The first text (convenient for one prompt).")


def as_chat(prompt: str, system: str | None) -> list[dict]:
    """A prompt as chat messages, with an optional system message first."""
    messages = [{"role": "system", "content": system}] if system else []
    return [*messages, {"role": "user", "content": prompt}]


class GenerateNode(NodeType):
    """Generate text with a causal LM (transformers or an OpenAI-compatible server)."""

    name = "hf.generate"
    Config = GenerateConfig
    Inputs = GenerateInputs
    Outputs = GenerateOutputs

    @classmethod
    def exclusive_resource(cls, config: GenerateConfig) -> str | None:
        """Sampling from a local model seeds torch's default generator and draws from it;
        greedy decoding and a server do not, and run beside anything."""
        return TORCH_RNG if config.temperature > 0 and not config.base_url else None

    def init(self, config: GenerateConfig, context: NodeContext) -> None:
        from autoglm_hf.adapters import from_spec

        self.config = config
        self.model = from_spec(causal_spec(config))

    def execute(self, inputs: GenerateInputs, context: NodeContext) -> GenerateOutputs:
        config = self.config
        assert isinstance(config, GenerateConfig)
        prompts = [*inputs.prompts, *([inputs.prompt] if inputs.prompt is not None else [])]
        rendered = [as_chat(p, config.system) if config.chat else p for p in prompts]
        texts: list[str] = []
        for start in range(0, len(rendered), config.batch_size):
            context.check_cancelled()
            batch = rendered[start : start + config.batch_size]
            texts.extend(self.model.generate(batch, **config.generation_kwargs()))
            context.progress(len(texts), len(rendered), "prompts")
        return GenerateOutputs(texts=texts, text=texts[0])
