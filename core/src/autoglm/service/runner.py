"""A run process of the service: executes the runs its supervisor hands it, one at a time.

Why a process: a run executes request-chosen work, and a thread of the API process that spins
in a regular expression, allocates gigabytes or sleeps forever takes the API down with it and
cannot be stopped. Here the work runs in a process of its own that the service can watch and
kill, with its node workers, as one session (see ``service/supervisor.py``).

Started by the supervisor as ``python -m autoglm.service.runner SPEC_JSON``, as the leader of
a new session, it ties its life to the service's
(``lifeline.die_with_parent``), imports the engine and loads the service's plugin host while
it waits, so that a run starts without paying for them. Then it reads commands, one JSON object
a line, from the command pipe, and answers on the event pipe:

* ``{"op": "run", "run_id": ...}``: execute the run, which the supervisor already claimed for
  this process; answer ``{"ev": "done", ...}`` with whether this process should be replaced;
* ``{"op": "cancel"|"interrupt", "run_id": ...}``: stop the run (cancelled, or requeued for a
  service that is stopping);
* ``{"op": "exit"}`` or the end of the pipe: leave.

The run's limits apply here: kernel limits (``setrlimit``) and the run store's write budget.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from typing import Any

import structlog

from autoglm.engine import Engine
from autoglm.executors import ExecutorChoice
from autoglm.lifeline import die_with_parent
from autoglm.logsetup import configure_logging
from autoglm.plugin_versions import check_resume
from autoglm.plugins import PluginSelection
from autoglm.run_feed import FeedWriter
from autoglm.service.hosts import HostCache
from autoglm.service.limits import MB, RunLimits, apply_rlimits, lower_priority
from autoglm.service.outcome import end_run
from autoglm.service.procgroup import own_rss
from autoglm.service.reload import PluginWatch
from autoglm.store import RunStore

log = structlog.get_logger("autoglm.service.runner")

#: A process whose resident memory grew by more than this over its idle size is replaced after
#: its run, so one run's leftovers do not count against the next run's memory limit.
RECYCLE_GROWTH_BYTES = 256 * MB


class Runner:
    """The state of one run process."""

    def __init__(self, spec: dict[str, Any], events: Any) -> None:
        self.store = RunStore(spec["store"])
        self.limits = RunLimits.model_validate(spec.get("limits") or {})
        lower_priority(self.limits)
        self.node_workers: int | None = spec.get("node_workers")
        #: the service's executor setting (None: each workflow's, else local)
        self.executor: dict[str, Any] | None = spec.get("executor")
        selection = PluginSelection.from_dict(spec["selection"])
        #: the installed plugin set this process loads (hot loading: service/reload.py), taken
        #: *before* loading, so an install that lands during the load is seen as a change
        self.watch = PluginWatch(selection)
        # the service's host loaded now, while the process waits; others on first use
        self.hosts = HostCache(selection)
        #: node progress and log lines for watchers (GET /v1/runs/{id}/events)
        self.feed = FeedWriter(self.store.home)
        self._events = events
        self._events_lock = threading.Lock()
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._run_id: str | None = None
        self._stop_asked: str | None = None  # "cancel" or "interrupt" before the engine was set
        self.runs = 0
        self.idle_rss = own_rss()

    def send(self, event: dict[str, Any]) -> None:
        with self._events_lock:
            self._events.write(json.dumps(event) + "\n")
            self._events.flush()

    # ----------------------------------------------------------- commands

    def stop(self, op: str, run_id: str) -> None:
        """Cancel or interrupt ``run_id`` if it is the one executing (from the reader thread)."""
        with self._lock:
            if run_id != self._run_id:
                return
            engine = self._engine
            if engine is None:
                self._stop_asked = op
                return
        if op == "cancel":
            engine.cancel(run_id)
        else:
            engine.interrupt(run_id)

    def execute(self, run_id: str) -> dict[str, Any]:
        """Execute one claimed run; the ``done`` event to send."""
        if self.watch.changed():
            # plugins changed since this process loaded them: a fresh process takes the run
            log.info("plugins changed; handing the run to a fresh run process", run_id=run_id)
            self.store.requeue_run(run_id)
            return {"ev": "done", "run_id": run_id, "status": "queued", "recycle": True}
        self.runs += 1
        structlog.contextvars.clear_contextvars()
        apply_rlimits(self.limits)
        # a fresh count per run, started from what the run recorded so far (a resume)
        self.store.write_budget = self.limits.write_budget()
        status, clean = "failed", True
        try:
            status = self._execute(run_id)
        except Exception as exc:  # outside any node: the store, the workflow, the host
            error = f"{type(exc).__name__}: {exc}"
            log.error("run could not execute", run_id=run_id, error=error)
            end_run(self.store, run_id, "failed", error)
            clean = False
        finally:
            with self._lock:
                self._engine, self._run_id, self._stop_asked = None, None, None
        leftover = [t.name for t in threading.enumerate() if t.name not in _OWN_THREADS]
        grew = own_rss() - self.idle_rss
        recycle = (
            not clean
            or bool(leftover)
            or grew > RECYCLE_GROWTH_BYTES
            or self.runs >= self.limits.runs_per_process
        )
        return {"ev": "done", "run_id": run_id, "status": status, "recycle": recycle}

    def _execute(self, run_id: str) -> str:
        with self._lock:
            self._run_id = run_id
        record = self.store.get_run(run_id)
        if record is None:
            return "missing"
        labels = record.labels or {}
        structlog.contextvars.bind_contextvars(run_id=run_id, request_id=labels.get("request_id"))
        if self.store.cancel_requested(run_id):
            self.store.finish_run(run_id, "cancelled", error="cancelled before it started")
            return "cancelled"
        engine = Engine(
            self.hosts.get(PluginSelection.from_dict(record.selection)),
            self.store,
            workers=self.node_workers,
            use_cache=bool(record.options.get("use_cache", True)),
            reporter=self.feed.reporter(run_id),
            executor=ExecutorChoice.from_dict(self.executor),
        )
        with self._lock:
            self._engine = engine
            asked = self._stop_asked
        if asked == "interrupt":
            self.store.requeue_run(run_id)
            return "queued"
        if asked == "cancel":
            self.store.finish_run(run_id, "cancelled", error="run was cancelled")
            return "cancelled"
        # a requeued run (a service restart) resumes on the plugins installed now; the
        # versions it started with are kept beside the new ones (plugin_versions_before)
        workflow = check_resume(self.store, record, engine.host, allow_changed=True)
        result = engine.execute(run_id, workflow, claimed=True)
        if result.status == "failed" and "MemoryError" in (result.error or ""):
            self._name_address_space_limit(run_id, result.error or "")
        return result.status

    def _name_address_space_limit(self, run_id: str, error: str) -> None:
        """A node that hit ``RLIMIT_AS`` failed with a bare ``MemoryError``: say which limit."""
        if self.limits.address_space_mb is not None:
            limit = self.limits.describe("address_space_mb")
            self.store.finish_run(run_id, "failed", error=f"{error} (hit its {limit})")


_OWN_THREADS = {"MainThread", "autoglm-lifeline", "autoglm-runner-commands"}


def _read_commands(stream: Any, runner: Runner, jobs: queue.Queue[str | None]) -> None:
    """The command pipe: runs go to the main thread; stops act at once."""
    for line in stream:
        try:
            command = json.loads(line)
        except ValueError:
            continue
        op = command.get("op")
        if op == "run":
            jobs.put(command["run_id"])
        elif op in {"cancel", "interrupt"}:
            runner.stop(op, command["run_id"])
        elif op == "exit":
            break
    jobs.put(None)


#: seconds between checks of the installed plugins while the process waits for a run
WATCH_S = 1.0


def _next_run(jobs: queue.Queue[str | None], runner: Runner) -> str | None:
    """The next run; while waiting, tell the supervisor once if the plugins changed, so it
    stops handing runs here and starts a fresh process (``stale``)."""
    stale = False
    while True:
        try:
            return jobs.get(timeout=WATCH_S)
        except queue.Empty:
            if not stale and runner.watch.changed():
                stale = True
                runner.send({"ev": "stale"})


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    die_with_parent(spec["parent"])
    configure_logging(json_logs=bool(spec.get("json_logs")), level=spec.get("log_level", "info"))
    commands = os.fdopen(spec["command_fd"], "r", encoding="utf-8")
    events = os.fdopen(spec["event_fd"], "w", encoding="utf-8")
    runner = Runner(spec, events)
    # node log lines go to the run feed too, before rendering (the processors' first step)
    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[runner.feed.log_processor, *processors])
    jobs: queue.Queue[str | None] = queue.Queue()
    threading.Thread(
        target=_read_commands,
        args=(commands, runner, jobs),
        name="autoglm-runner-commands",
        daemon=True,
    ).start()
    runner.send({"ev": "ready", "pid": os.getpid()})
    while (run_id := _next_run(jobs, runner)) is not None:
        done = runner.execute(run_id)
        runner.send(done)
        if done["recycle"]:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
