"""Kubeflow Pipelines: the KFP v2 pipeline spec (IR YAML), written with PyYAML alone.

One component and one task per node; each runs ``autoglm run-node`` in the image. What a node
produces leaves its task three ways: the outputs document (output parameter
``autoglm_outputs``, what downstream tasks are given), one output parameter per output field
(text: a string as it is, anything else as JSON, ``''`` when the node was skipped), and the
node's artefact folder (output artifact ``autoglm_artifacts``), so no shared disk is needed.

Conditions: a ``when`` becomes the task's ``triggerPolicy.condition`` (CEL) when KFP can
decide it exactly as the engine would: no other node reads the conditional node (a task KFP
skips leaves its readers without inputs: KFP itself forbids that), and the condition reads only
run inputs and scalar output fields of nodes that are never skipped, with operators CEL has.
Otherwise the task always starts and ``run-node`` decides with the engine's own code, records
the skip in the outputs document, and the readers skip or take their ``first_of`` branch as in
a full run. ``strict_conditions`` turns that fallback into an ``ExportError``.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import yaml

from autoglm.export.model import (
    ARTIFACTS,
    OUTPUTS_PARAM,
    ExportError,
    ExportModel,
    Placeholders,
    Step,
    dns_name,
)
from autoglm.expressions import _reference
from autoglm.workflow import RUN_INPUTS

SCHEMA_VERSION = "2.1.0"
_PARAM_TYPES = {
    "str": "STRING",
    "int": "NUMBER_INTEGER",
    "float": "NUMBER_DOUBLE",
    "bool": "BOOLEAN",
    "list": "LIST",
    "dict": "STRUCT",
    "any": "STRING",
}
_ARTIFACT_TYPE = {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}
_CEL_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


class Unmappable(ExportError):
    """A ``when`` that KFP cannot decide exactly as the engine does."""


def _ph(expression: str) -> str:
    """A KFP placeholder, which the launcher replaces in the argument it sits in."""
    return "{{" + expression + "}}"


def _upstream_param(dep: str) -> str:
    return f"upstream_{dep}"


def _upstream_artifact(dep: str) -> str:
    return f"upstream_artifacts_{dep}"


def _channel(root: str, field: str | None = None) -> str:
    """The name KFP's compiler gives a value a condition reads (``pipelinechannel--...``)."""
    return f"pipelinechannel--{root}" + (f"-{field}" if field else "")


def to_kfp(model: ExportModel, image: str, *, strict_conditions: bool = False) -> dict[str, Any]:
    """The pipeline spec of ``model`` as plain data (``yaml.safe_dump`` writes the file)."""
    components: dict[str, Any] = {}
    executors: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    for step in model.steps.values():
        condition, channels = _condition(model, step, strict_conditions)
        component, executor, task = _step(model, step, image, condition, channels)
        components[f"comp-{step.name}"] = component
        executors[f"exec-{step.name}"] = executor
        tasks[step.name] = task
    root: dict[str, Any] = {"dag": {"tasks": tasks}}
    if model.inputs:
        root["inputDefinitions"] = {"parameters": _run_input_definitions(model, defaults=True)}
    info: dict[str, Any] = {"name": dns_name(model.name)}
    if model.description:
        info["description"] = model.description
    return {
        "pipelineInfo": info,
        "components": components,
        "deploymentSpec": {"executors": executors},
        "root": root,
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": "autoglm-export",
    }


def dump(spec: dict[str, Any], model: ExportModel) -> str:
    """The YAML text of a spec, headed like the KFP compiler's own output."""
    head = f"# PIPELINE DEFINITION\n# Name: {spec['pipelineInfo']['name']}\n"
    head += f"# Exported by autoglm from {model.workflow_path}; one task per node (run-node)\n"
    return head + yaml.dump(spec, Dumper=_NoAliases, sort_keys=True, allow_unicode=True, width=100)


