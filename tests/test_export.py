"""``autoglm export``: every shipped workflow as a Kubeflow pipeline checked against the real
pipeline spec (kfp-pipeline-spec's protobuf), as an Argo workflow, and the Dockerfile of its
image; the exported KFP pipeline run task by task, as KFP's launcher would, gives what
``autoglm run`` gives; what cannot be exported is an error naming the node."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from autoglm.export import ExportError, build_model
from autoglm.export import argo as argo_export
from autoglm.export import kfp as kfp_export
from autoglm.export.dockerfile import to_dockerfile
from autoglm.plugins import Host, PluginSelection
from autoglm.workflow import load_workflow, parse_workflow

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
ALL_NODES = REPO / "tests" / "fixtures" / "export" / "all-nodes.yaml"
AUTOGLM = str(Path(sys.executable).with_name("autoglm"))


@pytest.fixture(scope="module")
def host() -> Host:
    return Host.load(PluginSelection(strict=True))


def export_model(path: Path, host: Host):
    return build_model(load_workflow(path, host), host, path.relative_to(REPO).as_posix())


def proto(
    spec: dict[str, Any],
) -> tuple[pipeline_spec_pb2.PipelineSpec, pipeline_spec_pb2.PipelineDeploymentConfig]:
    """The spec parsed strictly by the real protobuf (an unknown field raises), and its
    deployment config, which the spec holds as a free-form Struct, parsed as what it is."""
    parsed = json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    deployment = json_format.ParseDict(
        spec["deploymentSpec"], pipeline_spec_pb2.PipelineDeploymentConfig()
    )
    return parsed, deployment


@pytest.mark.parametrize("path", [*CONFIGS, ALL_NODES], ids=lambda p: p.name)
def test_every_shipped_workflow_is_a_valid_kfp_pipeline(path: Path, host: Host):
    model = export_model(path, host)
    spec = kfp_export.to_kfp(model, "registry.example/autoglm:1")
    text = kfp_export.dump(spec, model)
    loaded = yaml.safe_load(text)  # the file as written, not the dict we hold
    parsed, deployment = proto(loaded)
    assert kfp_export.wiring_problems(loaded) == []
    workflow = load_workflow(path, host)
    assert set(parsed.root.dag.tasks) == {model.step(n).name for n in workflow.nodes}
    for node_id, node in workflow.nodes.items():
        task = parsed.root.dag.tasks[model.step(node_id).name]
        assert set(task.dependent_tasks) == {model.step(d).name for d in node.depends_on}
        executor = deployment.executors[f"exec-{model.step(node_id).name}"]
        assert executor.container.image == "registry.example/autoglm:1"
        assert list(executor.container.command) == ["autoglm", "run-node"]
        assert list(executor.container.args)[:3] == [model.workflow_path, "--node", node_id]
    assert parsed.schema_version == "2.1.0"


def test_cli_export_check_and_light_help(tmp_path: Path):
    out = tmp_path / "pipeline.yaml"
    proc = subprocess.run(
        [AUTOGLM, "export", "kfp", "configs/quickstart.yaml", "-o", str(out), "--check",
         "--image", "me/autoglm:2"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "checked against the KFP pipeline spec: valid" in proc.stderr
    proto(yaml.safe_load(out.read_text()))
    # `autoglm --help` lists the new commands without importing them
    code = (
        "import sys; from click.testing import CliRunner; from autoglm.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); assert 'run-node' in r.output and "
        "'export' in r.output, r.output; "
        "assert not [m for m in sys.modules if m.startswith(('autoglm.export', "
        "'autoglm.run_node', 'autoglm.engine'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_kfp_maps_retries_resources_conditions_and_caching(host: Host):
    model = export_model(ALL_NODES, host)
    spec = kfp_export.to_kfp(model, "img")
    proto(spec)
    tasks = spec["root"]["dag"]["tasks"]
    executors = spec["deploymentSpec"]["executors"]
    split = tasks["split"]
    assert split["retryPolicy"] == {
        "maxRetryCount": 1,
        "backoffDuration": "0.1s",
        "backoffFactor": 2.0,
        "backoffMaxDuration": "128s",
    }
    assert "--no-retry" in executors["exec-split"]["container"]["args"]  # KFP retries, once
    assert split["cachingOptions"] == {"enableCache": False}
    assert executors["exec-split"]["container"]["resources"] == {
        "resourceCpuLimit": "500m",
        "resourceCpuRequest": "500m",
        "resourceMemoryLimit": "256Mi",
        "resourceMemoryRequest": "256Mi",
    }
    # a node nobody reads, whose condition reads run inputs and never-skipped str outputs:
    # KFP decides it
    assert tasks["count"]["triggerPolicy"]["condition"] == (
        '((inputs.parameter_values[\'pipelinechannel--route-task\'] in ["summary", "story"])'
        " && (double(inputs.parameter_values['pipelinechannel--words']) > 3.0))"
    )
    # a node that others read: the task runs and run-node decides, as in a full run
    assert "triggerPolicy" not in split and "triggerPolicy" not in tasks["question"]
    assert tasks["after-question"]["dependentTasks"] == ["question"]
    # the run inputs are pipeline parameters with their types and defaults
    assert spec["root"]["inputDefinitions"]["parameters"]["words"] == {
        "parameterType": "NUMBER_INTEGER",
        "isOptional": True,
        "defaultValue": 6,
    }


def test_gpu_resources_are_checked_and_mapped(host: Host, tmp_path: Path):
    text = (
        "nodes:\n  - id: a\n    type: core.const\n    config: {value: 1}\n"
        "    resources: {cpu: 2, memory: 4Gi, gpu: 1}\n"
    )
    model = build_model(parse_workflow(text, host, path="g.yaml"), host, "g.yaml")
    spec = kfp_export.to_kfp(model, "img")
    proto(spec)
    resources = spec["deploymentSpec"]["executors"]["exec-a"]["container"]["resources"]
    assert resources["accelerator"] == {"resourceType": "nvidia.com/gpu", "resourceCount": "1"}
    assert resources["resourceCpuLimit"] == "2"
    manifest = argo_export.to_argo(model, "img")
    container = manifest["spec"]["templates"][1]["container"]
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1"}
    bad = text.replace("gpu: 1", "gpu: -1, disk: 5")
    with pytest.raises(Exception) as info:
        parse_workflow(bad, host, path="g.yaml")
    message = str(info.value)
    assert "resources.gpu" in message and "resources.disk" in message


def test_unsupported_features_are_clear_errors(host: Host):
    strict = export_model(ALL_NODES, host)
    with pytest.raises(ExportError, match=r"node 'split': when .* cannot be a KFP condition"):
        kfp_export.to_kfp(strict, "img", strict_conditions=True)
    collide = (
        "nodes:\n  - {id: a_b, type: core.const, config: {value: 1}}\n"
        "  - {id: a-b, type: core.const, config: {value: 2}}\n"
    )
    with pytest.raises(ExportError, match="both become task name 'a-b'"):
        build_model(parse_workflow(collide, host, path="c.yaml"), host, "c.yaml")
    null_default = (
        "inputs: {mode: {type: str, default: null}}\n"
        "nodes:\n  - {id: a, type: core.noop, inputs: {value: $inputs.mode}}\n"
    )
    with pytest.raises(ExportError, match="run input 'mode' .* defaults to null"):
        build_model(parse_workflow(null_default, host, path="n.yaml"), host, "n.yaml")


def test_private_plugin_cannot_be_exported(tmp_path: Path):
    plugins = tmp_path / "private"
    plugins.mkdir()
    (plugins / "mine.py").write_text(
        "import autoglm\nfrom pydantic import BaseModel\n\n"
        "class Out(BaseModel):\n    value: int = 1\n\n"
        "class One(autoglm.NodeType):\n    name = 'mine.one'\n    Outputs = Out\n"
        "    def execute(self, inputs, context):\n        return Out()\n\n"
        "@autoglm.hookimpl\ndef register_nodes(register):\n    register(One)\n",
        encoding="utf-8",
    )
    (tmp_path / "wf.yaml").write_text("nodes:\n  - {id: a, type: mine.one}\n", encoding="utf-8")
    proc = subprocess.run(
        [AUTOGLM, "export", "kfp", "wf.yaml", "--plugins-dir", str(plugins), "--plugins", "mine"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout
    assert "node 'a': type 'mine.one' comes from a private plugin" in proc.stderr


@pytest.mark.parametrize("path", [*CONFIGS, ALL_NODES], ids=lambda p: p.name)
def test_argo_workflow_is_wired(path: Path, host: Host):
    model = export_model(path, host)
    manifest = yaml.safe_load(argo_export.dump(argo_export.to_argo(model, "img")))
    assert manifest["kind"] == "Workflow" and manifest["spec"]["entrypoint"] == "main"
    templates = {t["name"]: t for t in manifest["spec"]["templates"]}
    tasks = {t["name"]: t for t in templates["main"]["dag"]["tasks"]}
    assert set(tasks) == {s.name for s in model.steps.values()}
    for step in model.steps.values():
        task = tasks[step.name]
        assert task["template"] in templates
        assert set(task.get("dependencies", [])) == {model.step(d).name for d in step.upstream}
        declared = {p["name"] for p in templates[step.name]["inputs"]["parameters"]}
        given = {p["name"] for p in task.get("arguments", {}).get("parameters", [])}
        assert declared == given
        if step.timeout is not None:
            assert templates[step.name]["activeDeadlineSeconds"] >= step.timeout


def test_dockerfile_installs_the_core_and_the_workflows_plugins(host: Host):
    model = export_model(REPO / "configs" / "quickstart.yaml", host)
    text = to_dockerfile(model, host, REPO)
    assert "FROM python:3.11-slim" in text
    assert (
        "RUN pip install --constraint constraints.txt ./core ./plugins/gnn ./plugins/tuner" in text
    )
    assert "COPY configs/ configs/" in text
    assert "RUN autoglm validate configs/quickstart.yaml --plugins gnn,tuner" in text
    assert "plugins/hf" not in text  # only what the workflow uses
    with pytest.raises(ExportError, match="no constraints.txt"):
        to_dockerfile(model, host, REPO / "docs")


# ------------------------------------------------- the exported pipeline, run as KFP would


def _render(kind: str, value: Any) -> str:
    """A parameter value as KFP's launcher substitutes it into an argument."""
    if kind == "STRING":
        return value
    return json.dumps(value)


