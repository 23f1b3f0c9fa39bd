"""Start-up recovery: put the runs of a dead service (or a killed ``autoglm run``) back in the
queue so they resume, and never touch a run whose owner still lives.

The engine records the owner of a running run as ``<hostname>:<pid>``. A run is an orphan when
its owner ran on this host and that process is gone (or is a zombie, or is this very process,
which has not started any run yet: the pid was reused). Runs owned by another host are left
alone, since nothing here can tell whether that process lives; they are logged.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import structlog

from autoglm.store import RunStore

log = structlog.get_logger("autoglm.service")


def owner_id() -> str:
    """This process as a run owner, in the engine's own format."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def owner_is_dead(owner: str | None, *, host: str | None = None) -> bool | None:
    """True if ``owner`` is a dead process of this host, False if alive, None if unknown
    (another host, or a malformed owner)."""
    if not owner:
        return True
    name, _, pid_text = owner.rpartition(":")
    if not pid_text.isdigit():
        return None
    if name != (host or socket.gethostname()):
        return None
    pid = int(pid_text)
    return pid == os.getpid() or not pid_alive(pid)


def running_owners(store: RunStore) -> list[tuple[str, str | None]]:
    """``(run id, owner)`` of every run in state ``running``."""
    count = store.count_runs(status="running")
    return [(run.id, run.owner) for run in store.list_runs(status="running", limit=count)]


def requeue_orphans(store: RunStore) -> list[str]:
    """Requeue every orphaned running run; return their ids."""
    requeued: list[str] = []
    for run_id, owner in running_owners(store):
        dead = owner_is_dead(owner)
        if dead:
            store.requeue_run(run_id)
            requeued.append(run_id)
            log.info("requeued interrupted run", run_id=run_id, owner=owner)
        elif dead is None:
            log.warning("run owned by another host left as is", run_id=run_id, owner=owner)
    return requeued
