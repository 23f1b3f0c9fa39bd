"""Child processes that die with the process that started them.

Why: a worker process (a process-isolated node, a tuner trial, a service run) that outlives its
engine finishes its side effects while a resumed run starts the same work again. The kernel can
tie a child's life to its parent's on Linux (``PR_SET_PDEATHSIG``); elsewhere a watchdog thread
polls the parent's pid and exits when it changes. Call ``die_with_parent()`` first thing in the
child, passing the pid of the parent as the parent saw itself, so that a parent that died
between ``fork``/``spawn`` and the call is noticed too.

A node may start processes of its own (a pool, a subprocess) that know nothing of this.
``lead_process_group()`` makes a worker the leader of a new process group, so that the engine
can kill the worker and everything it started with one ``killpg`` (timeout, cancellation), and
forks a tiny *group reaper* that kills the whole group when the worker dies, whatever killed
it (the worker itself is killed by the kernel the moment its parent dies, with no chance to
clean up).

What each platform gets:

* **Linux**: the parent-death signal (SIGKILL, immediate) plus the watchdog; the reaper is told
  of its worker's death by a parent-death signal too, so grandchildren go within milliseconds.
* **macOS and other POSIX**: no parent-death signal; the watchdog thread notices the parent's
  death within ``poll_s`` seconds (0.5 s) and ends the child with ``os._exit``; process groups
  and the reaper (polling too) work as on Linux. A worker whose Python is stuck in C code that
  holds the GIL is only ended by the reaper's ``killpg``.
* **Windows**: the watchdog thread only; no process groups, so grandchildren are not killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
#: Exit status of a child that ended because its parent died.
ORPHAN_EXIT = 70


def _set_pdeathsig(sig: int) -> bool:
    """Ask the Linux kernel to send ``sig`` to this process when its parent thread exits."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, poll_s: float) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(ORPHAN_EXIT)
        time.sleep(poll_s)


def die_with_parent(parent_pid: int | None = None, *, poll_s: float = 0.5) -> None:
    """End this process when its parent dies.

    On Linux the kernel sends SIGKILL at the parent's death. The signal is tied to the parent
    *thread* that created the child (the engine thread that ran ``Process.start``; it waits for
    the child, so it outlives it), so the watchdog thread runs everywhere as a second line: it
    also catches a parent that died before this call (``getppid`` no longer the given pid).
    """
    expected = parent_pid if parent_pid is not None else os.getppid()
    _set_pdeathsig(signal.SIGKILL)
    if os.getppid() != expected:
        os._exit(ORPHAN_EXIT)
    threading.Thread(
        target=_watch_parent, args=(expected, poll_s), name="autoglm-lifeline", daemon=True
    ).start()


class _WorkerGone(Exception):
    """Raised in the reaper by its parent-death signal, to leave its wait at once."""


def _reap_group_when_parent_dies(worker_pid: int, poll_s: float) -> None:
    """The body of the group reaper (a forked child of the worker): wait for the worker's
    death, then SIGKILL the worker's process group, this reaper included."""

    def gone(signum: int, frame: object) -> None:
        raise _WorkerGone

    try:
        signal.signal(signal.SIGTERM, gone)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _set_pdeathsig(signal.SIGTERM)
        while os.getppid() == worker_pid:
            time.sleep(poll_s)
    except _WorkerGone:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.killpg(worker_pid, signal.SIGKILL)
        os._exit(0)


def lead_process_group(*, poll_s: float = 0.2) -> bool:
    """Make this process the leader of a new process group and start its group reaper.

    Call it first thing in a worker, before it starts threads or processes (the reaper is a
    ``fork``). Returns False where process groups do not exist (Windows).
    """
    if not hasattr(os, "setpgid") or not hasattr(os, "fork"):
        return False
    try:
        os.setpgid(0, 0)
    except OSError:  # a session leader cannot move: stay in the parent's group
        return False
    worker = os.getpid()
    if os.fork() == 0:  # the reaper: holds no descriptor of the worker's, touches nothing
        try:
            os.closerange(3, _max_fd())
        finally:
            _reap_group_when_parent_dies(worker, poll_s)
    return True


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (OSError, ValueError):
        return 1 << 16


def kill_process_group(pid: int, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to the process group led by ``pid`` (a worker and all it started).

    False if there is no such group (the worker had not made one yet, or it is all gone), in
    which case the caller kills the worker itself.
    """
    if not hasattr(os, "killpg"):
        return False
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True
