"""What runs inside a worker process: one objective evaluation per job, until told to stop.

This module is the target of ``spawn``, so it stays light: the objective's heavy libraries are
imported by its own ``init`` in the worker, once per process, and the process is reused for
the next trial. Thread-count variables are set before that import so each worker uses one
CPU thread and ``workers`` processes share the machine without oversubscription.
"""

from __future__ import annotations

import os
import time
import traceback
from typing import Any

from autoglm.context import NodeContext
from autoglm.lifeline import die_with_parent
from autoglm.logsetup import ensure_logging

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def worker_main(conn: Any, context: NodeContext, parent_pid: int) -> None:
    """Serve jobs from ``conn`` until it sends None or the parent goes away.

    A worker whose search process was killed (SIGKILL leaves no time to clean up) must not
    keep burning CPU on an orphaned trial, nor finish its side effects: it dies with its
    parent (at once on Linux, within half a second elsewhere; see ``autoglm.lifeline``)."""
    die_with_parent(parent_pid)
    ensure_logging()  # a spawned process starts unconfigured: logs to stderr, never stdout
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        result = run_trial(context, job)
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


def run_trial(context: NodeContext, job: dict[str, Any]) -> dict[str, Any]:
    """Validate, init and execute the objective node on a child context, as the engine would.
    Exceptions become a failed result; the caller decides what a failure costs the search."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        node_cls = context.node_type_class(job["objective"])
        child = context.child(job["node_id"], job["objective"])
        config = node_cls.Config.model_validate(job["config"])
        inputs = node_cls.Inputs.model_validate(job["inputs"])
        child.check_policy(config, inputs)  # a trial is held to the run's trust policy
        node = node_cls()
        node.init(config, child)
        outputs = node.execute(inputs, child)
        if not isinstance(outputs, node_cls.Outputs):
            outputs = node_cls.Outputs.model_validate(outputs)
        result: dict[str, Any] = {"status": "ok", "outputs": outputs.model_dump(mode="json")}
    except Exception as exc:  # the trial failed; the search goes on
        result = {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
        }
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu
    return result
