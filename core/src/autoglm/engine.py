"""The workflow engine: runs a validated workflow's DAG against the run store.

* Nodes start as soon as their dependencies are done; independent branches run in parallel on a
  bounded thread pool (``workers``).
* Every state change is committed to the run store before the engine moves on, so a run killed
  at any point resumes (``Engine.execute(run_id)`` on an existing run) without re-running the
  nodes that finished, and replays the routing decisions (skips) that were recorded.
* Results are cached by node type, version, config and inputs, plus a fingerprint of any outside
  state the node declares (``NodeType.state_fingerprint``): a re-run skips unchanged nodes.
* Retries back off exponentially with jitter. A ``timeout`` really stops the node: with
  ``isolation: process`` (the default when a timeout is set) the attempt runs in a worker
  process that is killed at the deadline; with ``isolation: thread`` the node is asked to stop
  through ``context.check_cancelled()`` and must honour it.
* Where an attempt runs is the run's executor's business (``autoglm.executors``): ``local``
  (threads and processes of this machine) unless the command or the workflow names another
  (``dask``); the DAG, cache, store, retries and hooks stay here.
* Lifecycle hooks are called per observer plugin; an observer that raises is logged and recorded
  in the run's journal, never fatal to the run.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pydantic import BaseModel, ValidationError

from autoglm.context import NodeContext
from autoglm.errors import AutoGLMError, NodeCancelled, RunOwnedError
from autoglm.executors import (
    DEFAULT_EXECUTOR,
    Attempt,
    Executor,
    ExecutorChoice,
    create_executor,
)
from autoglm.expressions import ConditionError, Reference
from autoglm.isolation import RemoteError
from autoglm.logsetup import ensure_logging
from autoglm.nodes import NodeType
from autoglm.ownership import HEARTBEAT_S, Heartbeat, Owner
from autoglm.plugins import Host
from autoglm.policy import (
    Places,
    PolicyViolation,
    TrustPolicy,
    enforce,
    executor_violation,
    policy_options,
    run_policy,
)
from autoglm.store import (
    FINISHED_NODE_STATES,
    IdempotencyKey,
    NodeRecord,
    RunRecord,
    RunStore,
)
from autoglm.workflow import (
    RESERVED_ROOTS,
    RUN_INPUTS,
    WORKFLOW_REF,
    InputRef,
    InputStruct,
    Workflow,
    WorkflowNode,
    parse_workflow,
)

log = structlog.get_logger("autoglm.engine")

RUN_JOURNAL = "__run__"


class ProgressReporter(Protocol):
    """Receives progress events; the CLI draws them with rich, the service ignores them."""

    def run_started(self, run_id: str, total: int, done: int) -> None: ...
    def node_started(self, node_id: str) -> None: ...
    def node_progress(
        self, node_id: str, completed: float, total: float | None, message: str | None
    ) -> None: ...
    def node_finished(self, node_id: str, status: str) -> None: ...
    def run_finished(self, status: str) -> None: ...


@dataclass
class RunResult:
    run_id: str
    status: str
    outputs: dict[str, Any]
    error: str | None
    nodes: dict[str, NodeRecord] = field(default_factory=dict)


class _Skip(Exception):
    """Internal: the node is skipped (a recorded routing decision)."""


class _Blocked(Exception):
    """Internal: an upstream node failed, so this node cannot run now (it stays pending)."""


def cache_key(
    node_type: type[NodeType],
    config: dict[str, Any],
    inputs: dict[str, Any],
    state: str | None = None,
) -> str:
    """Key of a node result: type name, type version, config and inputs, canonical JSON, plus
    the fingerprint of the outside state the node declares (``NodeType.state_fingerprint``).
    Without a fingerprint the key is what it always was, so existing caches stay valid."""
    parts: list[Any] = [node_type.name, node_type.version, config, inputs]
    if state is not None:
        parts.append({"state": state})
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def node_cache_key(
    node_type: type[NodeType], config: BaseModel, inputs: BaseModel, context: NodeContext
) -> str | None:
    """The cache key of one node execution, or ``None`` when its result must not be cached:
    the type says it is not cacheable, or its state fingerprint could not be taken (a stale
    result is worse than a recomputed one)."""
    if not node_type.cacheable:
        return None
    try:
        state = node_type.state_fingerprint(config, inputs, context)
    except Exception as exc:
        log.warning(
            "state fingerprint failed; the node runs uncached",
            node=context.node_id,
            node_type=node_type.name,
            error=f"{type(exc).__name__}: {exc}",
        )
        return None
    return cache_key(
        node_type, config.model_dump(mode="json"), inputs.model_dump(mode="json"), state
    )


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


class Engine:
    """Executes workflows against a run store with the node types of a host."""

    def __init__(
        self,
        host: Host,
        store: RunStore,
        *,
        workers: int | None = None,
        use_cache: bool = True,
        reporter: ProgressReporter | None = None,
        policy: TrustPolicy | None = None,
        executor: ExecutorChoice | None = None,
    ) -> None:
        ensure_logging()
        self.host = host
        self.store = store
        self.workers = workers or min(4, os.cpu_count() or 1)
        #: a number of workers given by the caller wins over what the executor could run
        self.workers_given = workers is not None
        #: the executor of runs this engine executes (None: the workflow's, else ``local``)
        self.executor = executor
        self.use_cache = use_cache
        self.reporter = reporter
        #: the trust policy of runs this engine submits, and of stored runs that carry none
        #: (None: trusted use, nothing checked)
        self.policy = policy
        #: the process that executes runs, recorded in the store as each run's owner
        self.owner = Owner.current()
        #: seconds between heartbeats of a run this engine executes
        self.heartbeat_s = HEARTBEAT_S
        self._lock = threading.Lock()
        self._cancel: dict[str, threading.Event] = {}
        self._interrupted: set[str] = set()
        self._lost: set[str] = set()
        self._random = random.Random()

    # ------------------------------------------------------------- public

    def submit(
        self,
        workflow: Workflow,
        inputs: dict[str, Any] | None = None,
        *,
        run_id: str | None = None,
        labels: dict[str, Any] | None = None,
        idempotency: IdempotencyKey | None = None,
        admit: Callable[[], None] | None = None,
    ) -> str:
        """Record a queued run (inputs checked now) and return its id. ``idempotency`` and
        ``admit`` go to ``RunStore.create_run``: the id of a run already stored under the key
        comes back instead of a new one; ``admit`` may refuse the run (a quota)."""
        values = workflow.resolve_inputs(inputs or {})
        return self.store.create_run(
            workflow_name=workflow.name,
            workflow_source=workflow.source,
            workflow_path=workflow.path,
            inputs=values,
            selection=self.host.selection.to_dict(),
            options={"use_cache": self.use_cache, **policy_options(self.policy)},
            labels=labels,
            run_id=run_id,
            idempotency=idempotency,
            admit=admit,
        )

    def run(
        self,
        workflow: Workflow,
        inputs: dict[str, Any] | None = None,
        *,
        run_id: str | None = None,
    ) -> RunResult:
        """Submit and execute a run in this thread."""
        return self.execute(self.submit(workflow, inputs, run_id=run_id), workflow)

    def cancel(self, run_id: str) -> None:
        """Ask a run to stop: running nodes are cancelled, nothing new starts. Works across
        processes through the store's flag."""
        self.store.request_cancel(run_id)
        with self._lock:
            event = self._cancel.get(run_id)
        if event is not None:
            event.set()

    def interrupt(self, run_id: str) -> None:
        """Stop ``run_id`` in this process without cancelling it: the run goes back to the
        queue, with its finished nodes kept, for this or another process to resume (a service
        shutting down)."""
        with self._lock:
            event = self._cancel.get(run_id)
            if event is not None:
                self._interrupted.add(run_id)
        if event is not None:
            event.set()

    def execute(
        self, run_id: str, workflow: Workflow | None = None, *, claimed: bool = False
    ) -> RunResult:
        """Run, or resume, the stored run ``run_id``; finished nodes are not run again.

        The run is first taken for this process (``self.owner``) with one atomic claim in the
        store, and a heartbeat thread keeps the claim fresh while it executes. A run that
        another live process executes is refused with ``RunOwnedError``, which says who.

        ``claimed`` says this process, or its parent (a supervisor that hands runs to child
        processes), already took the run from the queue (``RunStore.claim_queued_run``), which
        marked it running and counted the attempt: the engine adopts it.
        """
        record = self.store.get_run(run_id)
        if record is None:
            raise AutoGLMError(f"no run {run_id!r} in {self.store.path}")
        if workflow is None:
            source = self.store.get_run_source(run_id) or ""
            workflow = parse_workflow(source, self.host, path=record.workflow_path)
        owner = self.owner
        claim = (
            self.store.adopt_run(run_id, owner) if claimed else self.store.claim_run(run_id, owner)
        )
        if not claim.ok:
            raise RunOwnedError(_owned_message(run_id, claim.run, claimed=claimed))
        if "plugin_versions" not in record.options:  # the code this run is made with
            from autoglm.plugin_versions import used_versions

            versions = used_versions(workflow, self.host)
            self.store.set_run_options(run_id, {"plugin_versions": versions})
        cancel = threading.Event()
        with self._lock:
            self._cancel[run_id] = cancel

        def lost() -> None:
            log.error("run taken over by another process; stopping", run_id=run_id)
            with self._lock:
                self._lost.add(run_id)
            cancel.set()

        try:
            with Heartbeat(
                lambda: self.store.heartbeat(run_id, owner), lost, interval=self.heartbeat_s
            ):
                return _Run(self, workflow, run_id, record.inputs, cancel).execute()
        finally:
            with self._lock:
                self._cancel.pop(run_id, None)
                self._interrupted.discard(run_id)
                self._lost.discard(run_id)

    # -------------------------------------------------------------- hooks

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation of lifecycle ``hook``, each isolated from the others."""
        run_id = kwargs["run_id"]
        caller = getattr(self.host.pm.hook, hook)
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(*[kwargs[name] for name in impl.argnames])
            except Exception as exc:
                log.warning("observer hook failed", hook=hook, plugin=impl.plugin_name, error=exc)
                self.store.journal_append(
                    run_id,
                    RUN_JOURNAL,
                    "hook_error",
                    {"hook": hook, "plugin": impl.plugin_name, "error": repr(exc)},
                )


def _owned_message(run_id: str, run: RunRecord | None, *, claimed: bool) -> str:
    """Why a run could not be taken, naming who holds it, so a user knows whom to wait for."""
    if run is None:
        return f"no run {run_id!r}"
    if claimed and run.status != "running":
        return f"run {run_id} was to be handed over but is {run.status}, not running"
    stamp = "%Y-%m-%d %H:%M:%S UTC"
    since = time.strftime(stamp, time.gmtime(run.owned_since)) if run.owned_since else "?"
    beat = f"{time.time() - run.heartbeat_at:.0f} s ago" if run.heartbeat_at else "never"
    return (
        f"run {run_id} is being executed by another process: pid {run.owner_pid} on host "
        f"{run.owner_host} (owner since {since}, last heartbeat {beat}); not started again. "
        f"Wait for it to end, or stop it with: autoglm cancel {run_id}"
    )


class _Run:
    """The state of one execution of one run."""

    def __init__(
        self,
        engine: Engine,
        workflow: Workflow,
        run_id: str,
        inputs: dict[str, Any],
        cancel: threading.Event,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.workflow = workflow
        self.run_id = run_id
        self.inputs = inputs
        self.cancel = cancel
        self.status: dict[str, str] = {}
        self.outputs: dict[str, dict[str, Any] | None] = {}
        self.errors: dict[str, str] = {}
        self.node_events: dict[str, threading.Event] = {}
        self._last_cancel_check = 0.0
        record = self.store.get_run(run_id)
        self.policy = run_policy(record.options if record else None, engine.policy)
        self._places: Places | None = None
        self.choice = (
            engine.executor
            or ExecutorChoice.from_dict(workflow.executor)
            or ExecutorChoice.from_dict((record.options if record else {}).get("executor"))
            or ExecutorChoice(DEFAULT_EXECUTOR)
        )
        self.executor: Executor | None = None

    # ---------------------------------------------------------- main loop

    def execute(self) -> RunResult:
        wf = self.workflow
        for node_id, rec in self.store.node_states(self.run_id).items():
            if node_id in wf.nodes and rec.status in FINISHED_NODE_STATES:
                self.status[node_id] = rec.status
                self.outputs[node_id] = rec.outputs
        done_before = len(self.status)
        reporter = self.engine.reporter
        if reporter:
            reporter.run_started(self.run_id, len(wf.nodes), done_before)
        log.info(
            "run started",
            run_id=self.run_id,
            workflow=wf.name,
            nodes=len(wf.nodes),
            resumed_nodes=done_before,
        )
        self.engine.notify("before_run", run_id=self.run_id, workflow=wf, inputs=self.inputs)

        waiting = {
            n: {d for d in wf.nodes[n].depends_on if d not in self.status}
            for n in wf.order
            if n not in self.status
        }
        children = wf.children
        ready = deque(n for n in wf.order if n in waiting and not waiting[n])
        running: dict[Future[str], str] = {}
        try:
            self.executor = self._start_executor()
        except Exception as exc:
            error = f"executor {self.choice.name!r} failed to start: {type(exc).__name__}: {exc}"
            log.error("executor failed to start", run_id=self.run_id, error=error)
            self.store.finish_run(self.run_id, "failed", error=error, owner=self.engine.owner)
            if reporter:
                reporter.run_finished("failed")
            return RunResult(self.run_id, "failed", {}, error, self.store.node_states(self.run_id))
        workers = self.engine.workers
        if not self.engine.workers_given:
            workers = max(workers, self.executor.slots() or 0)
        try:
            self._loop(ready, running, waiting, children, workers)
        finally:
            self.executor.shutdown()
        return self._finish()

    def _start_executor(self) -> Executor:
        """Create and start the run's executor, and record which one ran it (a resume without
        ``--executor`` uses it again). A choice that came with the workflow, not from the
        command, must pass the run's trust policy (a request must not pick where its work goes)."""
        if self.engine.executor is None and self.policy is not None:
            refused = executor_violation(self.choice.to_dict(), self.policy)
            if refused is not None:
                raise PolicyViolation([refused])
        executor = create_executor(self.choice, self.engine.host.executors)
        executor.start()
        self.store.set_run_options(self.run_id, {"executor": self.choice.to_dict()})
        return executor

    def _loop(
        self,
        ready: deque[str],
        running: dict[Future[str], str],
        waiting: dict[str, set[str]],
        children: dict[str, list[str]],
        workers: int,
    ) -> None:
        """Start each ready node on a thread of its own, release its children as it ends."""
        with ThreadPoolExecutor(workers, thread_name_prefix="autoglm-node") as pool:
            while ready or running:
                while ready and not self._cancelled():
                    node_id = ready.popleft()
                    outcome = self._prepare(node_id)
                    if isinstance(outcome, dict):
                        # copy the context so node logs keep bound fields (a request id)
                        call = contextvars.copy_context().run
                        running[pool.submit(call, self._run_node, node_id, outcome)] = node_id
                    else:
                        self._release(node_id, outcome, waiting, children, ready)
                if self._cancelled():
                    for event in self.node_events.values():
                        event.set()
                    ready.clear()
                if not running:
                    break
                finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    node_id = running.pop(future)
                    self._release(node_id, future.result(), waiting, children, ready)

    def _release(
        self,
        node_id: str,
        status: str,
        waiting: dict[str, set[str]],
        children: dict[str, list[str]],
        ready: deque[str],
    ) -> None:
        self.status[node_id] = status
        if self.engine.reporter:
            self.engine.reporter.node_finished(node_id, status)
        for child in children[node_id]:
            deps = waiting.get(child)
            if deps is not None and node_id in deps:
                deps.discard(node_id)
                if not deps:
                    ready.append(child)

    def _cancelled(self) -> bool:
        if self.cancel.is_set():
            return True
        now = time.monotonic()
        if now - self._last_cancel_check > 0.5:
            self._last_cancel_check = now
            if self.store.cancel_requested(self.run_id):
                self.cancel.set()
        return self.cancel.is_set()

    def _finish(self) -> RunResult:
        wf = self.workflow
        unfinished = [n for n in wf.order if self.status.get(n) not in FINISHED_NODE_STATES]
        with self.engine._lock:
            interrupted = self.run_id in self.engine._interrupted
            lost = self.run_id in self.engine._lost
        if lost:  # another process owns the run now: its result is not ours to write
            return RunResult(
                run_id=self.run_id,
                status="interrupted",
                outputs={},
                error="another process took this run over (its heartbeat went stale)",
                nodes=self.store.node_states(self.run_id),
            )
        if interrupted and unfinished and not self.store.cancel_requested(self.run_id):
            self.store.requeue_run(self.run_id, self.engine.owner)
            log.info("run interrupted and requeued", run_id=self.run_id)
            return RunResult(
                run_id=self.run_id,
                status="queued",
                outputs={},
                error="interrupted; requeued",
                nodes=self.store.node_states(self.run_id),
            )
        if self.cancel.is_set() and unfinished:
            status, error = "cancelled", "run was cancelled"
        elif unfinished:
            failed = [n for n in unfinished if self.status.get(n) == "failed"]
            status = "failed"
            error = "; ".join(f"node {n!r} failed: {self.errors.get(n, '')}" for n in failed)
            blocked = [n for n in unfinished if n not in failed]
            if blocked:
                error += f" ({len(blocked)} downstream node(s) not run: {', '.join(blocked)})"
        else:
            status, error = "succeeded", None
        outputs = {
            name: self._value(value, self._resolve_input) if status == "succeeded" else None
            for name, value in wf.outputs.items()
        }
        self.store.finish_run(
            self.run_id,
            status,
            error=error,
            outputs=outputs if status == "succeeded" else None,
            owner=self.engine.owner,
        )
        log.info("run finished", run_id=self.run_id, status=status, error=error)
        if self.engine.reporter:
            self.engine.reporter.run_finished(status)
        self.engine.notify(
            "after_run",
            run_id=self.run_id,
            workflow=wf,
            status=status,
            outputs=outputs,
        )
        return RunResult(
            run_id=self.run_id,
            status=status,
            outputs=outputs,
            error=error,
            nodes=self.store.node_states(self.run_id),
        )

    # ------------------------------------------------------ node decisions

    def _resolve(self, ref: Reference) -> Any:
        """Value of a reference; a skipped node's outputs read as None."""
        if ref.root == RUN_INPUTS:
            return _dig(self.inputs, ref.path)
        if ref.root == WORKFLOW_REF:
            return _dig(self.workflow.reference_values(), ref.path)
        return _dig(self.outputs.get(ref.root), ref.path)

    def _value(self, value: Any, resolve: Callable[[InputRef], Any]) -> Any:
        """A node input or workflow output with its references resolved by ``resolve``."""
        if isinstance(value, InputRef):
            return resolve(value)
        if isinstance(value, InputStruct):
            return self._value(value.value, resolve)
        if isinstance(value, dict):
            return {k: self._value(v, resolve) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, resolve) for v in value]
        return value

    def _resolve_input(self, value: InputRef) -> Any:
        for ref in value.sources:
            state = "ok" if ref.root in RESERVED_ROOTS else self.status.get(ref.root, "succeeded")
            if state in {"succeeded", "cached", "ok"}:
                return self._resolve(ref)
        return None

    def _prepare(self, node_id: str) -> dict[str, Any] | str:
        """Decide whether the node runs (return its input values), is skipped (recorded, so
        resume replays the decision), is blocked by a failed upstream node, or fails because
        its ``when`` cannot be evaluated."""
        node = self.workflow.nodes[node_id]
        try:
            values = {
                name: self._value(value, self._input_value) for name, value in node.inputs.items()
            }
            if node.when is not None:
                self._check_upstream({r.root for r in node.when.references})
                if not node.when.evaluate(self._resolve):
                    raise _Skip(f"when: {node.when.source} is false")
        except _Skip as skip:
            self.store.node_finished(self.run_id, node_id, node.type, "skipped", reason=str(skip))
            self.outputs[node_id] = None
            log.info("node skipped", run_id=self.run_id, node=node_id, reason=str(skip))
            return "skipped"
        except _Blocked:
            return "blocked"
        except ConditionError as exc:  # a `when` that cannot be evaluated fails, never skips
            return self._fail(node, str(exc))
        return values

    def _check_upstream(self, roots: set[str]) -> None:
        for root in roots - RESERVED_ROOTS:
            if self.status.get(root) in {"failed", "blocked"}:
                raise _Blocked(root)

    def _input_value(self, value: InputRef) -> Any:
        states = [
            "ok" if ref.root in RESERVED_ROOTS else self.status.get(ref.root)
            for ref in value.sources
        ]
        for ref, state in zip(value.sources, states, strict=True):
            if state in {"ok", "succeeded", "cached"}:
                return self._resolve(ref)
        if any(state in {"failed", "blocked"} for state in states):
            raise _Blocked(value.sources[0].root)
        raise _Skip(
            "upstream "
            + ", ".join(repr(ref.root) for ref in value.sources)
            + (" were" if len(value.sources) > 1 else " was")
            + " skipped"
        )

    # ------------------------------------------------------------ running

    def _run_node(self, node_id: str, values: dict[str, Any]) -> str:
        """Run one node: validate, look up the cache, announce, attempt with retries, persist.
        Returns its final status."""
        node = self.workflow.nodes[node_id]
        node_type = self.engine.host.get_node_type(node.type)
        checked = self._validate(node, node_type, values)
        if isinstance(checked, str):
            return checked
        config, inputs = checked
        inputs_json = inputs.model_dump(mode="json")
        context = self._context(node)
        # The key is taken before the node runs: outside state it declares is fingerprinted
        # as the node is about to read it, not after it changed it.
        key = node_cache_key(node_type, config, inputs, context)
        if node.settings.cache and self.engine.use_cache and key is not None:
            cached = self.store.cache_get(key)
            if cached is not None:
                self.store.node_finished(
                    self.run_id, node_id, node.type, "cached", outputs=cached, cache_key=key
                )
                self._done(node, inputs_json, cached, 0.0, cached=True)
                return "cached"
        self._announce(node, inputs_json, context)
        start = time.perf_counter()
        outputs = self._retry(node, node_type, config, inputs, context)
        if isinstance(outputs, str):
            return outputs
        duration = time.perf_counter() - start
        self.store.node_finished(
            self.run_id,
            node_id,
            node.type,
            "succeeded",
            outputs=outputs,
            cache_key=key,
            duration_s=duration,
            cache_outputs=node.settings.cache and key is not None,
        )
        log.debug("node finished", run_id=self.run_id, node=node_id, seconds=round(duration, 4))
        self._done(node, inputs_json, outputs, duration, cached=False)
        return "succeeded"

    def _validate(
        self, node: WorkflowNode, node_type: type[NodeType], values: dict[str, Any]
    ) -> tuple[BaseModel, BaseModel] | str:
        """The node's typed config and inputs, checked against the trust policy; or the
        ``failed`` status, recorded, when either is refused."""
        try:
            config = node_type.Config.model_validate(node.config)
            inputs = node_type.Inputs.model_validate(values)
        except ValidationError as exc:
            self._error(node, exc, 1, True)
            return self._fail(node, f"invalid inputs: {exc}")
        try:
            self._enforce_policy(node.id, config, inputs)
        except PolicyViolation as exc:
            self._error(node, exc, 1, True)
            return self._fail(node, str(exc))
        return config, inputs

    def _context(self, node: WorkflowNode) -> NodeContext:
        """The node's context, with a cancel event of its own (set when the run is cancelled)."""
        event = threading.Event()
        self.node_events[node.id] = event
        if self.cancel.is_set():
            event.set()
        return NodeContext(
            run_id=self.run_id,
            node_id=node.id,
            node_type=node.type,
            home=self.store.home,
            selection=self.engine.host.selection,
            store_path=self.store.path,
            cancel_event=event,
            progress_callback=self._progress,
            policy=self.policy,
            executor=self.executor.spec().to_dict() if self.executor else None,
            _store=self.store,
            _host=self.engine.host,
        )

    def _announce(self, node: WorkflowNode, inputs_json: dict[str, Any], context: NodeContext):
        """Record the node as running and tell the display and the observers."""
        self.store.node_started(self.run_id, node.id, node.type, inputs_json)
        if self.engine.reporter:
            self.engine.reporter.node_started(node.id)
        self.engine.notify(
            "before_node_run",
            run_id=self.run_id,
            node_id=node.id,
            node_type=node.type,
            inputs=inputs_json,
            context=context,
        )

    def _retry(
        self,
        node: WorkflowNode,
        node_type: type[NodeType],
        config: BaseModel,
        inputs: BaseModel,
        context: NodeContext,
    ) -> dict[str, Any] | str:
        """Attempts until one succeeds (its outputs) or the retry policy gives up (``failed``,
        recorded), with back-off between them."""
        policy = node.settings.retry
        event = context.cancel_event
        for attempt in range(1, policy.attempts + 1):
            try:
                return self._attempt(node, node_type, config, inputs, context)
            except Exception as exc:
                final = attempt == policy.attempts or self.cancel.is_set()
                self._error(node, exc, attempt, final)
                log.warning(
                    "node attempt failed",
                    run_id=self.run_id,
                    node=node.id,
                    attempt=attempt,
                    error=f"{type(exc).__name__}: {exc}",
                )
                # the node author's way to their own traceback: --log-level debug
                log.debug("node traceback", run_id=self.run_id, node=node.id, exc_info=exc)
                if final:
                    return self._fail(node, f"{type(exc).__name__}: {exc}")
                event.wait(policy.delay(attempt, self.engine._random.random()))
                if self.cancel.is_set():
                    return self._fail(node, "cancelled during retry back-off")
                event.clear()
                self.store.node_retrying(self.run_id, node.id)
        raise AssertionError("unreachable: the last attempt returns or fails")

    def _done(
        self,
        node: WorkflowNode,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        duration: float,
        *,
        cached: bool,
    ) -> None:
        self.outputs[node.id] = outputs
        self.engine.notify(
            "after_node_run",
            run_id=self.run_id,
            node_id=node.id,
            node_type=node.type,
            inputs=inputs,
            outputs=outputs,
            duration_s=duration,
            cached=cached,
        )

    def _error(self, node: WorkflowNode, error: BaseException, attempt: int, final: bool) -> None:
        self.engine.notify(
            "on_node_error",
            run_id=self.run_id,
            node_id=node.id,
            node_type=node.type,
            error=error,
            attempt=attempt,
            final=final,
        )

    def _attempt(
        self,
        node: WorkflowNode,
        node_type: type[NodeType],
        config: BaseModel,
        inputs: BaseModel,
        context: NodeContext,
    ) -> dict[str, Any]:
        """One attempt on the run's executor; a cancelled node's attempt is killed there."""
        settings = node.settings
        isolation = settings.isolation
        if isolation == "auto":
            isolation = "process" if settings.timeout is not None else "thread"
        attempt = Attempt(
            context=context,
            node_type=node.type,
            config=config.model_dump(mode="json"),
            inputs=inputs.model_dump(mode="json"),
            timeout=settings.timeout,
            isolation=isolation,
            environment=settings.environment,
        )
        assert self.executor is not None
        future = self.executor.submit(
            attempt, lambda done, total, msg: self._progress(node.id, done, total, msg)
        )
        try:
            while True:
                try:
                    return future.result(timeout=0.1)
                except FutureTimeout:
                    if context.cancel_event.is_set():
                        self.executor.cancel(future, attempt)
                        raise NodeCancelled(f"node {node.id!r} was cancelled") from None
        except RemoteError as exc:
            log.debug("remote traceback", node=node.id, trace=exc.trace)
            raise

    def _enforce_policy(self, node_id: str, config: BaseModel, inputs: BaseModel) -> None:
        """Check the node against the run's trust policy right before it runs (and before the
        cache: a cached result of a refused read must not be handed out either). Values from
        other nodes are known only now, and a link may have been swapped since submission."""
        if self.policy is None or self.policy.is_unrestricted:
            return
        if self._places is None:
            self._places = Places.of(self.policy, self.store.home, run_id=self.run_id)
        enforce(node_id, config, inputs, self.policy, self._places)

    def _fail(self, node: WorkflowNode, error: str) -> str:
        self.errors[node.id] = error
        self.store.node_finished(self.run_id, node.id, node.type, "failed", error=error)
        log.error("node failed", run_id=self.run_id, node=node.id, error=error)
        return "failed"

    def _progress(
        self, node_id: str, completed: float, total: float | None, message: str | None
    ) -> None:
        if self.engine.reporter:
            self.engine.reporter.node_progress(node_id, completed, total, message)
        else:
            # No live display (stderr not a terminal, the service): log it, so a long search
            # shows each trial in its log instead of nothing for half an hour.
            log.info(
                "progress",
                run_id=self.run_id,
                node=node_id,
                completed=completed,
                total=total,
                message=message,
            )
