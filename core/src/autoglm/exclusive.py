"""Named process-wide locks for nodes that use state one process has only one of.

Why: the engine runs independent nodes on threads of one process. Some libraries keep state per
process, not per thread: torch's default random generator (weight initialisation, dropout),
its thread count. Two nodes that each seed that generator and then train, side by side, draw
from it in an order the scheduler decides, so the same workflow gives different numbers run to
run, although every node is seeded. A node type that names such a resource in
``Node.exclusive`` runs alone among the nodes that name the same one; others still run beside it.
Nodes in worker processes (process isolation, environments, tuner trials) have their own state
and need no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from autoglm.errors import NodeCancelled

#: The resource of nodes that seed torch's default random generator and then draw from it.
TORCH_RNG = "torch-rng"

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}

#: How often a waiting node looks at its cancel event (seconds).
POLL_SECONDS = 0.2


def lock_for(resource: str) -> threading.Lock:
    """The one lock of ``resource`` in this process."""
    with _guard:
        return _locks.setdefault(resource, threading.Lock())


@contextmanager
def holding(
    resource: str | None, cancel: threading.Event | None = None, who: str = "node"
) -> Iterator[None]:
    """Hold ``resource``'s lock for the block (nothing when ``resource`` is None). A cancelled
    or timed-out node stops waiting instead of queueing forever behind a long one."""
    if not resource:
        yield
        return
    lock = lock_for(resource)
    while not lock.acquire(timeout=POLL_SECONDS):
        if cancel is not None and cancel.is_set():
            raise NodeCancelled(f"{who} was cancelled while waiting for {resource!r}")
    try:
        yield
    finally:
        lock.release()
