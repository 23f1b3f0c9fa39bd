"""The intermediate model every exporter reads: one step per workflow node, each running
``autoglm run-node`` in a container image.

Exporters differ only in how they write a step (KFP IR, Argo templates); what a step needs
(its upstream steps, output fields and their kinds, retries, timeout, resources, condition,
the run-node command line) is decided here once, so the engines cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoglm.errors import AutoGLMError
from autoglm.expressions import Condition
from autoglm.plugins import BUILTIN_PLUGIN, Host
from autoglm.workflow import NodeResources, RetryPolicy, RunInput, Workflow

#: kinds of values a step parameter can carry; "json" is any other value, as JSON text
SCALAR_KINDS = {str: "str", int: "int", float: "float", bool: "bool"}
#: names of the outputs document and artefact folder of every step (kept apart from field names)
OUTPUTS_PARAM = "autoglm_outputs"
ARTIFACTS = "autoglm_artifacts"


class ExportError(AutoGLMError):
    """The workflow uses something the target engine cannot carry; the message names it."""


@dataclass(frozen=True)
class OutputField:
    name: str
    kind: str  # str | int | float | bool | json


@dataclass(frozen=True)
class RunParam:
    """A run input of the workflow, a pipeline parameter of the export."""

    name: str
    kind: str  # the declared type: any, str, int, float, bool, list, dict
    default: Any
    has_default: bool


@dataclass(frozen=True)
class Step:
    node_id: str
    name: str  # the node id as a DNS label (Kubernetes and Argo names allow no "_")
    node_type: str
    upstream: tuple[str, ...]  # node ids it reads (inputs and condition), in workflow order
    outputs: tuple[OutputField, ...]
    retry: RetryPolicy
    timeout: float | None
    cache: bool
    resources: NodeResources | None
    when: Condition | None
    #: whether the step may end skipped at run time (its own ``when`` or one upstream's)
    may_skip: bool
    #: whether any other step reads this one (then an engine-level skip would break its reader)
    has_readers: bool


@dataclass(frozen=True)
class Placeholders:
    """How an engine names, inside a step's command line, the values it substitutes."""

    run_input: Callable[[str], str]
    upstream_doc: Callable[[str], str]
    upstream_dir: Callable[[str], str]
    outputs_file: str
    artifacts_out: str
    output_param: Callable[[str], str]


@dataclass
class ExportModel:
    name: str
    description: str
    #: the workflow file's path inside the image, relative to its working directory
    workflow_path: str
    plugins: tuple[str, ...]
    inputs: tuple[RunParam, ...]
    steps: dict[str, Step]

    def step(self, node_id: str) -> Step:
        return self.steps[node_id]

    def run_node_command(
        self, step: Step, at: Placeholders, *, engine_retries: bool
    ) -> tuple[list[str], list[str]]:
        """(command, args) of a step: ``autoglm run-node`` with the run inputs, the upstream
        outputs documents and artefact folders, and where to write its own. Without
        ``engine_retries`` the engine makes one attempt, as the orchestrator retries."""
        args = [self.workflow_path, "--node", step.node_id]
        if self.plugins:
            args += ["--plugins", ",".join(self.plugins)]
        for param in self.inputs:
            args += ["-i", f"{param.name}={at.run_input(param.name)}"]
        for dep in step.upstream:
            args += ["--upstream-json", f"{dep}={at.upstream_doc(dep)}"]
            args += ["--upstream-artifacts", f"{dep}={at.upstream_dir(dep)}"]
        args += ["--outputs-file", at.outputs_file, "--artifacts-out", at.artifacts_out]
        for out in step.outputs:
            args += ["--output-param", f"{out.name}={at.output_param(out.name)}"]
        if not engine_retries and step.retry.attempts > 1:
            args.append("--no-retry")
        return ["autoglm", "run-node"], args


def dns_name(node_id: str) -> str:
    """A node id as a lower-case DNS label: what Kubernetes, Argo and KFP task names allow."""
    name = re.sub(r"[^a-z0-9-]+", "-", node_id.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"n-{name}"
    return name[:63].rstrip("-")


def _output_kind(annotation: Any) -> str:
    return SCALAR_KINDS.get(annotation, "json")


def build_model(workflow: Workflow, host: Host, workflow_path: str) -> ExportModel:
    """The steps of ``workflow`` (validated against ``host``); raises ``ExportError`` for what
    no export can carry: a node type from a private plugin the image cannot install, two node
    ids that give one task name, a run input whose default no parameter can hold."""
    plugins: set[str] = set()
    steps: dict[str, Step] = {}
    names: dict[str, str] = {}
    may_skip: dict[str, bool] = {}
    readers = {dep for node in workflow.nodes.values() for dep in node.depends_on}
    for node_id in workflow.order:
        node = workflow.nodes[node_id]
        owner = host.node_owner.get(node.type, "")
        info = host.plugins.get(owner)
        if info is not None and info.source not in {"entry point", "builtin"}:
            raise ExportError(
                f"node {node_id!r}: type {node.type!r} comes from a private plugin "
                f"({info.source}: {info.target}); an image installs plugins as distributions, "
                "so package it (docs/plugin-authoring.md) before exporting"
            )
        if owner and owner != BUILTIN_PLUGIN:
            plugins.add(owner)
        name = dns_name(node_id)
        if name in names:
            raise ExportError(
                f"nodes {names[name]!r} and {node_id!r} both become task name {name!r} "
                "(task names are lower-case letters, digits and '-'); rename one"
            )
        names[name] = node_id
        node_type = host.get_node_type(node.type)
        outputs = tuple(
            OutputField(field, _output_kind(spec.annotation))
            for field, spec in node_type.Outputs.model_fields.items()
        )
        upstream = tuple(n for n in workflow.order if n in node.depends_on)
        may_skip[node_id] = node.when is not None or any(may_skip[d] for d in upstream)
        steps[node_id] = Step(
            node_id=node_id,
            name=name,
            node_type=node.type,
            upstream=upstream,
            outputs=outputs,
            retry=node.settings.retry,
            timeout=node.settings.timeout,
            cache=node.settings.cache,
            resources=node.resources,
            when=node.when,
            may_skip=may_skip[node_id],
            has_readers=node_id in readers,
        )
    return ExportModel(
        name=workflow.name,
        description=workflow.description,
        workflow_path=workflow_path,
        plugins=tuple(sorted(plugins)),
        inputs=tuple(_run_param(name, spec) for name, spec in workflow.inputs.items()),
        steps=steps,
    )


def _run_param(name: str, spec: RunInput) -> RunParam:
    if not spec.required and spec.default is None and spec.type != "any":
        raise ExportError(
            f"run input {name!r} ({spec.type}) defaults to null, which a pipeline parameter "
            f"of that type cannot hold; give it a {spec.type} default or declare it type: any"
        )
    return RunParam(name, spec.type, None if spec.required else spec.default, not spec.required)
