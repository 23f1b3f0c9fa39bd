"""Who executes a run: the owner's identity, whether it still lives, and its heartbeat.

Why: a run must never be executed by two processes at once (every remaining node would run
twice), and a run whose process died must not look ``running`` forever. So the process that
executes a run records itself in the run store as its *owner* and a thread of it refreshes a
*heartbeat* every few seconds; taking a run is one atomic compare-and-set in the store
(``RunStore.claim_run``) that only succeeds when nobody alive owns it.

Liveness is judged in two ways:

* **Same host**: the owner's pid must exist, not be a zombie, and have the same process start
  time as recorded, so a pid that the OS reused for another process is not mistaken for the
  owner. Start times come from ``/proc`` on Linux; elsewhere from ``psutil`` when it is
  installed, else only the pid is checked.
* **Another host** (a store on a shared disk): nothing here can see that process, so the owner
  is alive while its heartbeat is younger than ``STALE_AFTER_S``. This relies on the hosts'
  clocks agreeing to within a few seconds.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger("autoglm.ownership")

#: Seconds between two heartbeats of a running run.
HEARTBEAT_S = 5.0
#: A heartbeat older than this means the owner (on another host) is gone.
STALE_AFTER_S = 30.0


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_start(pid: int) -> str | None:
    """An opaque token of when process ``pid`` started (None if unknown).

    Two processes that got the same pid one after the other have different tokens. On Linux it
    is the start time in clock ticks since boot (field 22 of ``/proc/<pid>/stat``).
    """
    if sys.platform.startswith("linux"):
        fields = _proc_stat(pid)
        return fields[19] if fields and len(fields) > 19 else None
    try:
        import psutil  # optional: gives start times on macOS and Windows
    except ImportError:
        return None
    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except Exception:  # no such process, or access denied
        return None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    except OSError:
        return False
    fields = _proc_stat(pid) if sys.platform.startswith("linux") else None
    return not (fields and fields[0] in {"Z", "X"})


@dataclass(frozen=True)
class Owner:
    """A process as the owner of a run: host name, pid and start token."""

    host: str
    pid: int
    start: str | None = None

    @classmethod
    def current(cls) -> Owner:
        """This process."""
        return cls(socket.gethostname(), os.getpid(), process_start(os.getpid()))

    @classmethod
    def parent(cls) -> Owner:
        """This process's parent (a supervisor that claimed a run for this child)."""
        ppid = os.getppid()
        return cls(socket.gethostname(), ppid, process_start(ppid))

    @property
    def label(self) -> str:
        """``<host>:<pid>``, the form shown to people."""
        return f"{self.host}:{self.pid}"

    def __str__(self) -> str:
        return self.label

    def alive(
        self,
        heartbeat_at: float | None,
        *,
        now: float | None = None,
        stale_after: float = STALE_AFTER_S,
    ) -> bool:
        """Whether this owner still executes its run (see the module's docstring)."""
        if self.host != socket.gethostname():
            if heartbeat_at is None:
                return False
            return (now if now is not None else time.time()) - heartbeat_at < stale_after
        if not pid_alive(self.pid):
            return False
        if self.start is None:
            return True
        current = process_start(self.pid)
        return current is None or current == self.start


class Heartbeat:
    """A daemon thread that calls ``beat`` every ``interval`` seconds while a run executes.

    ``beat`` returns False when the run is no longer ours (another process took it after our
    heartbeat went stale); ``on_lost`` is then called once and the thread ends. A failing
    ``beat`` (a store locked for long) is logged and retried at the next tick.
    """

    def __init__(
        self,
        beat: Callable[[], bool],
        on_lost: Callable[[], None],
        *,
        interval: float = HEARTBEAT_S,
        name: str = "autoglm-heartbeat",
    ) -> None:
        self._beat = beat
        self._on_lost = on_lost
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.interval + 1)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                mine = self._beat()
            except Exception as exc:
                log.warning("heartbeat failed", error=repr(exc))
                continue
            if not mine:
                self._on_lost()
                return
