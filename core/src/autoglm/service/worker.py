"""The background worker pool: takes queued runs from the run store and executes them.

The run store is the queue. ``POST /v1/runs`` only inserts a ``queued`` row (committed before
the 202 goes out), and a dispatcher thread claims queued rows atomically
(``claim_queued_run``) while fewer than ``limit`` runs are active, each run executing on a
thread of its own. Nothing lives only in memory, so a killed service loses nothing: on start-up
the runs its dead predecessor owned are requeued (``recovery.requeue_orphans``) and resume,
their finished nodes kept.

Runs execute in threads of the service process. Nodes that set a ``timeout`` (or
``isolation: process``) run in worker processes of their own, which is what CPU-heavy nodes
should do so the API stays responsive.

Graceful stop (SIGTERM/SIGINT) interrupts the active runs in this process only (not through
the store's cancel flag) and requeues them, so the next start resumes them.
"""

from __future__ import annotations

import threading
from typing import Any

import structlog

from autoglm.engine import Engine
from autoglm.plugins import PluginSelection
from autoglm.service.hosts import HostCache
from autoglm.service.recovery import owner_id, requeue_orphans
from autoglm.store import RunStore

log = structlog.get_logger("autoglm.service")


class WorkerPool:
    """Executes queued runs, at most ``limit`` at a time (changeable while running)."""

    def __init__(
        self,
        store: RunStore,
        hosts: HostCache,
        *,
        limit: int,
        node_workers: int | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self.store = store
        self.hosts = hosts
        self.limit = limit
        self.node_workers = node_workers
        self.poll_s = poll_s
        self.owner = owner_id()
        self.requeued: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._draining = False
        self._active: dict[str, Engine | None] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._dispatcher: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self) -> None:
        """Requeue orphaned runs, then start taking runs from the queue."""
        self.requeued = requeue_orphans(self.store)
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="autoglm-dispatcher", daemon=True
        )
        self._dispatcher.start()

    @property
    def ready(self) -> bool:
        return self._dispatcher is not None and self._dispatcher.is_alive()

    def wake(self) -> None:
        """A run was queued, or a slot freed: look at the queue now rather than at next poll."""
        self._wake.set()

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self.limit = limit
        self.wake()

    def active(self) -> list[str]:
        with self._lock:
            return list(self._active)

    def cancel(self, run_id: str) -> None:
        """Make a user's cancel (already flagged in the store) take effect at once here."""
        with self._lock:
            engine = self._active.get(run_id)
        if engine is not None:
            engine.cancel(run_id)

    def stop(self, grace_s: float) -> list[str]:
        """Stop taking runs, interrupt the active ones and requeue them; wait up to
        ``grace_s`` seconds for them to record their state. Returns the interrupted ids."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            self._draining = True
            engines = dict(self._active)
            threads = list(self._threads.values())
        for run_id, engine in engines.items():
            if engine is not None:
                engine.interrupt(run_id)
        for thread in threads:
            thread.join(grace_s)
        if self._dispatcher is not None:
            self._dispatcher.join(grace_s)
        return list(engines)

    # ---------------------------------------------------------- internals

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                free = self.limit - len(self._active)
            run_id = None
            if free > 0:
                try:
                    run_id = self.store.claim_queued_run(self.owner)
                except Exception as exc:  # a locked or broken store must not kill the loop
                    log.error("cannot claim a queued run", error=repr(exc))
            if run_id is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            thread = threading.Thread(
                target=self._execute, args=(run_id,), name=f"autoglm-run-{run_id}", daemon=True
            )
            with self._lock:
                self._active[run_id] = None
                self._threads[run_id] = thread
            thread.start()

    def _execute(self, run_id: str) -> None:
        record = self.store.get_run(run_id)
        labels: dict[str, Any] = record.labels if record else {}
        structlog.contextvars.bind_contextvars(run_id=run_id, request_id=labels.get("request_id"))
        try:
            if record is None:
                return
            if self.store.cancel_requested(run_id):
                self.store.finish_run(run_id, "cancelled", error="cancelled before it started")
                return
            host = self.hosts.get(PluginSelection.from_dict(record.selection))
            engine = Engine(
                host,
                self.store,
                workers=self.node_workers,
                use_cache=bool(record.options.get("use_cache", True)),
            )
            engine.owner = self.owner
            with self._lock:
                self._active[run_id] = engine
                draining = self._draining
            if draining:
                self.store.requeue_run(run_id)
                return
            result = engine.execute(run_id, claimed=True)
            if result.status == "queued":
                log.info("run interrupted by shutdown, requeued", run_id=run_id)
        except Exception as exc:
            log.error("run could not execute", run_id=run_id, error=f"{type(exc).__name__}: {exc}")
            self.store.finish_run(run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._active.pop(run_id, None)
                self._threads.pop(run_id, None)
            structlog.contextvars.clear_contextvars()
            self._wake.set()
