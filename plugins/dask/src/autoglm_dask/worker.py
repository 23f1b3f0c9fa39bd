"""What runs inside a Dask task: one node attempt, as it would run on the driver's machine.

The worker rebuilds the plugin host from the run's plugin selection (once per worker process,
then reused), runs the attempt with ``autoglm.executors.run_attempt`` (a process-isolated
attempt is a spawned process of the worker, killed at its deadline, and dies with the worker
through the lifeline), and returns plain data: exceptions travel as ``(kind, value)`` so that
no exception class has to unpickle on the driver.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import traceback
from typing import Any

from autoglm.errors import NodeCancelled, NodeTimeout
from autoglm.executors import Attempt, run_attempt
from autoglm.isolation import RemoteError
from autoglm.plugins import Host

_HOSTS: dict[str, Host] = {}
_HOSTS_LOCK = threading.Lock()


def _host(attempt: Attempt) -> Host:
    """The plugin host of this selection, built once per worker process: loading plugins for
    every task would cost more than most nodes."""
    context = attempt.context
    key = json.dumps([context.selection.to_dict(), str(context.home)], sort_keys=True)
    with _HOSTS_LOCK:
        host = _HOSTS.get(key)
        if host is None:
            from autoglm.plugin_probe import load_host

            host = _HOSTS[key] = load_host(context.selection, context.home, probe_new=False)
        return host


def run_on_worker(attempt: Attempt, topic: str, token: str) -> tuple[str, Any]:
    """Run ``attempt`` in this Dask worker; ``("ok", outputs)`` or why not."""
    from distributed import Event, get_worker

    worker = get_worker()
    context = attempt.context
    context._host = _host(attempt)

    def progress(done: float, total: float | None, message: str | None) -> None:
        worker.log_event(topic, {"token": token, "progress": [done, total, message]})

    context.progress_callback = lambda _node, done, total, message: progress(done, total, message)
    stop = threading.Event()
    if attempt.isolation == "process" or attempt.environment is not None:
        if multiprocessing.current_process().daemon:
            return (
                "error",
                (
                    "DaskWorkerDaemonic",
                    "this Dask worker is a daemonic process, which cannot start the process "
                    "that a node with a timeout runs in; start workers with "
                    "DASK_DISTRIBUTED__WORKER__DAEMON=False (docs/scale-out.md)",
                    "",
                ),
            )
        # the driver asks for a kill through an Event named after the task; watched only for
        # attempts that can be killed (a thread-isolated one stops cooperatively)
        threading.Thread(
            target=_watch_cancel, args=(Event(token), context.cancel_event, stop), daemon=True
        ).start()
    try:
        return ("ok", run_attempt(attempt, progress))
    except NodeTimeout as exc:
        return ("timeout", str(exc))
    except NodeCancelled as exc:
        return ("cancelled", str(exc))
    except RemoteError as exc:
        return ("error", (exc.kind, str(exc).partition(": ")[2], exc.trace))
    except Exception as exc:
        return ("error", (type(exc).__name__, str(exc), traceback.format_exc()))
    finally:
        stop.set()


def _watch_cancel(event: Any, cancel: threading.Event, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            if event.wait(timeout=0.5):
                cancel.set()
                return
        except Exception:  # the scheduler is going away with the run: nothing left to kill for
            return
