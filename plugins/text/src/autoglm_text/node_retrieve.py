"""``text.retrieve``: top-k passages of an index by cosine similarity, with their sources."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputDir
from autoglm_hf.api import Device

if TYPE_CHECKING:
    from autoglm_text.kb_index import LoadedIndex

_indexes: dict[str, LoadedIndex] = {}
_indexes_lock = threading.Lock()


def cached_index(path: str) -> LoadedIndex:
    """Indexes are immutable (content-addressed), so one load per process is enough."""
    from autoglm_text.kb_index import load_index

    with _indexes_lock:
        if path not in _indexes:
            _indexes[path] = load_index(path)
        return _indexes[path]


class RetrieveConfig(NodeModel):
    k: int = Field(3, ge=1, le=1000, description="Passages returned.")
    min_score: float = Field(0.0, ge=-1, le=1, description="Drop passages below this cosine.")
    device: Device = "auto"
    cache: bool = Field(True, description="Use the shared embedding cache for queries.")
    context_format: Literal["sources", "plain"] = Field(
        "sources", description="'sources' prefixes each passage of `context` with [source]."
    )


class RetrieveInputs(NodeModel):
    query: str = Field(min_length=1, pattern=r"\S", description="The question (not blank).")
    index: InputDir = Field(description="Index folder from text.index.")


class RetrieveOutputs(NodeModel):
    passages: list[str]
    sources: list[str]
    scores: list[float]
    context: str = Field(description="The passages joined for a prompt.")


class RetrieveNode(NodeType):
    """Find the passages of a knowledge-base index nearest to a query (cosine, top-k)."""

    name = "text.retrieve"
    Config = RetrieveConfig
    Inputs = RetrieveInputs
    Outputs = RetrieveOutputs

    def execute(self, inputs: RetrieveInputs, context: NodeContext) -> RetrieveOutputs:
        from autoglm_hf.api import from_spec

        config = self.config
        assert isinstance(config, RetrieveConfig)
        index = cached_index(inputs.index)
        # The query must be embedded by the encoder that built the index.
        spec = {**index.meta["encoder_spec"], "device": config.device}
        if config.cache:
            spec["cache_dir"] = str(context.cache_dir("hf-embeddings"))
        query = from_spec(spec).embed([inputs.query])[0]
        hits = index.search(query, config.k, config.min_score)
        passages = [p.text for p, _ in hits]
        sources = [p.source for p, _ in hits]
        if config.context_format == "sources":
            blocks = [f"[{s}] {t}" for s, t in zip(sources, passages, strict=True)]
        else:
            blocks = passages
        return RetrieveOutputs(
            passages=passages,
            sources=sources,
            scores=[round(s, 6) for _, s in hits],
            context="\n\n".join(blocks),
        )
