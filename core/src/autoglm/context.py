"""What a node sees of the run it belongs to: where to write, how to log and report progress,
how to notice cancellation, and a journal that survives a killed run.

The same ``NodeContext`` type is handed to ``init`` and ``execute`` whether the node runs in
the engine's thread pool or in a worker process (process isolation, used for hard timeouts);
it holds only picklable state, and rebuilds the plugin host in a worker from the selection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from autoglm.errors import NodeCancelled
from autoglm.plugins import Host, PluginSelection

if TYPE_CHECKING:
    from pydantic import BaseModel

    from autoglm.nodes import NodeType
    from autoglm.policy import TrustPolicy
    from autoglm.store import RunStore

ProgressCallback = Callable[[str, float, float | None, str | None], None]


@dataclass
class NodeContext:
    """Per-node services. Plugins use these rather than globals so tests can isolate them."""

    run_id: str
    node_id: str
    node_type: str
    home: Path
    selection: PluginSelection = field(default_factory=PluginSelection)
    store_path: Path | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    progress_callback: ProgressCallback | None = None
    #: the run's trust policy (None: trusted use), for work a node runs on its own behalf
    policy: TrustPolicy | None = None
    #: the run's executor as ``{"name", "options"}``, reachable from any process (a tuner
    #: submits its trials through it: ``autoglm.executors``); None: run work here
    executor: dict[str, Any] | None = None
    _store: RunStore | None = field(default=None, repr=False)
    _host: Host | None = field(default=None, repr=False)

    # ----------------------------------------------------------- places

    @property
    def artifacts_dir(self) -> Path:
        """A folder of this node in this run, for files too big for the run store."""
        path = self.home / "artifacts" / self.run_id / self.node_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def cache_dir(self, namespace: str) -> Path:
        """A folder shared by all runs for a plugin's own caches (embeddings, datasets)."""
        path = self.home / "cache" / namespace
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ---------------------------------------------------------- logging

    @property
    def log(self) -> structlog.typing.FilteringBoundLogger:
        return structlog.get_logger("autoglm.node").bind(
            run_id=self.run_id, node=self.node_id, node_type=self.node_type
        )

    def progress(self, completed: float, total: float | None = None, message: str | None = None):
        """Report progress of long work (trials, epochs, batches); shown by the CLI."""
        if self.progress_callback is not None:
            self.progress_callback(self.node_id, completed, total, message)

    # ----------------------------------------------------- cancellation

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise ``NodeCancelled`` if the run was cancelled or the node's time is up. Long
        loops call this between steps so that thread-isolated nodes stop cooperatively."""
        if self.cancel_event.is_set():
            raise NodeCancelled(f"node {self.node_id!r} was cancelled")

    # ---------------------------------------------------------- journal

    @property
    def store(self) -> RunStore | None:
        if self._store is None and self.store_path is not None:
            from autoglm.store import RunStore

            self._store = RunStore(self.store_path)
        return self._store

    def journal_append(self, kind: str, payload: Any) -> None:
        """Durably record a step of this node's work (a finished trial, say). On resume the
        node reads its journal back and skips what is recorded."""
        store = self.store
        if store is not None:
            store.journal_append(self.run_id, self.node_id, kind, payload)

    def journal_read(self, kind: str) -> list[Any]:
        store = self.store
        return [] if store is None else store.journal_read(self.run_id, self.node_id, kind)

    def journal_search(self, kind: str, limit: int = 1000) -> list[tuple[str, str, Any]]:
        """Entries of ``kind`` from every run in the store, newest first (for warm starts)."""
        store = self.store
        return [] if store is None else store.journal_search(kind, limit)

    # ------------------------------------------------------------- host

    @property
    def host(self) -> Host:
        """The plugin host, rebuilt from the selection when this context crossed a process,
        without the plugins that the command found to kill their interpreter (``plugin_probe``)."""
        if self._host is None:
            from autoglm.plugin_probe import load_host

            self._host = load_host(self.selection, self.home, probe_new=False)
        return self._host

    def node_type_class(self, name: str) -> type[NodeType]:
        """Look up another node type (a tuner runs trials of a node it was pointed at)."""
        return self.host.get_node_type(name)

    def check_policy(self, config: BaseModel | None, inputs: BaseModel | None) -> None:
        """Raise ``PolicyViolation`` if another node type's validated config and inputs, run
        by this node on its own behalf (a tuner's trial), break the run's trust policy. The
        engine checks each workflow node's own fields; a config handed on inside a plain
        dict (``base_config``) is only typed, and so only checkable, here."""
        if self.policy is None or self.policy.is_unrestricted:
            return
        from autoglm.policy import Places, enforce

        places = Places.of(self.policy, self.home, run_id=self.run_id)
        enforce(self.node_id, config, inputs, self.policy, places)

    def child(self, node_id: str, node_type: str) -> NodeContext:
        """A context for work a node runs on behalf of itself (a trial), sharing run and store."""
        return NodeContext(
            run_id=self.run_id,
            node_id=node_id,
            node_type=node_type,
            home=self.home,
            selection=self.selection,
            store_path=self.store_path,
            cancel_event=self.cancel_event,
            progress_callback=None,
            policy=self.policy,
            executor=self.executor,
            _store=self._store,
            _host=self._host,
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle only plain state: a worker process reopens the store and rebuilds the host."""
        state = self.__dict__.copy()
        state["_store"] = None
        state["_host"] = None
        state["progress_callback"] = None
        state["cancel_event"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.cancel_event = threading.Event()
