"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_hf.node_embed import EmbedNode
from autoglm_hf.node_generate import GenerateNode
from autoglm_hf.node_score import ScoreNode


@hookimpl
def register_nodes(register):
    """``hf.generate``, ``hf.score`` and ``hf.embed``."""
    for node_type in (GenerateNode, ScoreNode, EmbedNode):
        register(node_type)


@hookimpl
def register_routes(register):
    """The OpenAI-compatible API (``/v1/models``, ``/v1/chat/completions``,
    ``/v1/completions``) over the service's ``chat_model``. FastAPI is imported here, when the
    service asks, never when the plugin loads."""
    from autoglm_hf.openai_routes import service_router

    register(service_router())
