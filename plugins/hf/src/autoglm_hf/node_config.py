"""Config fields shared by the ``hf.*`` nodes (and reused by ``text.*``), and their spec.

A node's config says *which* model and *how* to run it; ``model_spec`` turns that into the
``from_spec`` dictionary, so every node loads models the same way and shares them per process.
API keys are never written into workflow files: ``api_key_env`` names the environment variable
that holds one.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import Field, model_serializer

from autoglm import FloatRange, IntRange, NodeModel
from autoglm.policy import LoadsCode, ModelSource, OutputDir, SecretName, Url

Device = Literal["auto", "cpu", "cuda", "mps"]
DType = Literal["auto", "float32", "float16", "bfloat16"]


class ModelFields(NodeModel):
    """Where a model lives and how to load it."""

    model: ModelSource = Field(
        description="Local folder or hub id (or the served name with base_url)."
    )
    device: Device = Field("auto", description="auto = cuda, else mps, else cpu.")
    dtype: DType = Field("auto", description="auto = bfloat16/float16 on GPU, float32 on CPU.")
    trust_remote_code: LoadsCode = Field(
        False, description="Allow custom modelling code from the model folder or hub repo."
    )
    base_url: Url | None = Field(
        None, description="OpenAI-compatible server (e.g. http://host:8000/v1) instead of local."
    )
    api_key_env: SecretName | None = Field(
        None, description="Environment variable with the API key (sent to base_url)."
    )
    timeout: float = Field(60.0, gt=0, le=3600, description="Seconds per server request.")
    retries: int = Field(
        2, ge=0, le=10, description="Extra attempts on server errors and timeouts."
    )


class GenerationFields(NodeModel):
    """Decoding parameters (searchable: a tuner may vary them)."""

    max_new_tokens: Annotated[int, IntRange(8, 512, log=True)] = Field(
        64, ge=1, le=32_768, description="Tokens generated at most per prompt."
    )
    temperature: Annotated[float, FloatRange(0.0, 1.5)] = Field(0.0, ge=0.0)
    top_p: Annotated[float, FloatRange(0.5, 1.0)] = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list, description="Cut the output at these.")
    seed: int | None = Field(None, description="Makes sampled decoding repeatable.")

    def generation_kwargs(self) -> dict:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop) or None,
            "seed": self.seed,
        }


def api_key_from_env(name: str | None, field: str = "api_key_env") -> str | None:
    """The API key held by environment variable ``name`` (None when no name is given)."""
    if not name:
        return None
    key = os.environ.get(name)
    if not key:
        from autoglm_hf.errors import ModelSpecError

        raise ModelSpecError(f"config field {field!r}: environment variable {name!r} is not set")
    return key


class ModelSpec(NodeModel):
    """A ``from_spec`` dictionary (``autoglm_hf.adapters``) as a typed config value.

    Nodes that take a whole adapter spec (the prompt optimiser's ``model`` and ``proposer``)
    declare it with this model rather than a free ``dict``, so the trust policy sees the folder
    it loads, the URL it contacts, the secret it sends and whether it runs the model's own code;
    and a misspelt key is a validation error of the workflow. Unset options are left out of the
    dumped form, which stays the dictionary that was written.
    """

    kind: Literal["hf-encoder", "hf-causal", "openai"] = Field(
        description="hf-encoder, hf-causal, or an OpenAI-compatible server"
    )
    model: ModelSource = Field(
        "default", description="Local folder or hub id ('default' = the packaged MiniLM encoder)"
    )
    device: Device | None = None
    dtype: DType | None = None
    trust_remote_code: LoadsCode | None = Field(
        None, description="Allow custom modelling code from the model folder or hub repo."
    )
    cache_dir: OutputDir | None = Field(None, description="hf-encoder: embedding cache folder.")
    base_url: Url | None = Field(None, description="openai: the server's base URL.")
    api_key_env: SecretName | None = Field(
        None, description="openai: environment variable with the API key (sent to base_url)."
    )
    timeout: float | None = Field(None, gt=0, le=3600, description="openai: seconds per request.")
    retries: int | None = Field(None, ge=0, le=10, description="openai: extra attempts.")

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: Any) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}

    def to_spec(self) -> dict[str, Any]:
        """The dictionary ``from_spec`` takes, with the API key read from its variable."""
        spec = self.model_dump()
        name = spec.pop("api_key_env", None)
        if name:
            spec["api_key"] = api_key_from_env(name, "model.api_key_env")
        return spec


def causal_spec(fields: ModelFields) -> dict:
    """The ``from_spec`` dictionary of a text model described by ``fields``."""
    if fields.base_url:
        key = api_key_from_env(fields.api_key_env)
        return {
            "kind": "openai",
            "model": fields.model,
            "base_url": fields.base_url,
            "api_key": key,
            "timeout": fields.timeout,
            "retries": fields.retries,
        }
    return {
        "kind": "hf-causal",
        "model": fields.model,
        "device": fields.device,
        "dtype": fields.dtype,
        "trust_remote_code": fields.trust_remote_code,
    }
