"""Start-up recovery: put the runs of a dead service (or a killed ``autoglm run``) back in the
queue so they resume, and never touch a run whose owner still lives.

It is the run store's own ownership rule (``autoglm.ownership``): a run is interrupted when its
owner process is gone, a zombie, or its pid now belongs to another process (same host), or its
heartbeat is stale (another host). ``RunStore.requeue_interrupted`` judges and requeues in one
transaction, so a run that another service claimed a moment ago is never put back.
"""

from __future__ import annotations

import structlog

from autoglm.ownership import Owner
from autoglm.store import RunStore

log = structlog.get_logger("autoglm.service")


def owner_id() -> Owner:
    """This process as a run owner."""
    return Owner.current()


def requeue_orphans(store: RunStore) -> list[str]:
    """Requeue every interrupted run; return their ids."""
    requeued = store.requeue_interrupted()
    for run_id in requeued:
        log.info("requeued interrupted run", run_id=run_id)
    return requeued
