"""Where a node attempt runs: the executor contract, and ``local``, the core's own executor.

The engine keeps everything that makes a run a run (the DAG, the cache, the run store, retries,
hooks, cancellation); an executor only decides *where* one attempt of one node executes. That
is the shape Prefect's task runners, Kedro's runners and Hamilton's executors share: submit a
task, get a future, the orchestrator keeps the graph. Plugins add executors through the
``register_executors`` hook (``autoglm-dask`` runs attempts on a Dask cluster).

The contract, kept small on purpose so that a cluster engine can implement it in a page:

* ``start()`` once per run, before the first attempt (start or connect to a cluster);
* ``submit(attempt, on_progress)`` returns a ``concurrent.futures.Future`` of the attempt's
  JSON outputs; it raises (through the future) ``NodeTimeout``, ``NodeCancelled``, or
  ``RemoteError`` for an exception of the node itself;
* ``cancel(future, attempt)`` stops a running attempt *for real* (kills its process);
* ``shutdown()`` once, when the run ends, whatever happened;
* ``submit_call(function, *args)`` (optional) a future of any picklable call, for nodes that
  hand out work of their own through the run's executor (the tuner's trials);
* ``spec()`` the picklable name and options with which another process can reach the same
  executor (a tuner node submitting its trials through the run's executor).

An ``Attempt`` is plain picklable data (the context pickles without its store, host and
callbacks), so it can cross to another machine, whose worker rebuilds the host from the run's
plugin selection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, ClassVar

from autoglm.context import NodeContext
from autoglm.errors import AutoGLMError, NodeCancelled, NodeTimeout
from autoglm.exclusive import holding

#: the executor a run uses when neither the workflow nor the command names one
DEFAULT_EXECUTOR = "local"

ProgressFn = Callable[[float, float | None, str | None], None]


@dataclass(frozen=True)
class ExecutorChoice:
    """Which executor a run uses and its options (``--executor dask --executor-option
    n_workers=4``, or the workflow's ``executor:``). Plain data: stored with the run and handed
    to nodes that submit work of their own."""

    name: str = DEFAULT_EXECUTOR
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(self.options)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ExecutorChoice | None:
        if not data or not data.get("name"):
            return None
        return cls(str(data["name"]), dict(data.get("options") or {}))


def parse_options(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs from the command line; values that read as YAML scalars (numbers,
    booleans) become them, so ``n_workers=2`` is an int as it would be in a workflow."""
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AutoGLMError(f"--executor-option expects key=value, found {pair!r}")
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except Exception:
            parsed = value
        options[key.strip()] = parsed if isinstance(parsed, (int, float, bool, str)) else value
    return options


@dataclass
class Attempt:
    """One attempt of one node, as plain data that can cross processes and machines."""

    context: NodeContext
    node_type: str
    config: dict[str, Any]
    inputs: dict[str, Any]
    timeout: float | None
    #: ``thread`` (in the executing thread, cooperative cancel) or ``process`` (killable)
    isolation: str
    environment: str | None = None


class Executor:
    """Base class of executors; subclasses implement ``submit`` and usually ``cancel``."""

    #: the name workflows and ``--executor`` use
    name: ClassVar[str] = ""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})

    def start(self) -> None:
        """Start or connect to whatever runs attempts. Called once per run."""

    def submit(self, attempt: Attempt, on_progress: ProgressFn | None) -> Future[dict[str, Any]]:
        raise NotImplementedError

    def submit_call(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run a picklable module-level ``function(*args)`` where attempts run and return a
        future of its result: for work a node hands out on its own behalf (a tuner's trials).
        Optional: the core's engine never calls it; ``local`` has no need (nodes keep their
        own pools on this machine)."""
        raise NotImplementedError(f"executor {self.name!r} does not run calls")

    def cancel(self, future: Future[dict[str, Any]], attempt: Attempt) -> None:
        """Stop the attempt behind ``future`` and kill what runs it."""
        attempt.context.cancel_event.set()
        future.cancel()

    def shutdown(self) -> None:
        """Release what ``start`` took. Called once when the run ends."""

    def slots(self) -> int | None:
        """How many attempts can run at once (the engine runs that many nodes in parallel
        unless told a number), or None for no opinion."""
        return None

    def spec(self) -> ExecutorChoice:
        return ExecutorChoice(self.name, dict(self.options))


class LocalExecutor(Executor):
    """Today's behaviour: the attempt runs in the engine's node thread, or in a spawned process
    of this machine (``isolation: process``), or in another registered environment.

    ``submit`` runs the attempt before it returns (a finished future): the engine already gives
    every running node a thread of its own, so a second pool would only add a hand-over."""

    name = "local"

    def submit(self, attempt: Attempt, on_progress: ProgressFn | None) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        try:
            future.set_result(run_attempt(attempt, on_progress))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def run_attempt(attempt: Attempt, on_progress: ProgressFn | None) -> dict[str, Any]:
    """Execute ``attempt`` here, as its isolation says; the outputs as JSON-ready data.

    Shared by ``local`` and by remote executors' workers, so that an attempt behaves the same
    wherever it runs: a process-isolated attempt is killed at its deadline, a thread-isolated
    one is asked to stop through ``context.check_cancelled()``."""
    context = attempt.context
    if attempt.environment is not None:
        # version isolation: another interpreter, the same JSON protocol (environments.py)
        from autoglm.environments import run_node_in_environment

        return run_node_in_environment(
            attempt.environment,
            context=context,
            config=attempt.config,
            inputs=attempt.inputs,
            timeout=attempt.timeout,
            on_progress=on_progress,
        )
    if attempt.isolation == "process":
        from autoglm.isolation import run_in_process

        return run_in_process(
            context=context,
            node_type=attempt.node_type,
            config=attempt.config,
            inputs=attempt.inputs,
            timeout=attempt.timeout,
            on_progress=on_progress,
        )
    return _run_in_thread(attempt)


def _run_in_thread(attempt: Attempt) -> dict[str, Any]:
    """The attempt in this thread; a timeout sets the cancel event, which the node honours."""
    context = attempt.context
    node_type = context.host.get_node_type(attempt.node_type)
    timer = None
    timed_out = threading.Event()
    message = f"node {context.node_id!r} ran past its timeout of {attempt.timeout} s"
    if attempt.timeout is not None:

        def expire() -> None:
            timed_out.set()
            context.cancel_event.set()

        timer = threading.Timer(attempt.timeout, expire)
        timer.daemon = True
        timer.start()
    try:
        config = node_type.Config.model_validate(attempt.config)
        resource = node_type.exclusive_resource(config)
        with holding(resource, context.cancel_event, f"node {context.node_id!r}"):
            instance = node_type()
            instance.init(config, context)
            result = instance.execute(node_type.Inputs.model_validate(attempt.inputs), context)
        if not isinstance(result, node_type.Outputs):
            result = node_type.Outputs.model_validate(result)
        if timed_out.is_set():
            raise NodeTimeout(message)
        return result.model_dump(mode="json")
    except NodeCancelled:
        if timed_out.is_set():
            raise NodeTimeout(message) from None
        raise
    finally:
        if timer is not None:
            timer.cancel()


def create_executor(choice: ExecutorChoice, factories: Mapping[str, type[Executor]]) -> Executor:
    """An executor instance for ``choice``, or an error naming the executors there are."""
    factory = factories.get(choice.name)
    if factory is None:
        known = ", ".join(sorted(factories)) or "(none)"
        raise AutoGLMError(
            f"unknown executor {choice.name!r}; registered executors: {known} "
            "(a plugin adds one through register_executors, e.g. autoglm-dask adds 'dask')"
        )
    return factory(choice.options)
