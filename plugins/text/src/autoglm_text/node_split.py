"""``text.split``: token-aware chunks with overlap (the model-aware ``textkit.split``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import ModelSource
from autoglm_text.chunking import MAX_WINDOW_TOKENS, check_window, load_tokenizer, split_tokens


class SplitConfig(NodeModel):
    tokenizer: ModelSource = Field(
        "default", description="Tokenizer folder or hub id; default MiniLM."
    )
    chunk_tokens: int = Field(128, ge=1, le=MAX_WINDOW_TOKENS, description="Tokens per chunk.")
    overlap: int = Field(
        16, ge=0, le=MAX_WINDOW_TOKENS, description="Tokens shared by consecutive chunks."
    )

    @model_validator(mode="after")
    def _window(self) -> SplitConfig:
        check_window(self.chunk_tokens, self.overlap)
        return self


class SplitInputs(NodeModel):
    text: str


class SplitOutputs(NodeModel):
    chunks: list[str]
    spans: list[list[int]] = Field(description="[start, end) character offsets per chunk.")
    token_counts: list[int]


class SplitNode(NodeType):
    """Split a text into overlapping chunks of a fixed number of tokenizer tokens."""

    name = "text.split"
    Config = SplitConfig
    Inputs = SplitInputs
    Outputs = SplitOutputs

    def init(self, config: SplitConfig, context: NodeContext) -> None:
        self.config = config
        self.tokenizer = load_tokenizer(config.tokenizer)

    def execute(self, inputs: SplitInputs, context: NodeContext) -> SplitOutputs:
        config = self.config
        assert isinstance(config, SplitConfig)
        chunks = split_tokens(inputs.text, self.tokenizer, config.chunk_tokens, config.overlap)
        return SplitOutputs(
            chunks=[c.text for c in chunks],
            spans=[[c.start, c.end] for c in chunks],
            token_counts=[c.tokens for c in chunks],
        )
