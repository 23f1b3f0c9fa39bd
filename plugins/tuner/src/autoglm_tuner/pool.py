"""A bounded pool of spawned worker processes with per-trial timeouts and crash detection.

``concurrent.futures.ProcessPoolExecutor`` cannot stop one running task and breaks as a whole
when a worker dies, so the pool keeps its own processes: one pipe each, one job at a time. A
job that runs past its deadline has its worker killed (and replaced on the next job); a worker
that dies mid-job (segfault, ``os._exit``, out of memory) is reported as a failed job. Workers
live across batches so the objective's imports (torch, dgl) are paid once per worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from autoglm.context import NodeContext
from autoglm_tuner.worker import worker_main

#: How often the pool wakes up to check deadlines and cancellation (seconds).
POLL_INTERVAL = 0.2


@dataclass
class _Worker:
    process: Any
    conn: Any


@dataclass
class _Running:
    job: int
    started: float
    deadline: float | None


class WorkerPool:
    """``size`` worker processes started with the ``spawn`` method (fork is unsafe with torch
    threads and would copy the parent's open SQLite connection)."""

    def __init__(self, size: int, context: NodeContext, timeout: float | None = None) -> None:
        self.size = size
        self.context = context
        self.timeout = timeout
        if multiprocessing.current_process().daemon:
            raise RuntimeError(
                "tuner.search runs trials in worker processes, which a daemonic process may not "
                "start: run this node with `isolation: thread` (a node `timeout` defaults to "
                "process isolation) and bound each trial with the config's trial_timeout"
            )
        self._mp = multiprocessing.get_context("spawn")
        self._workers: list[_Worker | None] = [None] * size

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, jobs: list[dict[str, Any]], on_result: Callable[[int, dict], None]) -> None:
        """Run ``jobs`` at most ``size`` at a time; call ``on_result(index, result)`` as each
        finishes (in completion order). Raises ``NodeCancelled`` when the run is cancelled."""
        pending = list(range(len(jobs)))
        running: dict[int, _Running] = {}
        while pending or running:
            if self.context.cancelled:
                self.close(kill=True)
                self.context.check_cancelled()
            for slot in range(self.size):
                if pending and slot not in running:
                    index = pending.pop(0)
                    running[slot] = self._start(slot, index, jobs[index])
            self._wait(running)
            now = time.monotonic()
            for slot, state in list(running.items()):
                result = self._collect(slot, state, now)
                if result is not None:
                    del running[slot]
                    result.setdefault("seconds", now - state.started)
                    on_result(state.job, result)

    def _start(self, slot: int, index: int, job: dict[str, Any]) -> _Running:
        worker = self._workers[slot]
        if worker is None or not worker.process.is_alive():
            worker = self._spawn()
            self._workers[slot] = worker
        worker.conn.send(job)
        started = time.monotonic()
        deadline = None if self.timeout is None else started + self.timeout
        return _Running(index, started, deadline)

    def _spawn(self) -> _Worker:
        parent_conn, child_conn = self._mp.Pipe()
        process = self._mp.Process(
            target=worker_main,
            args=(child_conn, self.context, os.getpid()),
            name="autoglm-tuner-worker",
        )
        process.start()
        child_conn.close()
        return _Worker(process, parent_conn)

    def _wait(self, running: dict[int, _Running]) -> None:
        waitables = []
        for slot in running:
            worker = self._workers[slot]
            assert worker is not None
            waitables += [worker.conn, worker.process.sentinel]
        deadlines = [s.deadline for s in running.values() if s.deadline is not None]
        timeout = POLL_INTERVAL
        if deadlines:
            timeout = max(0.0, min(timeout, min(deadlines) - time.monotonic()))
        wait(waitables, timeout=timeout)

    def _collect(self, slot: int, state: _Running, now: float) -> dict[str, Any] | None:
        """The finished job's result, a failure for a dead or timed-out worker, else None."""
        worker = self._workers[slot]
        assert worker is not None
        try:
            if worker.conn.poll():
                return worker.conn.recv()
        except (EOFError, OSError):
            pass
        else:
            if worker.process.is_alive():
                if state.deadline is None or now < state.deadline:
                    return None
                self._kill(slot)
                return {
                    "status": "timeout",
                    "error": f"ran past trial_timeout={self.timeout:g} s; its worker was killed",
                    "seconds": now - state.started,
                }
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        self._kill(slot)
        return {
            "status": "failed",
            "error": f"worker process died (exit code {code}) while running the trial",
            "seconds": now - state.started,
        }

    def _kill(self, slot: int) -> None:
        worker = self._workers[slot]
        self._workers[slot] = None
        if worker is None:
            return
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def close(self, kill: bool = False) -> None:
        """Stop every worker: politely (None on its pipe) unless ``kill``."""
        for slot, worker in enumerate(self._workers):
            if worker is None:
                continue
            if not kill:
                with contextlib.suppress(BrokenPipeError, OSError):
                    worker.conn.send(None)
                worker.process.join(timeout=5)
            self._kill(slot)
