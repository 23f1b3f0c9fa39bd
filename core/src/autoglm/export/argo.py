"""Argo Workflows: a ``Workflow`` manifest with one DAG task per node, from the same model as
the Kubeflow export.

Each task runs ``autoglm run-node``; the outputs document travels as an output parameter
(``valueFrom.path``), the artefact folder as an output artifact (the cluster's artifact
repository carries it), retries as ``retryStrategy``, the node timeout is enforced by run-node
and bounds ``activeDeadlineSeconds``, resources become the container's requests and limits.
Every ``when`` is decided by run-node in the container (the engine's own code), so skips and
``first_of`` joins behave as in a full run; Argo's ``when`` is not used.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from autoglm.export.model import (
    ARTIFACTS,
    OUTPUTS_PARAM,
    ExportModel,
    Placeholders,
    RunParam,
    Step,
    dns_name,
)

#: seconds added to a node's timeout for the pod's own start (plugins load, inputs download)
DEADLINE_MARGIN_S = 300
_OUT_DIR = "/tmp/autoglm-out"


def to_argo(model: ExportModel, image: str) -> dict[str, Any]:
    """The Argo ``Workflow`` of ``model`` as plain data."""
    templates: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for step in model.steps.values():
        template, task = _step(model, step, image)
        templates.append(template)
        tasks.append(task)
    spec: dict[str, Any] = {
        "entrypoint": "main",
        "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates],
    }
    if model.inputs:
        spec["arguments"] = {"parameters": [_argument(p) for p in model.inputs]}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{dns_name(model.name)}-",
            "annotations": {"workflows.argoproj.io/description": model.description},
        },
        "spec": spec,
    }


def dump(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)


def _ph(expression: str) -> str:
    """An Argo template tag."""
    return "{{" + expression + "}}"


def _argument(param: RunParam) -> dict[str, Any]:
    """A workflow argument: Argo parameters are text (a string as it is, else JSON)."""
    entry: dict[str, Any] = {"name": param.name}
    if param.has_default:
        value = param.default
        entry["value"] = (
            value if isinstance(value, str) and param.kind != "any" else json.dumps(value)
        )
    return entry


def _step(model: ExportModel, step: Step, image: str) -> tuple[dict[str, Any], dict[str, Any]]:
    at = Placeholders(
        run_input=lambda name: _ph(f"inputs.parameters.{name}"),
        upstream_doc=lambda dep: _ph(f"inputs.parameters.upstream-{model.step(dep).name}"),
        upstream_dir=lambda dep: f"/tmp/autoglm-in/{model.step(dep).name}",
        outputs_file=f"{_OUT_DIR}/{OUTPUTS_PARAM}.json",
        artifacts_out=f"{_OUT_DIR}/{ARTIFACTS}",
        output_param=lambda field: f"{_OUT_DIR}/fields/{field}",
    )
    command, args = model.run_node_command(step, at, engine_retries=False)
    params = [{"name": p.name} for p in model.inputs]
    arguments = [
        {"name": p.name, "value": _ph(f"workflow.parameters.{p.name}")} for p in model.inputs
    ]
    in_artifacts: list[dict[str, Any]] = []
    task_artifacts: list[dict[str, Any]] = []
    for dep in step.upstream:
        producer = model.step(dep).name
        params.append({"name": f"upstream-{producer}"})
        arguments.append(
            {
                "name": f"upstream-{producer}",
                "value": _ph(f"tasks.{producer}.outputs.parameters.{OUTPUTS_PARAM}"),
            }
        )
        in_artifacts.append({"name": f"upstream-{producer}", "path": at.upstream_dir(dep)})
        task_artifacts.append(
            {
                "name": f"upstream-{producer}",
                "from": _ph(f"tasks.{producer}.outputs.artifacts.{ARTIFACTS}"),
            }
        )
    container: dict[str, Any] = {"image": image, "command": command, "args": args}
    if step.resources is not None:
        container["resources"] = _resources(step)
    out_params = [{"name": OUTPUTS_PARAM, "valueFrom": {"path": at.outputs_file}}]
    out_params += [
        {"name": o.name, "valueFrom": {"path": at.output_param(o.name)}} for o in step.outputs
    ]
    template: dict[str, Any] = {
        "name": step.name,
        "inputs": {"parameters": params, **({"artifacts": in_artifacts} if in_artifacts else {})},
        "outputs": {
            "parameters": out_params,
            "artifacts": [{"name": ARTIFACTS, "path": at.artifacts_out}],
        },
        "container": container,
    }
    if step.retry.attempts > 1:
        retry = step.retry
        template["retryStrategy"] = {
            "limit": retry.attempts - 1,
            "backoff": {
                "duration": f"{retry.initial_delay:g}s",
                "factor": retry.backoff,
                "maxDuration": f"{retry.max_delay:g}s",
            },
        }
    if step.timeout is not None:
        template["activeDeadlineSeconds"] = math.ceil(step.timeout) + DEADLINE_MARGIN_S
    task: dict[str, Any] = {"name": step.name, "template": step.name}
    if step.upstream:
        task["dependencies"] = [model.step(d).name for d in step.upstream]
    if arguments or task_artifacts:
        task["arguments"] = {
            **({"parameters": arguments} if arguments else {}),
            **({"artifacts": task_artifacts} if task_artifacts else {}),
        }
    return template, task


def _resources(step: Step) -> dict[str, Any]:
    res = step.resources
    assert res is not None
    amounts: dict[str, Any] = {}
    if res.cpu is not None:
        amounts["cpu"] = res.cpu
    if res.memory is not None:
        amounts["memory"] = res.memory
    if res.gpu:
        amounts[res.gpu_type or "nvidia.com/gpu"] = str(res.gpu)
    return {"requests": dict(amounts), "limits": dict(amounts)}
