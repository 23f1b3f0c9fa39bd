"""What a run's processes use (resident memory, CPU seconds), read from ``/proc``, and how to
kill them all.

Why a session: a run process starts node workers (process isolation, a tuner's trial pool), and
a limit or a cancel must count and stop all of them. Each run process is started as the leader
of a new session (``start_new_session``); everything it starts stays in that session, even a
node worker that leads a process group of its own (``lifeline.lead_process_group``), unless it
calls ``setsid`` on purpose. So the session is the run.

Reading every ``/proc/<pid>/stat`` of a busy machine costs milliseconds, too much ten times a
second in the API process, so ``SessionWatch`` follows each session's process tree from its
leader (``/proc/<pid>/task/*/children``: a tenth of a millisecond per process) on every tick,
and scans all of ``/proc`` only every few seconds, for a process that left the tree (an orphan
re-parented to init) but not the session.

Linux only: elsewhere ``scan`` returns nothing, ``kill_session`` reaches the leader's process
group only, and the run processes rely on their kernel limits (``setrlimit``) and the wall clock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


_LINUX = sys.platform.startswith("linux")


@dataclass
class Usage:
    """Totals over the live processes of one session."""

    pids: list[int] = field(default_factory=list)
    rss_bytes: int = 0
    #: CPU of the live processes plus what they collected from their waited-for children
    cpu_s: float = 0.0

    def add(self, pid: int, fields: list[bytes]) -> None:
        self.pids.append(pid)
        self.rss_bytes += int(fields[21]) * _PAGE
        self.cpu_s += sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICKS


def _read(path: str, size: int = 4096) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _stat(pid: int | str) -> list[bytes] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first); None for a process
    that is gone or a zombie."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text.rsplit(b")", 1)[1].split()
    if len(fields) < 22 or fields[0] in {b"Z", b"X"}:
        return None
    return fields


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid``."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tasks:
        text = _read(f"/proc/{pid}/task/{tid}/children", 65536)
        if text:
            found.extend(int(child) for child in text.split())
    return found


def scan(sessions: set[int]) -> dict[int, Usage]:
    """Usage of each session in ``sessions``, from all of ``/proc`` (absent: no live process,
    or not Linux)."""
    found: dict[int, Usage] = {}
    if not sessions or not _LINUX:
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat(entry.name)
        if fields is None or int(fields[3]) not in sessions:
            continue
        found.setdefault(int(fields[3]), Usage()).add(int(entry.name), fields)
    return found


class SessionWatch:
    """Usage of run sessions, cheap enough to read ten times a second (see the module's
    docstring): each session's known members and their process tree on every call, all of
    ``/proc`` every ``full_every_s`` seconds."""

    def __init__(self, full_every_s: float = 2.0) -> None:
        self.full_every_s = full_every_s
        self._members: dict[int, set[int]] = {}
        self._next_full = 0.0

    def usage(self, sessions: set[int]) -> dict[int, Usage]:
        """Usage of each session in ``sessions`` (absent: no live process, or not Linux)."""
        if not sessions or not _LINUX:
            return {}
        now = time.monotonic()
        if now >= self._next_full:
            self._next_full = now + self.full_every_s
            self._members = {leader: set(u.pids) for leader, u in scan(sessions).items()}
        found: dict[int, Usage] = {}
        for leader in sessions:
            usage, seen = Usage(), set()
            frontier = [leader, *self._members.get(leader, ())]
            while frontier:
                pid = frontier.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                fields = _stat(pid)
                if fields is None or int(fields[3]) != leader:
                    continue
                usage.add(pid, fields)
                frontier.extend(_children(pid))
            self._members[leader] = set(usage.pids)
            if usage.pids:
                found[leader] = usage
        for gone in set(self._members) - sessions:
            del self._members[gone]
        return found


def own_rss() -> int:
    """Resident bytes of this process (0 where ``/proc`` is missing)."""
    text = _read("/proc/self/statm") if _LINUX else None
    return int(text.split()[1]) * _PAGE if text else 0


def kill_session(leader: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to every process of the session led by ``leader``: its own process group
    first (so the leader starts nothing new), then each process found in the session."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, sig)
    for pid in session_pids(leader):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def session_pids(leader: int) -> list[int]:
    """The live processes of the session led by ``leader`` (empty off Linux)."""
    usage = scan({leader}).get(leader)
    return usage.pids if usage else []
