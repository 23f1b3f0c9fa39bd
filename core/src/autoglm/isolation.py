"""Running one node attempt in a separate process, so that a timeout really stops it.

A thread cannot be killed in Python: a node stuck in a C extension or a ``time.sleep`` ignores
any flag. With ``isolation: process`` (the default for nodes that set a ``timeout``), the attempt
runs in a fresh ``spawn`` process that rebuilds the plugin host from the run's picklable plugin
selection, initialises and executes the node, and sends its outputs back as JSON over a pipe.
On timeout or cancellation the engine kills the process (SIGKILL after a short SIGTERM grace).

The worker dies with the engine (``autoglm.lifeline``): it is killed the moment the engine's
process dies, even by SIGKILL, so an orphan never finishes a side effect that a resumed run
repeats. It also leads a process group of its own, so what the node starts (a pool of its own,
a subprocess) is killed with it: on timeout, cancellation, the end of the attempt, or the
engine's death.

Node types that only exist in the parent (registered on a ``Host`` object by hand) cannot cross
into a worker; process isolation needs them to come from a plugin (installed, ``--plugins-dir``
or a ``module:attr`` spec).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from autoglm.context import NodeContext
from autoglm.errors import NodeCancelled, NodeTimeout
from autoglm.lifeline import die_with_parent, kill_process_group, lead_process_group
from autoglm.logsetup import ensure_logging

_SPAWN = multiprocessing.get_context("spawn")


class RemoteError(Exception):
    """An exception raised in the worker process, carried back as text."""

    def __init__(self, kind: str, message: str, trace: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.trace = trace


def _worker_main(conn: Connection, payload: dict[str, Any]) -> None:
    """Entry point of the worker process."""
    lead_process_group()  # first: the reaper is a fork, before any thread starts
    die_with_parent(payload["parent_pid"])
    ensure_logging()  # a spawned process starts unconfigured: logs to stderr, never stdout
    try:
        context: NodeContext = payload["context"]
        context.progress_callback = lambda node, done, total, message: conn.send(
            ("progress", (done, total, message))
        )
        node_type = context.host.get_node_type(payload["node_type"])
        node = node_type()
        node.init(node_type.Config.model_validate(payload["config"]), context)
        outputs = node.execute(node_type.Inputs.model_validate(payload["inputs"]), context)
        if not isinstance(outputs, node_type.Outputs):
            outputs = node_type.Outputs.model_validate(outputs)
        conn.send(("ok", outputs.model_dump(mode="json")))
    except BaseException as exc:
        conn.send(("error", (type(exc).__name__, str(exc), traceback.format_exc())))
    finally:
        conn.close()


def run_in_process(
    *,
    context: NodeContext,
    node_type: str,
    config: dict[str, Any],
    inputs: dict[str, Any],
    timeout: float | None,
    on_progress: Callable[[float, float | None, str | None], None] | None = None,
) -> dict[str, Any]:
    """Run one attempt in a worker process; return its outputs as JSON-ready data.

    Raises ``NodeTimeout`` after ``timeout`` seconds, ``NodeCancelled`` when the context's cancel
    event is set, ``RemoteError`` when the node raised in the worker. The worker is killed in
    the first two cases.
    """
    parent, child = _SPAWN.Pipe(duplex=False)
    payload = {
        "context": context,
        "node_type": node_type,
        "config": config,
        "inputs": inputs,
        "parent_pid": os.getpid(),
    }
    # not a daemon: a node may start worker processes of its own (a tuner's trial pool); the
    # engine kills this process and its group itself on timeout, cancellation or return
    process = _SPAWN.Process(target=_worker_main, args=(child, payload), daemon=False)
    process.start()
    child.close()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            if context.cancel_event.is_set():
                raise NodeCancelled(f"node {context.node_id!r} was cancelled")
            wait = 0.05 if deadline is None else min(0.05, max(0.0, deadline - time.monotonic()))
            if parent.poll(wait):
                try:
                    kind, value = parent.recv()
                except EOFError:
                    process.join(1)
                    raise RemoteError(
                        "WorkerDied",
                        f"worker process exited with code {process.exitcode}",
                        "",
                    ) from None
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(*value)
                    continue
                if kind == "ok":
                    return value
                raise RemoteError(*value)
            if deadline is not None and time.monotonic() >= deadline:
                raise NodeTimeout(f"node {context.node_id!r} ran past its timeout of {timeout} s")
            if not process.is_alive() and not parent.poll(0):
                raise RemoteError(
                    "WorkerDied", f"worker process exited with code {process.exitcode}", ""
                )
    finally:
        _stop(process)
        parent.close()


def _stop(process: multiprocessing.process.BaseProcess) -> None:
    """End the worker and every process it started: SIGTERM to its group, SIGKILL after a
    short grace. A worker that already exited may have left processes behind in its group."""
    pid = process.pid
    assert pid is not None
    if process.is_alive():
        if not kill_process_group(pid, signal.SIGTERM):
            process.terminate()
        process.join(0.5)
    kill_process_group(pid, signal.SIGKILL)
    if process.is_alive():
        process.kill()
    process.join()
