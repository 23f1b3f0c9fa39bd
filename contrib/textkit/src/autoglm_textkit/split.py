"""``textkit.split``: cut a text into overlapping chunks on word boundaries.

Counting words rather than model tokens keeps this plugin free of any tokenizer; the
``autoglm-text`` plugin has a tokenizer-aware splitter for when chunk sizes must match a model.
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType


class SplitConfig(NodeModel):
    chunk_words: int = Field(200, ge=1, le=100_000, description="Words per chunk.")
    overlap_words: int = Field(
        20, ge=0, le=100_000, description="Words shared by consecutive chunks."
    )

    @model_validator(mode="after")
    def _overlap_smaller_than_chunk(self) -> SplitConfig:
        if self.overlap_words >= self.chunk_words:
            raise ValueError(
                f"overlap_words ({self.overlap_words}) must be smaller than "
                f"chunk_words ({self.chunk_words})"
            )
        return self


class SplitInputs(NodeModel):
    text: str


class SplitOutputs(NodeModel):
    chunks: list[str]
    count: int


_WORD = re.compile(r"\S+")


def split_words(text: str, chunk_words: int, overlap_words: int) -> list[str]:
    """Chunks of ``chunk_words`` words, each starting ``chunk_words - overlap_words`` after the
    previous one; whitespace inside a chunk is kept as written."""
    spans = [m.span() for m in _WORD.finditer(text)]
    if not spans:
        return []
    step = chunk_words - overlap_words
    chunks = []
    for start in range(0, len(spans), step):
        window = spans[start : start + chunk_words]
        chunks.append(text[window[0][0] : window[-1][1]])
        if start + chunk_words >= len(spans):
            break
    return chunks


class SplitNode(NodeType):
    """Split a text into overlapping word chunks."""

    name = "textkit.split"
    Config = SplitConfig
    Inputs = SplitInputs
    Outputs = SplitOutputs

    def execute(self, inputs: SplitInputs, context: NodeContext) -> SplitOutputs:
        config = self.config
        assert isinstance(config, SplitConfig)
        chunks = split_words(inputs.text, config.chunk_words, config.overlap_words)
        return SplitOutputs(chunks=chunks, count=len(chunks))
