"""Entry point of the plugin: light on purpose (no torch, transformers or numpy at import)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_finetune.nodes import NODE_TYPES
from autoglm_finetune.prompt_candidates import NODE_TYPES as CANDIDATE_NODE_TYPES


@hookimpl
def register_nodes(register):
    """The fine-tuning node types, and the adapt workflow's prompt and refit candidates."""
    for node_type in (*NODE_TYPES, *CANDIDATE_NODE_TYPES):
        register(node_type)
