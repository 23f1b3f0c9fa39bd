"""Run one node of a workflow on its own: what an orchestrator's step (a Kubeflow or Argo pod,
a batch job) executes, with its upstream nodes' outputs handed over as files or JSON.

There is no second code path: the node runs through ``Engine`` exactly as in ``autoglm run``
(input and config validation, plugin selection, trust policy, cache, retries, timeouts, hooks,
artefact folder, run store). The run holds the node and its direct upstream nodes, the latter
recorded as already finished with the outputs they were given, the way ``autoglm resume``
treats the finished nodes of a run. So ``when`` conditions, skips of a skipped upstream and
``first_of`` joins are decided by the engine's own code, from the same values a full run sees.

The outputs document (``--outputs-file``) is what the next step is given
(``--upstream NODE=FILE``)::

    {"node": "graph", "status": "succeeded", "outputs": {...}, "error": null,
     "run_id": "...", "artifacts": "/where/its/artefact/folder/is"}

Artefacts (files too big for the store) live in the node's artefact folder; on a shared disk
their paths work as they are. Without one (a pod per node), ``--artifacts-out DIR`` copies the
folder to DIR (what the orchestrator uploads) and the downstream step maps the paths to where
its copy was downloaded with ``--upstream-artifacts NODE=DIR``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autoglm.engine import Engine
from autoglm.errors import AutoGLMError
from autoglm.workflow import RetryPolicy, Workflow

#: statuses an upstream node may be handed over in
GIVEN_STATES = frozenset({"succeeded", "cached", "skipped"})
#: the reason recorded on upstream nodes that were given, not run, in this run
GIVEN_REASON = "outputs given to autoglm run-node"


@dataclass(frozen=True)
class Upstream:
    """An upstream node's result as handed to ``run-node``: its status and outputs, and where
    its artefact folder was when it ran (``artifacts``) and is now (``local``)."""

    node_id: str
    status: str
    outputs: dict[str, Any] | None
    artifacts: str | None = None
    local: str | None = None

    @classmethod
    def from_document(cls, node_id: str, doc: Any, where: str) -> Upstream:
        """Read an outputs document (see the module docstring); a bare mapping is taken as
        the outputs of a node that succeeded, for orchestrators that pass only values."""
        if not isinstance(doc, dict):
            raise AutoGLMError(f"upstream {node_id!r} ({where}): expected a JSON object")
        if "status" not in doc:
            return cls(node_id, "succeeded", doc)
        if doc.get("node") not in (None, node_id):
            raise AutoGLMError(
                f"upstream {node_id!r} ({where}) holds the outputs of node {doc['node']!r}"
            )
        status = doc["status"]
        if status not in GIVEN_STATES:
            detail = f": {doc.get('error')}" if doc.get("error") else ""
            raise AutoGLMError(
                f"upstream {node_id!r} ({where}) is {status!r}, not succeeded or skipped"
                f"{detail}; this node cannot run"
            )
        outputs = doc.get("outputs")
        if status != "skipped" and not isinstance(outputs, dict):
            raise AutoGLMError(f"upstream {node_id!r} ({where}) has no outputs object")
        return cls(node_id, status, outputs if status != "skipped" else None, doc.get("artifacts"))


@dataclass
class NodeRunResult:
    """What ``run_node`` did: the node's final status, its outputs and where they came from."""

    node_id: str
    run_id: str
    status: str  # succeeded | cached | skipped | failed | cancelled
    outputs: dict[str, Any] | None
    error: str | None
    artifacts: str | None
    reason: str | None = None  # why it was skipped

    def document(self) -> dict[str, Any]:
        return {
            "node": self.node_id,
            "status": self.status,
            "outputs": self.outputs,
            "error": self.error,
            "reason": self.reason,
            "run_id": self.run_id,
            "artifacts": self.artifacts,
        }


def node_workflow(workflow: Workflow, node_id: str, *, no_retry: bool = False) -> Workflow:
    """The workflow of a one-node run: ``node_id`` as written, plus its direct upstream nodes
    without inputs or conditions (they are recorded as finished and never run). With
    ``no_retry`` the node gets one attempt, for orchestrators that retry the step themselves."""
    if node_id not in workflow.nodes:
        known = ", ".join(workflow.order)
        raise AutoGLMError(f"no node {node_id!r} in workflow {workflow.name!r}; it has: {known}")
    node = workflow.nodes[node_id]
    if no_retry:
        node = replace(node, settings=node.settings.model_copy(update={"retry": RetryPolicy()}))
    deps = node.depends_on
    nodes = {
        dep: replace(workflow.nodes[dep], inputs={}, when=None)
        for dep in workflow.order
        if dep in deps
    }
    nodes[node_id] = node
    order = [n for n in workflow.order if n in nodes]
    return replace(workflow, nodes=nodes, outputs={}, order=order)