class _NoAliases(yaml.SafeDumper):
    """Writes a shared value out each time: no ``&id001`` anchors in a pipeline file."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def check(spec: dict[str, Any]) -> None:
    """Parse ``spec`` strictly into the ``PipelineSpec`` protobuf (a misspelt field fails);
    needs ``kfp-pipeline-spec`` (``pip install 'autoglm[kfp]'``)."""
    try:
        from google.protobuf import json_format
        from kfp.pipeline_spec import pipeline_spec_pb2
    except ImportError as exc:
        raise ExportError(
            f"--check needs kfp-pipeline-spec: pip install 'autoglm[kfp]' ({exc})"
        ) from None
    try:
        json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
        # the spec holds its executors as a free-form Struct: parse them as what they are
        json_format.ParseDict(
            spec.get("deploymentSpec", {}), pipeline_spec_pb2.PipelineDeploymentConfig()
        )
    except json_format.ParseError as exc:
        raise ExportError(f"the pipeline does not match the KFP pipeline spec: {exc}") from None
    problems = wiring_problems(spec)
    if problems:
        raise ExportError("the pipeline is miswired:\n  " + "\n  ".join(problems))


def wiring_problems(spec: dict[str, Any]) -> list[str]:
    """What the protobuf cannot see: every task's component, executor, inputs and the
    producers' outputs they name exist, and each task gives exactly its component's inputs."""
    problems: list[str] = []
    components = spec.get("components", {})
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    root_params = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    tasks = spec.get("root", {}).get("dag", {}).get("tasks", {})
    for name, task in tasks.items():
        comp = components.get(task.get("componentRef", {}).get("name"))
        if comp is None:
            problems.append(f"task {name}: no component {task.get('componentRef')}")
            continue
        if comp.get("executorLabel") not in executors:
            problems.append(f"task {name}: no executor {comp.get('executorLabel')}")
        for kind, key in (("parameters", "outputParameterKey"), ("artifacts", "outputArtifactKey")):
            declared = comp.get("inputDefinitions", {}).get(kind, {})
            given = task.get("inputs", {}).get(kind, {})
            if set(declared) != set(given):
                problems.append(
                    f"task {name}: {kind} given {sorted(given)}, declared {sorted(declared)}"
                )
            for input_name, source in given.items():
                source_key = "taskOutputParameter" if kind == "parameters" else "taskOutputArtifact"
                if "componentInputParameter" in source:
                    if source["componentInputParameter"] not in root_params:
                        problems.append(f"task {name}: {input_name} reads no pipeline input")
                    continue
                ref = source.get(source_key, {})
                producer = tasks.get(ref.get("producerTask"))
                if producer is None or ref.get("producerTask") not in task.get(
                    "dependentTasks", []
                ):
                    problems.append(f"task {name}: {input_name} from an unknown or unawaited task")
                    continue
                produced = components[producer["componentRef"]["name"]]["outputDefinitions"]
                if ref.get(key) not in produced.get(kind, {}):
                    problems.append(f"task {name}: {input_name} names no output {ref.get(key)}")
    return problems


def _run_input_definitions(model: ExportModel, *, defaults: bool) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in model.inputs:
        entry: dict[str, Any] = {"parameterType": _PARAM_TYPES[param.kind]}
        if param.has_default:
            entry["isOptional"] = True
            if defaults:
                value = param.default
                entry["defaultValue"] = json.dumps(value) if param.kind == "any" else value
        params[param.name] = entry
    return params


def _step(
    model: ExportModel,
    step: Step,
    image: str,
    condition: str | None,
    channels: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    at = Placeholders(
        run_input=lambda name: _ph(f"$.inputs.parameters['{name}']"),
        upstream_doc=lambda dep: _ph(f"$.inputs.parameters['{_upstream_param(dep)}']"),
        upstream_dir=lambda dep: _ph(f"$.inputs.artifacts['{_upstream_artifact(dep)}'].path"),
        outputs_file=_ph(f"$.outputs.parameters['{OUTPUTS_PARAM}'].output_file"),
        artifacts_out=_ph(f"$.outputs.artifacts['{ARTIFACTS}'].path"),
        output_param=lambda field: _ph(f"$.outputs.parameters['{field}'].output_file"),
    )
    command, args = model.run_node_command(step, at, engine_retries=False)
    in_params = _run_input_definitions(model, defaults=False)
    task_params: dict[str, Any] = {
        p.name: {"componentInputParameter": p.name} for p in model.inputs
    }
    in_artifacts: dict[str, Any] = {}
    task_artifacts: dict[str, Any] = {}
    for dep in step.upstream:
        producer = model.step(dep).name
        in_params[_upstream_param(dep)] = {"parameterType": "STRING"}
        task_params[_upstream_param(dep)] = {
            "taskOutputParameter": {"producerTask": producer, "outputParameterKey": OUTPUTS_PARAM}
        }
        in_artifacts[_upstream_artifact(dep)] = {"artifactType": _ARTIFACT_TYPE}
        task_artifacts[_upstream_artifact(dep)] = {
            "taskOutputArtifact": {"producerTask": producer, "outputArtifactKey": ARTIFACTS}
        }
    for name, source in channels.items():  # values only the condition reads
        in_params[name] = {"parameterType": source.pop("_type")}
        task_params[name] = source
    out_params = {OUTPUTS_PARAM: {"parameterType": "STRING"}}
    out_params |= {out.name: {"parameterType": "STRING"} for out in step.outputs}
    component: dict[str, Any] = {
        "executorLabel": f"exec-{step.name}",
        "outputDefinitions": {
            "parameters": out_params,
            "artifacts": {ARTIFACTS: {"artifactType": _ARTIFACT_TYPE}},
        },
    }
    inputs_def = _io_section(in_params, in_artifacts)
    if inputs_def:
        component["inputDefinitions"] = inputs_def
    container: dict[str, Any] = {"image": image, "command": command, "args": args}
    if step.resources is not None:
        container["resources"] = _resources(step)
    task: dict[str, Any] = {
        "taskInfo": {"name": step.node_id},
        "componentRef": {"name": f"comp-{step.name}"},
        "cachingOptions": {"enableCache": step.cache},
    }
    if step.upstream:
        task["dependentTasks"] = sorted(model.step(d).name for d in step.upstream)
    task_inputs = _io_section(task_params, task_artifacts)
    if task_inputs:
        task["inputs"] = task_inputs
    retry = step.retry
    if retry.attempts > 1:  # jitter has no KFP field; run-node makes one attempt (--no-retry)
        task["retryPolicy"] = {
            "maxRetryCount": retry.attempts - 1,
            "backoffDuration": f"{retry.initial_delay:g}s",
            "backoffFactor": retry.backoff,
            "backoffMaxDuration": f"{retry.max_delay:g}s",
        }
    if condition is not None:
        task["triggerPolicy"] = {"condition": condition}
    return component, {"container": container}, task


def _io_section(parameters: dict[str, Any], artifacts: dict[str, Any]) -> dict[str, Any]:
    """An inputs section of a component or task: its non-empty ``parameters`` and
    ``artifacts`` (empty when both are)."""
    section: dict[str, Any] = {}
    if parameters:
        section["parameters"] = parameters
    if artifacts:
        section["artifacts"] = artifacts
    return section


def _resources(step: Step) -> dict[str, Any]:
    res = step.resources
    assert res is not None
    spec: dict[str, Any] = {}
    if res.cpu is not None:
        spec["resourceCpuRequest"] = spec["resourceCpuLimit"] = res.cpu
    if res.memory is not None:
        spec["resourceMemoryRequest"] = spec["resourceMemoryLimit"] = res.memory
    if res.gpu:
        spec["accelerator"] = {
            "resourceType": res.gpu_type or "nvidia.com/gpu",
            "resourceCount": str(res.gpu),
        }
    return spec


# ------------------------------------------------------------------ conditions


def _condition(
    model: ExportModel, step: Step, strict: bool
) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The CEL condition of a step and the task inputs it reads, or (None, {}) when the
    engine in the container decides (see the module docstring)."""
    if step.when is None:
        return None, {}
    try:
        if step.has_readers:
            raise Unmappable(
                "other nodes read this node, and a task KFP skips leaves its readers without inputs"
            )
        channels: dict[str, dict[str, Any]] = {}
        cel = _Cel(model, channels).expr(step.when.tree.body)
        return cel, channels
    except Unmappable as exc:
        if strict:
            raise ExportError(
                f"node {step.node_id!r}: when {step.when.source!r} cannot be a KFP condition: "
                f"{exc} (without --strict-conditions, run-node decides it in the container)"
            ) from None
        return None, {}


