"""Trials on the run's executor: one search spread over a cluster.

When the run's executor is not ``local`` (``context.executor``, e.g. ``dask``), ``make_pool``
returns an ``ExecutorPool`` instead of the local ``WorkerPool``. It has the same ``run(jobs,
on_result)`` shape, so the search loop, its batches, its journal and its resume are unchanged,
and the same seed asks the same points whichever executor evaluates them.

Each trial is a call ``run_trial_isolated(context, job, timeout)`` submitted through the
executor. On the worker it runs in a one-process ``WorkerPool`` kept per worker thread, so a
trial past ``trial_timeout`` is killed exactly as locally, and the objective's imports (torch,
dgl) are paid once per worker thread, not once per trial.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from typing import Any

from autoglm.context import NodeContext
from autoglm.errors import AutoGLMError
from autoglm.executors import ExecutorChoice, create_executor
from autoglm_tuner.pool import POLL_INTERVAL, WorkerPool


def make_pool(size: int, context: NodeContext, timeout: float | None) -> Any:
    """The pool trials run on: the run's executor when it is not ``local``, else local
    worker processes."""
    choice = ExecutorChoice.from_dict(context.executor)
    if choice is None or choice.name == "local":
        return WorkerPool(size, context, timeout)
    return ExecutorPool(size, context, choice, timeout)


class ExecutorPool:
    """At most ``size`` trials at a time through the run's executor."""

    def __init__(
        self, size: int, context: NodeContext, choice: ExecutorChoice, timeout: float | None
    ) -> None:
        self.size = size
        self.context = context
        self.timeout = timeout
        self.executor = create_executor(choice, context.host.executors)
        self.executor.start()

    def __enter__(self) -> ExecutorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, jobs: list[dict[str, Any]], on_result: Callable[[int, dict], None]) -> None:
        """As ``WorkerPool.run``: ``on_result(index, result)`` in completion order; raises
        ``NodeCancelled`` when the run is cancelled (queued trials are dropped)."""
        pending = list(range(len(jobs)))
        running: dict[Future[Any], tuple[int, float]] = {}
        while pending or running:
            if self.context.cancelled:
                for future in running:
                    future.cancel()
                self.context.check_cancelled()
            while pending and len(running) < self.size:
                index = pending.pop(0)
                future = self.executor.submit_call(
                    run_trial_isolated, self.context, jobs[index], self.timeout
                )
                running[future] = (index, time.monotonic())
            done, _ = wait(running, timeout=POLL_INTERVAL, return_when=FIRST_COMPLETED)
            for future in done:
                index, started = running.pop(future)
                try:
                    result = future.result()
                except CancelledError as exc:
                    # The executor dropped the trial without running it to an end (its
                    # scheduler went away, e.g. with a killed driver): not the trial's
                    # failure, so it is not journaled; a resumed search runs it again.
                    raise AutoGLMError(
                        f"the {self.executor.name} executor lost a trial before it ended "
                        f"({type(exc).__name__}: {exc}); resume the run to go on"
                    ) from exc
                except Exception as exc:  # the cluster lost the trial for good (KilledWorker)
                    result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                result.setdefault("seconds", time.monotonic() - started)
                on_result(index, result)

    def close(self, kill: bool = False) -> None:
        self.executor.shutdown()


#: per worker thread: the pool of the search it last ran a trial for, and which search that was
_POOLS: dict[int, tuple[tuple[str, str, float | None], WorkerPool]] = {}
_POOLS_LOCK = threading.Lock()


def run_trial_isolated(
    context: NodeContext, job: dict[str, Any], timeout: float | None
) -> dict[str, Any]:
    """One trial on an executor's worker, in a worker process of this thread's own pool (one
    pool per thread: a trial of another search replaces it, so a long-lived cluster does not
    collect idle processes)."""
    thread = threading.get_ident()
    owner = (context.run_id, context.node_id, timeout)
    with _POOLS_LOCK:
        kept = _POOLS.get(thread)
        if kept is not None and kept[0] != owner:
            kept[1].close()
            kept = None
        if kept is None:
            kept = _POOLS[thread] = (owner, WorkerPool(1, context, timeout))
        pool = kept[1]
    results: list[dict[str, Any]] = []
    pool.run([job], lambda _index, result: results.append(result))
    return results[0]
