"""autoglm: a plugin-based workflow engine for automated LLM and graph-learning pipelines.

The public API for plugin authors is re-exported here: ``NodeType`` and ``NodeModel`` to write
nodes, ``hookimpl`` to register them, ``NodeContext`` for what a node sees of its run, and the
search-space markers; and for running workflows from Python, ``Host``/``PluginSelection`` (the
plugins), ``parse_workflow``/``load_workflow``, ``Engine`` and ``RunStore``. The names load on
first use (PEP 562), so that ``import autoglm`` and ``autoglm --help`` pay for click alone and
not for pydantic, pluggy, structlog or the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "API_VERSION": "autoglm.nodes",
    "EmptyModel": "autoglm.nodes",
    "NodeModel": "autoglm.nodes",
    "NodeType": "autoglm.nodes",
    "NodeContext": "autoglm.context",
    "hookimpl": "autoglm.hookspecs",
    "Choice": "autoglm.space",
    "FloatRange": "autoglm.space",
    "IntRange": "autoglm.space",
    "search_space": "autoglm.space",
    "Engine": "autoglm.engine",
    "RunStore": "autoglm.store",
    "Host": "autoglm.plugins",
    "PluginSelection": "autoglm.plugins",
    "parse_workflow": "autoglm.workflow",
    "load_workflow": "autoglm.workflow",
}

__all__ = [
    "API_VERSION",
    "Choice",
    "EmptyModel",
    "Engine",
    "FloatRange",
    "Host",
    "IntRange",
    "NodeContext",
    "NodeModel",
    "NodeType",
    "PluginSelection",
    "RunStore",
    "__version__",
    "hookimpl",
    "load_workflow",
    "parse_workflow",
    "search_space",
]

if TYPE_CHECKING:
    from autoglm.context import NodeContext
    from autoglm.engine import Engine
    from autoglm.hookspecs import hookimpl
    from autoglm.nodes import API_VERSION, EmptyModel, NodeModel, NodeType
    from autoglm.plugins import Host, PluginSelection
    from autoglm.space import Choice, FloatRange, IntRange, search_space
    from autoglm.store import RunStore
    from autoglm.workflow import load_workflow, parse_workflow


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autoglm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
