"""``autoglm export``: a workflow as a Kubeflow pipeline, an Argo workflow, or the Dockerfile of
their image. Loaded lazily by ``autoglm.cli``; the logic is in this package's modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from autoglm.cli import _load_host, _plugin_options, _selection, _workflow_errors


def _image_path(workflow: str, given: str | None) -> str:
    """The workflow's path inside the image, relative to its working directory (the build
    context): the path as given when it lies under the current directory."""
    if given:
        return given
    path = Path(workflow).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        raise click.UsageError(
            f"{workflow} is outside the current directory (the image's build context); "
            "run from the repository root or give --workflow-path"
        ) from None


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """WORKFLOW, -o, --workflow-path and the plugin options, shared by every exporter."""

    @click.argument("workflow", type=click.Path(exists=True, dir_okay=False))
    @click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
    @click.option(
        "--workflow-path",
        help="The workflow's path inside the image (default: its path under the current "
        "directory, which the Dockerfile copies).",
    )
    @_plugin_options
    @_workflow_errors
    @functools.wraps(func)
    def wrapper(workflow: str, output: str | None, workflow_path: str | None, **kw: Any) -> None:
        from autoglm.export import build_model
        from autoglm.workflow import load_workflow

        plugin_args = {
            k: kw.pop(k) for k in ("allow", "block", "plugin_dirs", "modules", "strict_plugins")
        }
        host = _load_host(_selection(**plugin_args))
        wf = load_workflow(workflow, host)
        model = build_model(wf, host, _image_path(workflow, workflow_path))
        text = func(model=model, host=host, **kw)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"wrote {output} ({len(model.steps)} steps)", err=True)
        else:
            click.echo(text, nl=False)

    return wrapper


def _image_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--image",
        default=None,
        help="The image every step runs (default autoglm-WORKFLOW:latest; build it from "
        "`autoglm export dockerfile`).",
    )(func)


@click.group()
def export() -> None:
    """Export a workflow to another engine (docs/export.md).

    Each node becomes one step running `autoglm run-node` in a container image."""


@export.command()
@_common
@_image_option
@click.option(
    "--check",
    is_flag=True,
    help="Validate against the KFP pipeline spec (needs kfp-pipeline-spec: autoglm[kfp]).",
)
@click.option(
    "--strict-conditions",
    is_flag=True,
    help="Fail unless every `when` becomes a KFP condition (default: run-node decides those "
    "KFP cannot decide exactly).",
)
def kfp(model: Any, host: Any, image: str | None, check: bool, strict_conditions: bool) -> str:
    """Write WORKFLOW as a Kubeflow Pipelines v2 pipeline (IR YAML; no kfp import)."""
    from autoglm.export import kfp as kfp_export

    spec = kfp_export.to_kfp(model, _image(model, image), strict_conditions=strict_conditions)
    if check:
        kfp_export.check(spec)
        click.echo("checked against the KFP pipeline spec: valid", err=True)
    return kfp_export.dump(spec, model)


@export.command()
@_common
@_image_option
def argo(model: Any, host: Any, image: str | None) -> str:
    """Write WORKFLOW as an Argo Workflows manifest (submit with `argo submit`)."""
    from autoglm.export import argo as argo_export

    return argo_export.dump(argo_export.to_argo(model, _image(model, image)))


@export.command()
@_common
@click.option(
    "--context",
    type=click.Path(file_okay=False, exists=True),
    default=".",
    show_default=True,
    help="The build context: the repository root.",
)
@click.option("--base", default=None, help="Base image (default python:3.11-slim).")
def dockerfile(model: Any, host: Any, context: str, base: str | None) -> str:
    """Write the Dockerfile of the image WORKFLOW's steps run in (core, its plugins, pins)."""
    from autoglm.export.dockerfile import BASE_IMAGE, to_dockerfile

    return to_dockerfile(model, host, Path(context).resolve(), base=base or BASE_IMAGE)


def _image(model: Any, image: str | None) -> str:
    from autoglm.export.model import dns_name

    return image or f"autoglm-{dns_name(model.name)}:latest"