def _cel(condition: str, values: dict[str, Any]) -> bool:
    """Evaluate the small CEL subset the exporter writes (test-only, for this simulation)."""
    expr = re.sub(r"inputs\.parameter_values\['([^']+)'\]", r"values['\1']", condition)
    expr = expr.replace("&&", " and ").replace("||", " or ").replace("!(", " not (")
    expr = expr.replace("double(", "float(")
    return bool(eval(expr, {"int": int, "float": float}, {"values": values}))


def _ph(expression: str) -> str:
    return "{{" + expression + "}}"


def _replace_all(arg: str, table: dict[str, str]) -> str:
    for placeholder, value in table.items():
        arg = arg.replace(placeholder, value)
    return arg


def run_like_kfp(spec: dict[str, Any], work: Path) -> dict[str, dict[str, Any]]:
    """Execute an exported pipeline task by task as KFP's driver and launcher do: resolve
    each task's inputs, apply its trigger condition, substitute the placeholders of its
    executor's arguments, run the command in a home of its own, and read its output files."""
    tasks = spec["root"]["dag"]["tasks"]
    roots = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    params: dict[str, dict[str, Any]] = {}
    artifacts: dict[str, dict[str, Path]] = {}
    finished: list[str] = []
    while len(finished) < len(tasks):
        name = next(
            n
            for n, t in tasks.items()
            if n not in finished and set(t.get("dependentTasks", [])) <= set(finished)
        )
        finished.append(name)
        task = tasks[name]
        component = spec["components"][task["componentRef"]["name"]]
        declared = component.get("inputDefinitions", {}).get("parameters", {})
        values: dict[str, Any] = {}
        for key, source in task.get("inputs", {}).get("parameters", {}).items():
            if "componentInputParameter" in source:
                value = _render(
                    declared[key]["parameterType"],
                    roots[source["componentInputParameter"]]["defaultValue"],
                )
            else:
                ref = source["taskOutputParameter"]
                value = params[ref["producerTask"]][ref["outputParameterKey"]]
            values[key] = value
        condition = task.get("triggerPolicy", {}).get("condition")
        if condition and not _cel(condition, values):
            params[name] = {"skipped_by_kfp": True}
            continue
        local_in: dict[str, Path] = {}
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            ref = source["taskOutputArtifact"]
            local_in[key] = work / "downloads" / name / key  # a fresh copy, as a download
            shutil.copytree(artifacts[ref["producerTask"]][ref["outputArtifactKey"]], local_in[key])
        out_dir = work / "outputs" / name
        out_params = component["outputDefinitions"]["parameters"]
        out_files = {k: out_dir / "parameters" / k for k in out_params}
        arts = component["outputDefinitions"]["artifacts"]
        out_arts = {k: out_dir / "artifacts" / k for k in arts}
        # the launcher replaces each placeholder wherever it sits in an argument
        table = {_ph(f"$.inputs.parameters['{k}']"): v for k, v in values.items()}
        table |= {_ph(f"$.inputs.artifacts['{k}'].path"): str(p) for k, p in local_in.items()}
        table |= {
            _ph(f"$.outputs.parameters['{k}'].output_file"): str(p) for k, p in out_files.items()
        }
        table |= {_ph(f"$.outputs.artifacts['{k}'].path"): str(p) for k, p in out_arts.items()}

        container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        command = [_replace_all(a, table) for a in container["command"] + container["args"]]
        assert "{{" not in " ".join(command), command
        command[0] = AUTOGLM
        env = {**os.environ, "AUTOGLM_HOME": str(work / "homes" / name)}
        proc = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        shutil.rmtree(work / "homes" / name)  # the pod is gone; only its outputs remain
        params[name] = {k: f.read_text() for k, f in out_files.items()}
        artifacts[name] = out_arts
    return params


def test_exported_pipeline_runs_like_autoglm_run(host: Host, tmp_path: Path):
    model = export_model(ALL_NODES, host)
    spec = yaml.safe_load(kfp_export.dump(kfp_export.to_kfp(model, "img"), model))
    params = run_like_kfp(spec, tmp_path)
    proc = subprocess.run(
        [AUTOGLM, "run", str(ALL_NODES), "--plugins", "textkit", "--json", "--no-progress"],
        cwd=tmp_path, env={**os.environ, "AUTOGLM_HOME": str(tmp_path / "full")},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    full = json.loads(proc.stdout)
    for node_id, record in full["nodes"].items():
        doc = json.loads(params[model.step(node_id).name]["autoglm_outputs"])
        assert (doc["status"], doc["outputs"]) == (record["status"], record["outputs"]), node_id
    # one parameter per output field: a string as it is, anything else as JSON
    assert params["route"]["task"] == full["outputs"]["task"]
    assert json.loads(params["wait"]["value"]) == full["outputs"]["chunks"]
    assert json.loads(params["count"]["value"]) == full["outputs"]["count"]
    assert params["question"]["value"] == ""  # skipped: an empty parameter, status in the doc
