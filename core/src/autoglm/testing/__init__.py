"""Test helpers for plugin authors: run a node or a workflow in an isolated host and home.

``run_node`` exercises one node type the way the engine does (validate config and inputs, init,
execute, validate outputs) with a real run store in a temporary folder. ``isolated_host`` builds a
host from an exact selection so tests never pick up whatever else is installed. The pytest plugin
(``autoglm.testing.pytest_plugin``, registered automatically) provides the ``autoglm_home`` and
``autoglm_host`` fixtures on top of these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from autoglm.context import NodeContext
from autoglm.nodes import NodeType
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore


def isolated_host(
    plugins: list[str] | tuple[str, ...] = (),
    *,
    node_types: list[type[NodeType]] | tuple[type[NodeType], ...] = (),
    plugin_dirs: list[str] | tuple[str, ...] = (),
) -> Host:
    """A host with exactly ``plugins`` (entry-point names) and ``node_types`` registered."""
    host = Host.load(
        PluginSelection(allow=tuple(plugins), plugin_dirs=tuple(str(d) for d in plugin_dirs))
    )
    for node_type in node_types:
        host.register_node_type(node_type)
    return host


def make_context(
    home: str | Path,
    *,
    node_id: str = "node",
    node_type: str = "test",
    run_id: str = "test-run",
    selection: PluginSelection | None = None,
    host: Host | None = None,
) -> NodeContext:
    """A real ``NodeContext`` whose store and artefacts live under ``home``."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    store_path = home / "runs.sqlite"
    return NodeContext(
        run_id=run_id,
        node_id=node_id,
        node_type=node_type,
        home=home,
        selection=selection or (host.selection if host else PluginSelection(allow=())),
        store_path=store_path,
        _store=RunStore(store_path),
        _host=host,
    )


def run_node(
    node_type: type[NodeType],
    config: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    *,
    home: str | Path,
    context: NodeContext | None = None,
) -> BaseModel:
    """Validate, init and execute one node the way the engine does; return its outputs."""
    context = context or make_context(home, node_type=node_type.name)
    node = node_type()
    node.init(node_type.Config.model_validate(config or {}), context)
    outputs = node.execute(node_type.Inputs.model_validate(inputs or {}), context)
    if not isinstance(outputs, node_type.Outputs):
        outputs = node_type.Outputs.model_validate(outputs)
    # Values crossing node boundaries must survive JSON, as they do in the run store.
    node_type.Outputs.model_validate_json(outputs.model_dump_json())
    return outputs
