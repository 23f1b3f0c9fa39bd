"""One run process as the service sees it: start it, hand it a run, watch its limits, stop it.

Why: runs never execute in the API process. A run process (``service/runner.py``) executes
the runs it is handed, one at a time, in a session of its own; the service holds a
``RunProcess`` for each and

* starts it ahead of need, so a run starts at once (the process has imported the engine and
  loaded the plugins while it waited): about 0.35 s of CPU saved per run;
* claims a queued run in the store *for that process* (the process is the run's owner) and
  sends it the run id;
* watches the run's wall clock, and the resident memory and CPU seconds of the session
  (the run process and its node workers), and kills all of it when a limit is passed,
  recording why (``kill``); cancel and graceful stop ask first and kill after a grace.

The child is told the service's pid and dies with it (``lifeline``), so a service killed with
SIGKILL leaves no run executing; its runs read as interrupted and the next start requeues them.
``PR_SET_PDEATHSIG`` fires when the *thread* that started the child ends, so every run process
is started from the pool's supervisor thread, which lives until the pool has stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from autoglm.ownership import Owner, process_start
from autoglm.service.limits import RunLimits
from autoglm.service.procgroup import Usage, kill_session

#: ``exiting``: told to leave (or killed); it takes no run and is not counted as a slot
State = Literal["starting", "idle", "busy", "exiting", "gone"]


@dataclass
class RunProcess:
    """A run process and what it is doing."""

    proc: subprocess.Popen[bytes]
    commands: Any  # the write end of its command pipe (text)
    events_fd: int  # the read end of its event pipe
    state: State = "starting"
    run_id: str | None = None
    started_at: float = 0.0  # monotonic, when the current run was handed over
    cpu_at_start: float | None = None  # the session's CPU seconds when it was
    stop_sent: str | None = None  # "cancel" or "interrupt", once asked
    stop_deadline: float | None = None  # monotonic: kill the session if still running then
    kill_reason: str | None = None  # why the service killed it (the run's error)
    kill_status: str = "failed"  # the run's status after that kill
    _buffer: bytes = field(default=b"", repr=False)

    @classmethod
    def start(cls, spec: dict[str, Any]) -> RunProcess:
        """Start a run process as the leader of a new session."""
        cmd_r, cmd_w = os.pipe()
        evt_r, evt_w = os.pipe()
        full = {**spec, "parent": os.getpid(), "command_fd": cmd_r, "event_fd": evt_w}
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "autoglm.service.runner", json.dumps(full)],
                pass_fds=(cmd_r, evt_w),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(cmd_r)
            os.close(evt_w)
        os.set_blocking(evt_r, False)
        return cls(proc=proc, commands=os.fdopen(cmd_w, "w", encoding="utf-8"), events_fd=evt_r)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def owner(self) -> Owner:
        """The process as a run owner: runs are claimed for it, not for the service."""
        return Owner(socket.gethostname(), self.pid, process_start(self.pid))

    def send(self, command: dict[str, Any]) -> bool:
        """Write one command; False if the process no longer reads its pipe."""
        try:
            self.commands.write(json.dumps(command) + "\n")
            self.commands.flush()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def read_events(self) -> tuple[list[dict[str, Any]], bool]:
        """Events available now, and whether the pipe reached its end (the process left)."""
        events: list[dict[str, Any]] = []
        closed = False
        while True:
            try:
                chunk = os.read(self.events_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events, closed

    def hand(self, run_id: str) -> bool:
        """Give the process the run claimed for it."""
        self.state, self.run_id = "busy", run_id
        self.started_at = time.monotonic()
        self.cpu_at_start = None
        self.stop_sent = self.stop_deadline = self.kill_reason = None
        self.kill_status = "failed"
        return self.send({"op": "run", "run_id": run_id})

    def ask_stop(self, op: str, grace_s: float) -> None:
        """Ask the run to stop (``cancel`` or ``interrupt``); kill it after ``grace_s``."""
        if self.state != "busy" or self.run_id is None:
            return
        if self.stop_sent != op:
            self.stop_sent = op
            self.send({"op": op, "run_id": self.run_id})
        deadline = time.monotonic() + grace_s
        if self.stop_deadline is None or deadline < self.stop_deadline:
            self.stop_deadline = deadline

    def kill(self, reason: str, status: str = "failed") -> None:
        """Kill the run process and all it started, now; the run ends with ``status`` and
        ``reason``."""
        if self.kill_reason is None:
            self.kill_reason, self.kill_status = reason, status
        kill_session(self.pid)

    def check(self, limits: RunLimits, usage: Usage | None, now: float) -> str | None:
        """The error of a limit the current run has passed, or None."""
        if self.state != "busy":
            return None
        elapsed = now - self.started_at
        if limits.wall_s is not None and elapsed > limits.wall_s:
            return limits.exceeded("wall_s", f"stopped after {elapsed:.1f} s")
        if usage is None:
            return None
        if self.cpu_at_start is None:
            self.cpu_at_start = usage.cpu_s
        if limits.memory_mb is not None and usage.rss_bytes > limits.memory_mb * 1024 * 1024:
            used = usage.rss_bytes / (1024 * 1024)
            return limits.exceeded("memory_mb", f"its processes held {used:.0f} MB")
        cpu = usage.cpu_s - self.cpu_at_start
        if limits.cpu_s is not None and cpu > limits.cpu_s:
            return limits.exceeded("cpu_s", f"its processes used {cpu:.1f} s")
        return None

    def exit_reason(self, limits: RunLimits) -> str:
        """Why the process ended by itself in the middle of a run."""
        code = self.proc.returncode
        if code is not None and code < 0:
            sig = signal.Signals(-code)
            if sig == signal.SIGXCPU:
                return limits.exceeded("cpu_s", "stopped by the kernel's CPU limit")
            hint = " (the system may be out of memory)" if sig == signal.SIGKILL else ""
            return f"the run process was killed by {sig.name}{hint}"
        return f"the run process exited with code {code} during the run"

    def close(self) -> None:
        """Release the pipes (the process has ended)."""
        for close in (self.commands.close, lambda: os.close(self.events_fd)):
            with contextlib.suppress(OSError):
                close()
        self.state = "gone"
