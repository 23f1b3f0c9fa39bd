"""``autoglm run-node``: one node of a workflow, its upstream outputs given as files or JSON.

Loaded lazily by ``autoglm.cli`` (it imports the engine); the logic is ``autoglm.run_node``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from autoglm.cli import (
    _home_option,
    _load_host,
    _logging_options,
    _parse_inputs,
    _plugin_options,
    _policy,
    _selection,
    _store,
    _workflow_errors,
)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a mapping; a name given twice is an error, not a guess."""
    found: dict[str, str] = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, found {pair!r}", param_hint=option)
        if name in found:
            raise click.BadParameter(f"{name!r} is given twice", param_hint=option)
        found[name] = value
    return found


@click.command("run-node")
@click.argument("workflow", type=click.Path(exists=True, dir_okay=False))
@click.option("--node", "node_id", required=True, help="The id of the node to run.")
@click.option(
    "-i", "--input", "pairs", multiple=True, metavar="KEY=VALUE", help="A run input (YAML value)."
)
@click.option(
    "--inputs-file", type=click.Path(exists=True, dir_okay=False), help="YAML file of run inputs."
)
@click.option("--inputs-json", help="Run inputs as one JSON object (applied before -i).")
@click.option(
    "--upstream",
    "upstream_files",
    multiple=True,
    metavar="NODE=FILE",
    help="An upstream node's outputs document (what its run-node wrote with --outputs-file).",
)
@click.option(
    "--upstream-json",
    "upstream_texts",
    multiple=True,
    metavar="NODE=JSON",
    help="An upstream node's outputs document as JSON text (an orchestrator's parameter).",
)
@click.option(
    "--upstream-artifacts",
    "upstream_dirs",
    multiple=True,
    metavar="NODE=DIR",
    help="Where an upstream node's --artifacts-out folder was downloaded to: its output paths "
    "are mapped there.",
)
@click.option(
    "--outputs-file",
    type=click.Path(dir_okay=False),
    help="Write the node's outputs document (status, outputs, error) here as JSON.",
)
@click.option(
    "--output-param",
    "output_params",
    multiple=True,
    metavar="FIELD=FILE",
    help="Write one output field to FILE: a string as it is, else JSON ('' when skipped).",
)
@click.option(
    "--artifacts-out",
    type=click.Path(file_okay=False),
    help="Copy the node's artefact folder here and point its output paths at the copy.",
)
@click.option(
    "--no-retry", is_flag=True, help="One attempt only: the orchestrator retries the step."
)
@click.option("--no-cache", is_flag=True, help="Run the node even if a cached result exists.")
@click.option("--sandbox", is_flag=True, help="Apply the restricted trust policy (as autoglm run).")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply the trust policy in this YAML file (implies --sandbox).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outputs document.")
@_home_option
@_plugin_options
@_logging_options
@_workflow_errors
def run_node_command(
    workflow: str,
    node_id: str,
    pairs: tuple[str, ...],
    inputs_file: str | None,
    inputs_json: str | None,
    upstream_files: tuple[str, ...],
    upstream_texts: tuple[str, ...],
    upstream_dirs: tuple[str, ...],
    outputs_file: str | None,
    output_params: tuple[str, ...],
    artifacts_out: str | None,
    no_retry: bool,
    no_cache: bool,
    sandbox: bool,
    policy_file: str | None,
    as_json: bool,
    home: str | None,
    **plugin_args: Any,
) -> None:
    """Run node ID of WORKFLOW alone, as one step of an orchestrator (Kubeflow, Argo, a job).

    The node runs through the same engine as `autoglm run` (validation, plugins, trust policy,
    hooks, cache, retries, timeout, artefact folder); its upstream nodes' outputs are given
    with --upstream or --upstream-json, and its `when` condition, skips and first_of joins are
    decided as in a full run. Exit status 0 when the node succeeded, was cached or skipped."""
    from autoglm.engine import Engine
    from autoglm.run_node import (
        output_parameter_text,
        read_upstream_file,
        read_upstream_json,
        run_node,
    )
    from autoglm.workflow import load_workflow

    host = _load_host(_selection(**plugin_args), home)
    wf = load_workflow(workflow, host)
    inputs: dict[str, Any] = {}
    if inputs_json:
        try:
            loaded = json.loads(inputs_json)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(str(exc), param_hint="--inputs-json") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--inputs-json")
        inputs.update(loaded)
    inputs.update(_parse_inputs(pairs, inputs_file, wf.inputs))
    local = _pairs(upstream_dirs, "--upstream-artifacts")
    files = _pairs(upstream_files, "--upstream")
    texts = _pairs(upstream_texts, "--upstream-json")
    both = sorted(set(files) & set(texts))
    if both:
        raise click.UsageError(f"{', '.join(both)}: given with both --upstream and --upstream-json")
    upstream = {n: read_upstream_file(n, p, local.get(n)) for n, p in files.items()}
    upstream |= {n: read_upstream_json(n, t, local.get(n)) for n, t in texts.items()}
    unknown = sorted(set(local) - set(upstream))
    if unknown:
        raise click.UsageError(f"--upstream-artifacts for {', '.join(unknown)} without its outputs")
    params = _pairs(output_params, "--output-param")
    store = _store(home)
    policy = _policy(sandbox, policy_file, wf, host, inputs, store.home)
    engine = Engine(host, store, workers=1, use_cache=not no_cache, policy=policy)
    result = run_node(
        engine,
        wf,
        node_id,
        inputs,
        upstream,
        no_retry=no_retry,
        artifacts_out=Path(artifacts_out).resolve() if artifacts_out else None,
    )
    document = result.document()
    text = json.dumps(document, indent=2, default=str)
    if outputs_file:
        Path(outputs_file).parent.mkdir(parents=True, exist_ok=True)
        Path(outputs_file).write_text(text, encoding="utf-8")
    outputs = result.outputs or {}
    for name, path in params.items():
        if result.outputs is not None and name not in outputs:
            raise click.ClickException(f"node {node_id!r} has no output field {name!r}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        value = output_parameter_text(outputs[name]) if name in outputs else ""
        Path(path).write_text(value, encoding="utf-8")
    if as_json:
        click.echo(text)
    note = result.error or result.reason or ""
    click.echo(f"node {node_id}: {result.status} (run {result.run_id}) {note}".rstrip(), err=True)
    if result.status not in {"succeeded", "cached", "skipped"}:
        sys.exit(1)