class _Cel:
    """Translate a ``when`` expression tree into CEL over the task's input parameters."""

    def __init__(self, model: ExportModel, channels: dict[str, dict[str, Any]]) -> None:
        self.model = model
        self.channels = channels

    def expr(self, node: ast.expr) -> str:
        if isinstance(node, ast.BoolOp):
            op = " && " if isinstance(node.op, ast.And) else " || "
            return "(" + op.join(self.expr(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"!({self.expr(node.operand)})"
        if isinstance(node, ast.Compare):
            parts, left = [], node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts.append(self.compare(left, op, right))
                left = right
            return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"
        return self.value(node)

    def compare(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> str:
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List):  # CEL's `in` is membership of a list only
                raise Unmappable("'in' is mapped only with a list literal on its right")
            text = f"{self.value(left)} in {self.value(right)}"
            return f"!({text})" if isinstance(op, ast.NotIn) else f"({text})"
        if type(op) not in _CEL_OPS:
            raise Unmappable(f"operator {type(op).__name__} has no CEL equivalent here")
        return f"({self.value(left)} {_CEL_OPS[type(op)]} {self.value(right)})"

    def value(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant):
            return _cel_literal(node.value)
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            return _cel_literal(-node.operand.value)
        if isinstance(node, ast.List):
            return "[" + ", ".join(self.value(v) for v in node.elts) + "]"
        if isinstance(node, ast.Name) and node.id.lower() in {"true", "false", "null", "none"}:
            return {"true": "true", "false": "false"}.get(node.id.lower(), "null")
        ref = _reference(node)
        if ref is None:
            raise Unmappable(f"{ast.unparse(node)!r} is not a value CEL can read")
        if len(ref.path) != 1:
            raise Unmappable(f"{ref} reads inside a value; only a whole field is mapped")
        if ref.root == RUN_INPUTS:
            return self.run_input(ref.path[0])
        return self.node_field(ref.root, ref.path[0])

    def run_input(self, name: str) -> str:
        param = next((p for p in self.model.inputs if p.name == name), None)
        if param is None or param.kind not in {"str", "int", "float", "bool"}:
            raise Unmappable(f"run input {name!r} is not a declared str, int, float or bool")
        channel = _channel(name)
        self.channels[channel] = {
            "componentInputParameter": name,
            "_type": _PARAM_TYPES[param.kind],
        }
        return _typed(f"inputs.parameter_values['{channel}']", param.kind, text=False)

    def node_field(self, node_id: str, field: str) -> str:
        step = self.model.steps.get(node_id)
        if step is None:
            raise Unmappable(f"{node_id!r} is no node")
        if step.may_skip:
            raise Unmappable(f"node {node_id!r} may be skipped, and its field then has no value")
        out = next((o for o in step.outputs if o.name == field), None)
        if out is None or out.kind == "json":
            raise Unmappable(f"{node_id}.{field} is not a str, int, float or bool output")
        channel = _channel(node_id, field)
        self.channels[channel] = {
            "taskOutputParameter": {"producerTask": step.name, "outputParameterKey": field},
            "_type": "STRING",
        }
        return _typed(f"inputs.parameter_values['{channel}']", out.kind, text=True)


def _typed(access: str, kind: str, *, text: bool) -> str:
    """A parameter read as its kind: output fields travel as text, run inputs typed. Every
    number is a CEL double (literals too): CEL does not compare an int with a double, where
    Python's ``3 < 3.5`` does."""
    if kind in {"int", "float"}:
        return f"double({access})"
    if kind == "bool" and text:
        return f"({access} == 'true')"
    return access


def _cel_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value)  # CEL string literals take JSON's escapes
    raise Unmappable(f"literal {value!r} has no CEL form")
