"""The public API of ``autoglm-hf``: what other plugins may import.

Other distributions (``autoglm-text``, ``autoglm-prompt``, third-party plugins) used to reach
into this package's modules (``node_config``, ``node_embed``, ``locate``, ``registry``...), so
any reorganisation here could break them silently. Everything they need is re-exported here and
listed in ``__all__``; the other modules are internal and may change. Importing this module is
light (no torch, no transformers): models load only when an adapter is asked for one.
"""

from __future__ import annotations

from autoglm_hf.adapters import (
    Encoder,
    TextModel,
    default_encoder_path,
    from_spec,
    load_causal_lm,
    load_encoder,
    load_openai,
)
from autoglm_hf.errors import AdapterError, ModelNotFoundError, ModelSpecError, ServerError
from autoglm_hf.locate import from_pretrained, resolve_model
from autoglm_hf.node_config import (
    Device,
    DType,
    GenerationFields,
    ModelFields,
    ModelSpec,
    causal_spec,
)
from autoglm_hf.node_embed import DEFAULT_ENCODER, EncoderFields
from autoglm_hf.node_generate import as_chat
from autoglm_hf.registry import shared
from autoglm_hf.templates import TemplateError, placeholders, render

__all__ = [
    "DEFAULT_ENCODER",
    "AdapterError",
    "DType",
    "Device",
    "Encoder",
    "EncoderFields",
    "GenerationFields",
    "ModelFields",
    "ModelNotFoundError",
    "ModelSpec",
    "ModelSpecError",
    "ServerError",
    "TemplateError",
    "TextModel",
    "as_chat",
    "causal_spec",
    "default_encoder_path",
    "from_pretrained",
    "from_spec",
    "load_causal_lm",
    "load_encoder",
    "load_openai",
    "placeholders",
    "render",
    "resolve_model",
    "shared",
]
