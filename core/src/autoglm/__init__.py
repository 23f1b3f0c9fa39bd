"""autoglm: a plugin-based workflow engine for automated LLM and graph-learning pipelines.

The public API for plugin authors is re-exported here and kept light (no torch, dgl or
transformers): ``NodeType`` and ``NodeModel`` to write nodes, ``hookimpl`` to register them,
``NodeContext`` for what a node sees of its run, and the search-space markers.
"""

from __future__ import annotations

from autoglm.context import NodeContext
from autoglm.hookspecs import hookimpl
from autoglm.nodes import API_VERSION, EmptyModel, NodeModel, NodeType
from autoglm.space import Choice, FloatRange, IntRange, search_space

__version__ = "0.1.0"

__all__ = [
    "API_VERSION",
    "Choice",
    "EmptyModel",
    "FloatRange",
    "IntRange",
    "NodeContext",
    "NodeModel",
    "NodeType",
    "__version__",
    "hookimpl",
    "search_space",
]
