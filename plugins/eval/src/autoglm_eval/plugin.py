"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_eval.nodes import NODE_TYPES


@hookimpl
def register_nodes(register):
    """The evaluator's node types: metrics, paired comparison, gate, weak labels."""
    for node_type in NODE_TYPES:
        register(node_type)


@hookimpl
def register_routes(register):
    """``POST /v1/feedback``: labels for served predictions, into the feedback store the eval
    nodes read. FastAPI is imported here, when the service asks."""
    from autoglm_eval.routes import feedback_router

    register(feedback_router())
