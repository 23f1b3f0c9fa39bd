"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_prompt.nodes import NODE_TYPES


@hookimpl
def register_nodes(register):
    """The prompt optimiser's node types."""
    for node_type in NODE_TYPES:
        register(node_type)
