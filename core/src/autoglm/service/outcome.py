"""Ending a run that its engine could not end itself: killed by a limit or a cancel, or
stopped by an error outside any node.

Why: the engine records a run's end when it returns; a run process that was killed, or an
engine that raised, leaves the run ``running`` and its active nodes ``running``. Whoever stops
it records the end here, with the reason on the run and on each node that was cut short, so
that ``GET /v1/runs/{id}`` says what happened and where.
"""

from __future__ import annotations

from autoglm.store import RunStore


def end_run(store: RunStore, run_id: str, status: str, error: str) -> None:
    """Record ``status`` and ``error`` on run ``run_id`` and on its nodes still running."""
    for node_id, node in store.node_states(run_id).items():
        if node.status == "running":
            store.node_finished(run_id, node_id, node.node_type, "failed", error=error)
    store.finish_run(run_id, status, error=error)
