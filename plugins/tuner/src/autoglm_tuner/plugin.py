"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_tuner.node import SearchNode


@hookimpl
def register_nodes(register):
    """The tuner contributes one node type, ``tuner.search``."""
    register(SearchNode)