def run_node(
    engine: Engine,
    workflow: Workflow,
    node_id: str,
    inputs: dict[str, Any],
    upstream: dict[str, Upstream],
    *,
    no_retry: bool = False,
    artifacts_out: Path | None = None,
) -> NodeRunResult:
    """Run ``node_id`` of ``workflow`` with the engine, its upstream nodes' results given.
    Raises ``AutoGLMError`` when an upstream result is missing or unknown; a node failure is
    a result (``status`` failed), as in a full run."""
    sub = node_workflow(workflow, node_id, no_retry=no_retry)
    deps = [n for n in sub.order if n != node_id]
    missing = [d for d in deps if d not in upstream]
    if missing:
        raise AutoGLMError(
            f"node {node_id!r} needs the outputs of {', '.join(map(repr, missing))}; "
            "give each with --upstream NODE=FILE (or --upstream-json NODE=JSON)"
        )
    extra = sorted(set(upstream) - set(deps))
    if extra:
        raise AutoGLMError(
            f"node {node_id!r} does not read {', '.join(map(repr, extra))}; "
            f"its upstream nodes are: {', '.join(deps) or '(none)'}"
        )
    run_id = engine.submit(sub, inputs, labels={"run_node": node_id})
    store = engine.store
    for dep in deps:
        given = upstream[dep]
        store.node_finished(
            run_id,
            dep,
            workflow.nodes[dep].type,
            given.status,
            outputs=_relocate(given.outputs, given.artifacts, given.local),
            reason=GIVEN_REASON,
        )
    result = engine.execute(run_id, sub)
    record = result.nodes.get(node_id)
    status = record.status if record is not None else result.status
    outputs = record.outputs if record is not None and status in {"succeeded", "cached"} else None
    error = record.error if record is not None else result.error
    reason = record.reason if record is not None else None
    folder = store.home / "artifacts" / run_id / node_id
    artifacts: str | None = str(folder)
    if artifacts_out is not None:
        artifacts_out.mkdir(parents=True, exist_ok=True)
        if folder.is_dir():
            shutil.copytree(folder, artifacts_out, dirs_exist_ok=True)
        outputs = _relocate(outputs, str(folder), str(artifacts_out))
        artifacts = str(artifacts_out)
    node_result = NodeRunResult(node_id, run_id, status, outputs, error, artifacts, reason)
    if artifacts_out is not None:  # the folder never uploads empty, and says what it holds
        (artifacts_out / "autoglm-node.json").write_text(
            json.dumps(node_result.document(), indent=2, default=str), encoding="utf-8"
        )
    return node_result


def _relocate(value: Any, old: str | None, new: str | None) -> Any:
    """``value`` with every string path under folder ``old`` moved under ``new``: the paths a
    node wrote into its outputs, after its artefact folder was copied elsewhere."""
    if not old or not new or old == new:
        return value
    if isinstance(value, str):
        if value == old:
            return new
        if value.startswith(old.rstrip("/") + "/"):
            return new.rstrip("/") + value[len(old.rstrip("/")) :]
        return value
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    return value


def output_parameter_text(value: Any) -> str:
    """The text of one output field written to an orchestrator's parameter file: a string as
    it is (so a condition compares ``qa``, not ``"qa"``), anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def read_upstream_file(node_id: str, path: str, local: str | None = None) -> Upstream:
    """An upstream node's outputs document from a file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AutoGLMError(f"upstream {node_id!r}: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise AutoGLMError(f"upstream {node_id!r}: {path} is not JSON: {exc}") from None
    found = Upstream.from_document(node_id, doc, path)
    return replace(found, local=local)


def read_upstream_json(node_id: str, text: str, local: str | None = None) -> Upstream:
    """An upstream node's outputs document given as JSON text (an orchestrator's parameter)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AutoGLMError(f"upstream {node_id!r}: --upstream-json is not JSON: {exc}") from None
    return replace(Upstream.from_document(node_id, doc, "--upstream-json"), local=local)
