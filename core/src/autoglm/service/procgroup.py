"""What a process group uses (resident memory, CPU seconds), read from ``/proc``, and how to
kill one.

Why a process group: a run process starts node workers (process isolation, a tuner's trial
pool), and a limit or a cancel must stop all of them. Each run process leads a group of its own
(``start_new_session``), which its workers join unless they leave on purpose, so the group is
the run. One scan of ``/proc`` per tick answers for every run at once.

Linux only: elsewhere ``scan`` returns nothing and the run processes rely on their kernel limits
(``setrlimit``) and the wall clock.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class GroupUsage:
    """Totals over the live processes of one group."""

    pids: list[int]
    rss_bytes: int = 0
    #: CPU of the live processes plus what they collected from their waited-for children
    cpu_s: float = 0.0


def scan(groups: set[int]) -> dict[int, GroupUsage]:
    """Usage of each process group in ``groups`` (absent: no live process, or not Linux)."""
    found: dict[int, GroupUsage] = {}
    if not groups or not sys.platform.startswith("linux"):
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
        group = int(fields[2])
        if group not in groups:
            continue
        usage = found.setdefault(group, GroupUsage(pids=[]))
        usage.pids.append(int(entry.name))
        usage.rss_bytes += int(fields[21]) * _PAGE
        usage.cpu_s += sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICKS
    return found


def kill_group(group: int, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to every process of ``group``; False if the group is gone."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def group_pids(group: int) -> list[int]:
    """The live processes of ``group`` (empty off Linux)."""
    usage = scan({group}).get(group)
    return usage.pids if usage else []
