"""The run pool: takes queued runs from the run store and executes them in run processes.

The run store is the queue. ``POST /v1/runs`` only inserts a ``queued`` row (committed before
the 202 goes out). One supervisor thread keeps up to ``limit`` run processes
(``service/runner.py``) started, claims a queued run *for* an idle one (the process is the run's
owner in the store) and hands it over; it watches each running run's limits
(``service/limits.py``) and kills a run's processes when one is passed, a cancel is not
obeyed within its grace, or a stop finds it still running. Runs never execute in the API
process, so ``/healthz`` and the API keep answering whatever a run does.

Nothing lives only in memory, so a killed service loses nothing: its run processes die with it
(``lifeline``), and on start-up the runs they owned are requeued (``recovery``) and resume,
their finished nodes kept. Graceful stop (SIGTERM/SIGINT) interrupts the active runs (not
through the store's cancel flag) and requeues them, killing those that do not stop within the
grace, so the next start resumes them.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from typing import Any

import structlog

from autoglm.service.hosts import HostCache
from autoglm.service.limits import RunLimits
from autoglm.service.outcome import end_run
from autoglm.service.procgroup import SessionWatch, kill_session
from autoglm.service.recovery import requeue_orphans
from autoglm.service.supervisor import RunProcess
from autoglm.store import RunStore

log = structlog.get_logger("autoglm.service")

#: How often the queue is read when nothing woke the pool (a submission wakes it at once).
QUEUE_POLL_S = 0.5
#: Run processes that die before they are ready are restarted after a growing pause.
MAX_RESTART_PAUSE_S = 30.0


class WorkerPool:
    """Executes queued runs in run processes, at most ``limit`` at a time (changeable)."""

    def __init__(
        self,
        store: RunStore,
        hosts: HostCache,
        *,
        limit: int,
        node_workers: int | None = None,
        executor: dict[str, Any] | None = None,
        limits: RunLimits | None = None,
        log_level: str = "info",
        json_logs: bool = False,
        poll_s: float = QUEUE_POLL_S,
    ) -> None:
        self.store = store
        self.hosts = hosts
        self.limit = limit
        self.limits = limits or RunLimits()
        self.poll_s = poll_s
        self.spec: dict[str, Any] = {
            "store": str(store.path),
            "selection": hosts.base.to_dict(),
            "node_workers": node_workers,
            "executor": executor,
            "limits": self.limits.model_dump(mode="json"),
            "log_level": log_level,
            "json_logs": json_logs,
        }
        self.requeued: list[str] = []
        self.interrupted: list[str] = []
        self._lock = threading.Lock()
        self._cancels: list[str] = []
        self._active: set[str] = set()
        self._stopping = threading.Event()
        self._stop_grace = 0.0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._processes: list[RunProcess] = []
        self._watch_usage = SessionWatch()
        self._next_watch = 0.0
        self._queue_dirty = True
        self._next_claim = 0.0
        self._early_deaths = 0
        self._next_start = 0.0
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self) -> None:
        """Requeue orphaned runs, then start the supervisor thread (which starts the run
        processes and takes runs from the queue)."""
        self.requeued = requeue_orphans(self.store)
        self._thread = threading.Thread(target=self._loop, name="autoglm-supervisor", daemon=True)
        self._thread.start()

    @property
    def ready(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """A run was queued, or something changed: look now rather than at the next poll."""
        self._queue_dirty = True
        with contextlib.suppress(OSError):  # a full pipe: the pool is awake already
            os.write(self._wake_w, b"x")

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self.limit = limit
        self.wake()

    def active(self) -> list[str]:
        with self._lock:
            return sorted(self._active)

    def cancel(self, run_id: str) -> None:
        """Make a user's cancel (already flagged in the store) take effect now: the run is
        asked to stop and killed if it has not after ``limits.cancel_grace_s``."""
        with self._lock:
            self._cancels.append(run_id)
        self.wake()

    def stop(self, grace_s: float) -> list[str]:
        """Stop taking runs, interrupt the active ones and requeue them (killing those still
        running after ``grace_s`` seconds). Returns the interrupted ids."""
        self._stop_grace = grace_s
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(grace_s + 10)
        return list(self.interrupted)

    # ---------------------------------------------------------- internals

    def _loop(self) -> None:
        stop_deadline: float | None = None
        while True:
            try:
                if self._stopping.is_set() and stop_deadline is None:
                    stop_deadline = self._begin_stop()
                if stop_deadline is not None and not self._processes:
                    return
                self._wait()
                now = time.monotonic()
                self._collect(now)
                self._apply_cancels()
                self._watch(now)
                if stop_deadline is None:
                    self._start_processes(now)
                    self._dispatch(now)
                elif now > stop_deadline + 5:
                    log.error("run processes did not end; leaving them", count=len(self._processes))
                    return
            except Exception as exc:  # a broken store or pipe must not end supervision
                log.error("supervisor error", error=f"{type(exc).__name__}: {exc}")
                time.sleep(self.limits.poll_s)

    def _wait(self) -> None:
        poller = select.poll()
        for fd in [self._wake_r] + [p.events_fd for p in self._processes if p.state != "gone"]:
            poller.register(fd, select.POLLIN)
        readable = {fd for fd, _ in poller.poll(self.limits.poll_s * 1000)}
        if self._wake_r in readable:
            try:
                while os.read(self._wake_r, 4096):
                    pass
            except (BlockingIOError, OSError):
                pass

    def _collect(self, now: float) -> None:
        """Read every process's events, and settle the processes that ended."""
        for process in list(self._processes):
            events, closed = process.read_events()
            for event in events:
                self._on_event(process, event)
            if closed or process.proc.poll() is not None:
                process.proc.wait()
                self._on_exit(process)

    def _on_event(self, process: RunProcess, event: dict[str, Any]) -> None:
        kind = event.get("ev")
        if kind == "ready" and process.state == "starting":
            process.state = "idle"
            self._early_deaths = 0
        elif kind == "stale" and process.state == "idle":
            # its plugins changed on disk (service/reload.py): replace it before the next run
            process.send({"op": "exit"})
            process.state = "exiting"
        elif kind == "done" and process.run_id == event.get("run_id"):
            run_id = process.run_id
            if event.get("status") == "queued" and self._stopping.is_set():
                self.interrupted.append(run_id)
            process.state, process.run_id = "idle", None
            process.stop_sent = process.stop_deadline = None
            with self._lock:
                self._active.discard(run_id)
            self._queue_dirty = True
            if process.kill_reason is not None:
                process.state = "exiting"  # killed as it finished: it takes no other run
            elif event.get("recycle"):
                process.send({"op": "exit"})
                process.state = "exiting"

    def _on_exit(self, process: RunProcess) -> None:
        """A run process ended: kill what it left behind and settle the run it was executing."""
        kill_session(process.pid)  # node workers it may have left behind
        run_id = process.run_id if process.state == "busy" else None
        early = process.state == "starting" and process.run_id is None
        if early and process.kill_reason is None and process.proc.returncode not in (0, None):
            self._early_deaths += 1
            pause = min(MAX_RESTART_PAUSE_S, 0.5 * 2**self._early_deaths)
            self._next_start = time.monotonic() + pause
            log.error(
                "run process ended before it was ready",
                code=process.proc.returncode,
                retry_in_s=pause,
            )
        process.close()
        self._processes.remove(process)
        if run_id is None:
            return
        with self._lock:
            self._active.discard(run_id)
        self._queue_dirty = True
        record = self.store.get_run(run_id)
        if record is None or record.status not in {"running", "interrupted"}:
            return  # the run recorded its own end before the process went
        if process.kill_reason is not None:
            status, error = process.kill_status, process.kill_reason
        elif self._stopping.is_set():
            status, error = "queued", "interrupted by a service stop"
        else:
            status, error = "failed", process.exit_reason(self.limits)
        if status == "queued":
            self.store.requeue_run(run_id)
            self.interrupted.append(run_id)
            log.info("run interrupted and requeued", run_id=run_id)
        else:
            end_run(self.store, run_id, status, error)
            log.warning("run stopped", run_id=run_id, status=status, error=error)

    def _apply_cancels(self) -> None:
        with self._lock:
            cancels, self._cancels = self._cancels, []
        for run_id in cancels:
            for process in self._processes:
                if process.state == "busy" and process.run_id == run_id:
                    process.ask_stop("cancel", self.limits.cancel_grace_s)

    def _watch(self, now: float) -> None:
        """Kill the runs over a limit, and those that did not obey a stop in time: at most
        once per ``limits.poll_s``, however often submissions and events wake the loop."""
        busy = [p for p in self._processes if p.state == "busy"]
        if not busy or now < self._next_watch:
            return
        self._next_watch = now + self.limits.poll_s
        usage = self._watch_usage.usage({p.pid for p in busy})
        for process in busy:
            if process.kill_reason is not None:
                continue
            if process.stop_deadline is not None and now >= process.stop_deadline:
                if process.stop_sent == "cancel":
                    grace = self.limits.cancel_grace_s
                    process.kill(
                        f"run was cancelled; it did not stop within {grace:g} s"
                        " (limits.cancel_grace_s), so its processes were killed",
                        "cancelled",
                    )
                else:
                    process.kill("interrupted by a service stop", "queued")
                continue
            error = process.check(self.limits, usage.get(process.pid), now)
            if error is not None:
                log.warning("run over a limit, killing it", run_id=process.run_id, error=error)
                process.kill(error)

    def _start_processes(self, now: float) -> None:
        with self._lock:
            limit = self.limit
        # a leaving process is replaced at once, so the next run need not wait for its exit
        live = [p for p in self._processes if p.state in {"starting", "idle", "busy"}]
        idle = [p for p in live if p.state == "idle"]
        for process in idle[: max(0, len(live) - limit)]:
            process.send({"op": "exit"})  # the limit went down
            process.state = "exiting"
        missing = limit - len(live)
        if missing > 0 and now >= self._next_start:
            for _ in range(missing):
                self._processes.append(RunProcess.start(self.spec))

    def _dispatch(self, now: float) -> None:
        with self._lock:
            limit = self.limit
        if not self._queue_dirty and now < self._next_claim:
            return
        self._queue_dirty = False
        self._next_claim = now + self.poll_s
        busy = sum(1 for p in self._processes if p.state == "busy")
        for process in self._processes:
            if busy >= limit:
                return
            if process.state != "idle":
                continue
            run_id = self.store.claim_queued_run(process.owner())
            if run_id is None:
                return
            with self._lock:
                self._active.add(run_id)
            busy += 1
            if not process.hand(run_id):
                process.kill("the run process could not take the run", "queued")

    def _begin_stop(self) -> float:
        """Ask every active run to stop and every idle process to leave; the deadline."""
        grace = self._stop_grace
        for process in self._processes:
            if process.state == "busy":
                process.ask_stop("interrupt", grace)
            else:
                process.send({"op": "exit"})
                process.state = "exiting"
        return time.monotonic() + grace
