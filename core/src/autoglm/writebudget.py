"""A cap on what one run may write to the run store.

Why: a run's recorded values are copies, so a small request can make a big store. One 400 KB
constant referenced by 499 nodes was recorded as each node's inputs, outputs and cache entry:
a 0.43 MB request added 199 MB to the store. The store charges every value it records for a
run (node inputs and outputs, cache copies, journal entries, the run's outputs) to the run's
budget and refuses the write that would go over, with an error naming the limit, so the run
fails instead of filling the disk.

The budget counts the bytes of the JSON text written, which is what the database stores. A
resumed run starts from what it already recorded (``initial``), so a limit holds across restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from autoglm.errors import AutoGLMError


class StoreLimitExceeded(AutoGLMError):
    """A run tried to record more than its budget allows."""


def megabytes(size: int) -> str:
    """``size`` bytes as a short MB figure for messages."""
    return f"{size / 1_000_000:.3g} MB"


@dataclass
class WriteBudget:
    """Limits on what each run writes: ``run_bytes`` in all, ``record_bytes`` in one value.

    ``run_limit`` and ``record_limit`` are how messages name the limits, for example
    ``"store limit of 50 MB (limits.store_mb)"``, so a user can tell which setting to change.
    """

    run_bytes: int | None = None
    record_bytes: int | None = None
    run_limit: str = "store limit"
    record_limit: str = "output limit"
    _used: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def charge(self, run_id: str, what: str, texts: list[str], initial: Callable[[], int]) -> None:
        """Count ``texts`` (about to be written as ``what``) against ``run_id``'s budget, or
        raise ``StoreLimitExceeded`` and count nothing. ``initial`` gives the bytes the run
        recorded before this budget first saw it."""
        sizes = [len(text.encode()) for text in texts]
        if self.record_bytes is not None and sizes and max(sizes) > self.record_bytes:
            raise StoreLimitExceeded(
                f"run exceeded its {self.record_limit}: {what} is {megabytes(max(sizes))}"
            )
        with self._lock:
            used = self._used.get(run_id)
            if used is None:
                used = initial()
            total = used + sum(sizes)
            if self.run_bytes is not None and total > self.run_bytes:
                self._used[run_id] = used
                raise StoreLimitExceeded(
                    f"run exceeded its {self.run_limit}: {what} would bring what it recorded"
                    f" to {megabytes(total)}"
                )
            self._used[run_id] = total
