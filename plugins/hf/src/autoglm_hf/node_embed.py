"""``hf.embed``: sentence embeddings of texts, written to an ``.npy`` file."""

from __future__ import annotations

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import LoadsCode, ModelSource
from autoglm_hf.node_config import Device, DType

#: ``model: default`` means the all-MiniLM-L6-v2 encoder shipped as a package.
DEFAULT_ENCODER = "default"


class EncoderFields(NodeModel):
    """Which encoder and how to run it; shared with the ``text.*`` nodes that embed."""

    encoder: ModelSource = Field(
        DEFAULT_ENCODER, description="Encoder folder or hub id; 'default' = all-MiniLM-L6-v2."
    )
    device: Device = "auto"
    dtype: DType = "float32"
    trust_remote_code: LoadsCode = Field(
        False, description="Allow custom modelling code from the encoder folder or hub repo."
    )
    batch_size: int = Field(32, ge=1, le=4096, description="Texts per forward batch.")
    cache: bool = Field(True, description="Keep embeddings in the shared on-disk cache.")

    def encoder_spec(self, context: NodeContext) -> dict:
        spec = {
            "kind": "hf-encoder",
            "model": self.encoder,
            "device": self.device,
            "dtype": self.dtype,
            "trust_remote_code": self.trust_remote_code,
        }
        if self.cache:
            spec["cache_dir"] = str(context.cache_dir("hf-embeddings"))
        return spec


class EmbedConfig(EncoderFields):
    inline: bool = Field(False, description="Also return the vectors in the outputs (small n).")


class EmbedInputs(NodeModel):
    texts: list[str]


class EmbedOutputs(NodeModel):
    path: str = Field(description="float32 .npy file, one L2-normalised row per text.")
    count: int
    dim: int
    vectors: list[list[float]] | None = None


class EmbedNode(NodeType):
    """Sentence embeddings (mean pooled, L2-normalised) from an encoder model."""

    name = "hf.embed"
    Config = EmbedConfig
    Inputs = EmbedInputs
    Outputs = EmbedOutputs

    def init(self, config: EmbedConfig, context: NodeContext) -> None:
        from autoglm_hf.adapters import from_spec

        self.config = config
        self.encoder = from_spec(config.encoder_spec(context))

    def execute(self, inputs: EmbedInputs, context: NodeContext) -> EmbedOutputs:
        import numpy as np

        config = self.config
        assert isinstance(config, EmbedConfig)
        vectors = self.encoder.embed(inputs.texts, batch_size=config.batch_size)
        path = context.artifacts_dir / "embeddings.npy"
        np.save(path, vectors)
        return EmbedOutputs(
            path=str(path),
            count=int(vectors.shape[0]),
            dim=int(vectors.shape[1]),
            vectors=vectors.tolist() if config.inline else None,
        )
