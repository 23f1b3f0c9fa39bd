"""What a run's processes use (resident memory, CPU seconds), read from ``/proc``, and how to
kill them all.

Why a session: a run process starts node workers (process isolation, a tuner's trial pool), and
a limit or a cancel must count and stop all of them. Each run process is started as the leader
of a new session (``start_new_session``); everything it starts stays in that session, even a
node worker that leads a process group of its own (``lifeline.lead_process_group``), unless it
calls ``setsid`` on purpose. So the session is the run. One scan of ``/proc`` per tick answers
for every run at once.

Linux only: elsewhere ``scan`` returns nothing, ``kill_session`` reaches the leader's process
group only, and the run processes rely on their kernel limits (``setrlimit``) and the wall clock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Usage:
    """Totals over the live processes of one session."""

    pids: list[int]
    rss_bytes: int = 0
    #: CPU of the live processes plus what they collected from their waited-for children
    cpu_s: float = 0.0


def scan(sessions: set[int]) -> dict[int, Usage]:
    """Usage of each session in ``sessions`` (absent: no live process, or not Linux)."""
    found: dict[int, Usage] = {}
    if not sessions or not sys.platform.startswith("linux"):
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        if len(fields) < 22 or fields[0] in {"Z", "X"}:
            continue
        session = int(fields[3])
        if session not in sessions:
            continue
        usage = found.setdefault(session, Usage(pids=[]))
        usage.pids.append(int(entry.name))
        usage.rss_bytes += int(fields[21]) * _PAGE
        usage.cpu_s += sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICKS
    return found


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
