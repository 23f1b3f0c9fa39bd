"""The hook specifications of the ``autoglm`` plugin host.

Two kinds of hooks, on purpose:

* **Registration** (``register_nodes``, ``register_routes``, ``register_executors``): a plugin
  hands node types (or HTTP routes for ``autoglm serve``, or executors) to the host through a
  ``register`` callback, in the manner
  of simonw/llm's ``register_models`` and ``register_commands``. The host then routes each
  workflow node to exactly one implementation, and the service mounts each router once.
* **Lifecycle** (``before_run``, ``after_run``, ``before_node_run``, ``after_node_run``,
  ``on_node_error``): broadcast to every observer plugin (logging, metrics, tracing), in the
  manner of kedro's node hooks. Their return values are ignored; an observer that raises is
  recorded in the run's log and does not fail the run.

Every spec here is documented in ``docs/hooks.md`` and exercised by ``tests/test_hooks.py``;
a test fails when one is added without both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from autoglm.context import NodeContext
    from autoglm.executors import Executor
    from autoglm.nodes import NodeType

PROJECT_NAME = "autoglm"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_nodes(register: Callable[[type[NodeType]], None]) -> None:
    """Register the node types this plugin provides by calling ``register(NodeTypeSubclass)``.

    Keep the module that defines this hook light: node classes may be defined here, but heavy
    libraries are imported inside ``NodeType.init``/``execute``.
    """


@hookspec
def register_routes(register: Callable[[Any], None]) -> None:
    """Contribute HTTP routes to the REST service by calling ``register(router)`` with a
    FastAPI ``APIRouter``.

    Called by ``autoglm serve`` only, once, when the service starts: import FastAPI inside the
    implementation, never at module level, so that the CLI and node listings stay light.
    Protect each route with the service's own key check, ``autoglm.service.auth.require(scope)``
    (``read``, ``submit`` or ``admin``); reach the service's settings and lazily loaded objects
    through ``request.app.state.service``. A router that fails to build, or whose paths clash
    with routes already mounted, is recorded as that plugin's error and left out; the service
    starts without it.
    """


@hookspec
def register_executors(register: Callable[[type[Executor]], None]) -> None:
    """Register executors (where node attempts run) by calling ``register(ExecutorSubclass)``.

    An executor is named by its class attribute ``name``: the plugin's own name, or
    ``<plugin>.<name>`` (``local`` is the core's). Keep the module light: import the cluster
    library inside ``Executor.start``, not at import time. See ``autoglm.executors``.
    """


@hookspec
def before_run(run_id: str, workflow: Any, inputs: dict[str, Any]) -> None:
    """A run is about to start (or resume). ``workflow`` is the validated ``Workflow``."""


@hookspec
def after_run(run_id: str, workflow: Any, status: str, outputs: dict[str, Any]) -> None:
    """A run ended with ``status`` (``succeeded``, ``failed`` or ``cancelled``)."""


@hookspec
def before_node_run(
    run_id: str, node_id: str, node_type: str, inputs: dict[str, Any], context: NodeContext
) -> None:
    """A node is about to execute (after a cache miss). ``inputs`` are JSON-ready values."""


@hookspec
def after_node_run(
    run_id: str,
    node_id: str,
    node_type: str,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    duration_s: float,
    cached: bool,
) -> None:
    """A node finished; ``cached`` is true when its outputs came from the cache."""


@hookspec
def on_node_error(
    run_id: str, node_id: str, node_type: str, error: BaseException, attempt: int, final: bool
) -> None:
    """A node attempt raised or timed out. ``final`` is true when no retry follows."""
