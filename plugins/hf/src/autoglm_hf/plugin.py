"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl


@hookimpl
def register_nodes(register):
    """Node types are registered here as they are written."""
