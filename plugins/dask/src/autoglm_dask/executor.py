"""The ``dask`` executor: each node attempt is one Dask task; the driver keeps everything else.

Why the attempt, and not the node, is the task: the engine keeps the retries, the cache and the
run store, so a task that fails is retried by the engine's own policy, and one whose worker died
is rescheduled by Dask's scheduler on another worker (``distributed.scheduler.allowed-failures``)
without the engine noticing anything but a longer attempt. A finished node is in the driver's
store and is never resubmitted.

Options (``--executor-option key=value`` or ``executor: {name: dask, options: {...}}``):

* ``address``: a running scheduler (``tcp://host:8786``); without it a ``LocalCluster`` starts
  for the run and stops with it;
* ``n_workers`` (2) and ``threads_per_worker`` (1): the LocalCluster's size;
* ``dashboard`` (false): serve the LocalCluster's dashboard on ``:8787``.

Worker processes of a LocalCluster are started non-daemonic, because a process-isolated attempt
(a node with a ``timeout``) spawns a process of its own, which a daemonic process may not do;
workers of a real cluster need ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from concurrent.futures import Future
from typing import Any

from autoglm.errors import AutoGLMError, NodeCancelled, NodeTimeout
from autoglm.executors import Attempt, Executor, ExecutorChoice, ProgressFn
from autoglm.isolation import RemoteError
from autoglm_dask.worker import run_on_worker


class DaskExecutor(Executor):
    """Attempts as Dask tasks; progress comes back as worker events on a topic of the run."""

    name = "dask"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.client: Any = None
        self.cluster: Any = None
        self.topic = f"autoglm-progress-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._progress: dict[str, ProgressFn | None] = {}
        self._tasks: dict[int, tuple[Any, str]] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        address = self.options.get("address")
        if address:
            self.client = Client(str(address), timeout=30)
        else:
            with dask.config.set({"distributed.worker.daemon": False}):
                self.cluster = LocalCluster(
                    n_workers=int(self.options.get("n_workers", 2)),
                    threads_per_worker=int(self.options.get("threads_per_worker", 1)),
                    processes=True,
                    # None would still start one on :8787 (and warn when it is taken)
                    dashboard_address=":8787" if self.options.get("dashboard") else ":0",
                    silence_logs=logging.WARNING,
                )
            self.client = Client(self.cluster)
        self.client.subscribe_topic(self.topic, self._on_event)

    def shutdown(self) -> None:
        if self.client is not None:
            # the cluster may be gone already; nothing to release then
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def slots(self) -> int | None:
        if self.client is None:
            return None
        return sum(self.client.nthreads().values()) or None

    def spec(self) -> ExecutorChoice:
        """The scheduler's address, so that a node in another process (a tuner) reaches the
        same cluster rather than starting one of its own."""
        options = dict(self.options)
        if self.client is not None:
            options["address"] = self.client.scheduler.address
        return ExecutorChoice(self.name, options)

    # ------------------------------------------------------------ attempts

    def submit(self, attempt: Attempt, on_progress: ProgressFn | None) -> Future[dict[str, Any]]:
        if self.client is None:
            raise AutoGLMError("the dask executor was not started")
        context = attempt.context
        token = f"autoglm-{context.node_id}-{uuid.uuid4().hex}"
        with self._lock:
            self._progress[token] = on_progress
        task = self.client.submit(
            run_on_worker,
            attempt,
            self.topic,
            token,
            key=token,
            pure=False,
        )
        result: Future[dict[str, Any]] = Future()
        with self._lock:
            self._tasks[id(result)] = (task, token)
        task.add_done_callback(lambda done: self._settle(done, result, token))
        return result

    def submit_call(self, function: Any, *args: Any) -> Future[Any]:
        """``function(*args)`` as a Dask task, its result in a ``concurrent.futures`` future."""
        if self.client is None:
            raise AutoGLMError("the dask executor was not started")
        task = self.client.submit(function, *args, pure=False)
        result: Future[Any] = Future()

        def settle(done: Any) -> None:
            try:
                result.set_result(done.result())
            except BaseException as exc:
                result.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

        task.add_done_callback(settle)
        return result

    def cancel(self, future: Future[dict[str, Any]], attempt: Attempt) -> None:
        """Tell the task to kill its attempt (a Dask ``Event`` it watches), then drop it."""
        from distributed import Event

        with self._lock:
            task, token = self._tasks.get(id(future), (None, None))
        if task is None or self.client is None:
            return
        Event(token, client=self.client).set()
        self.client.cancel(task)

    def _settle(self, task: Any, result: Future[dict[str, Any]], token: str) -> None:
        with self._lock:
            self._progress.pop(token, None)
            self._tasks.pop(id(result), None)
        try:
            kind, value = task.result()
        except BaseException as exc:  # a cancelled task, a KilledWorker after too many deaths
            result.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            return
        if kind == "ok":
            result.set_result(value)
        elif kind == "timeout":
            result.set_exception(NodeTimeout(value))
        elif kind == "cancelled":
            result.set_exception(NodeCancelled(value))
        else:
            result.set_exception(RemoteError(*value))

    def _on_event(self, event: tuple[float, Any]) -> None:
        """A worker's progress report (``Worker.log_event``), handed to the node's callback."""
        _, message = event
        with self._lock:
            callback = self._progress.get(message.get("token"))
        if callback is not None:
            callback(*message["progress"])
