"""``text.index``: embed a folder of documents once into a reusable on-disk index."""

from __future__ import annotations

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import Glob, InputDir, OutputDir
from autoglm_hf.api import EncoderFields
from autoglm_text.chunking import MAX_WINDOW_TOKENS, check_window
from autoglm_text.kb_index import build_index


class IndexConfig(EncoderFields):
    patterns: list[Glob] = Field(
        default_factory=lambda: ["*.md", "*.txt"], description="File globs, searched recursively."
    )
    chunk_tokens: int = Field(
        96, ge=1, le=MAX_WINDOW_TOKENS, description="Passage length in encoder tokens."
    )
    overlap: int = Field(
        16, ge=0, le=MAX_WINDOW_TOKENS, description="Tokens shared by consecutive passages."
    )
    index_dir: OutputDir | None = Field(
        None, description="Where indexes are kept; default: the shared autoglm cache."
    )

    @model_validator(mode="after")
    def _window(self) -> IndexConfig:
        check_window(self.chunk_tokens, self.overlap)
        return self


class IndexInputs(NodeModel):
    folder: InputDir = Field(
        description="Knowledge-base folder (relative to the current directory)."
    )


class IndexOutputs(NodeModel):
    path: str = Field(description="The index folder, for text.retrieve.")
    passages: int
    documents: list[str]
    reused: bool = Field(description="True when an identical index already existed.")


class IndexNode(NodeType):
    """Split a folder's documents into passages and embed them into an on-disk index."""

    name = "text.index"
    Config = IndexConfig
    Inputs = IndexInputs
    Outputs = IndexOutputs

    @classmethod
    def state_fingerprint(
        cls, config: IndexConfig, inputs: IndexInputs, context: NodeContext
    ) -> str | None:
        """The knowledge-base folder's matching files (names, sizes, modification times): a
        document added, removed or edited makes a rerun build (or find) the index again."""
        from autoglm.fingerprints import folder_fingerprint

        return folder_fingerprint(inputs.folder, config.patterns)

    def init(self, config: IndexConfig, context: NodeContext) -> None:
        from autoglm_hf.api import from_spec

        self.config = config
        self.spec = config.encoder_spec(context)
        self.encoder = from_spec(self.spec)

    def execute(self, inputs: IndexInputs, context: NodeContext) -> IndexOutputs:
        import json
        from pathlib import Path

        config = self.config
        assert isinstance(config, IndexConfig)
        out_root = Path(config.index_dir) if config.index_dir else context.cache_dir("text-index")
        path, reused = build_index(
            inputs.folder,
            out_root,
            self.encoder,
            encoder_spec=self.spec,
            patterns=config.patterns,
            chunk_tokens=config.chunk_tokens,
            overlap=config.overlap,
            batch_size=config.batch_size,
        )
        meta = json.loads((path / "meta.json").read_text())
        context.log.info("knowledge base index", path=str(path), reused=reused)
        return IndexOutputs(
            path=str(path), passages=meta["passages"], documents=meta["documents"], reused=reused
        )
