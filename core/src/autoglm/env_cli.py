"""``autoglm env``: build, register, list and remove the environments nodes can run in.

Registering writes the environments file (``$AUTOGLM_ENVIRONMENTS`` or
``$AUTOGLM_HOME/environments.json``): whoever can run this against a service's home is its
admin. A remote admin uses ``POST /v1/environments`` instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("env")
def env_group() -> None:
    """Python environments that nodes run in (``environment: NAME``)."""


@env_group.command("create")
@click.argument("name")
@click.option(
    "--path",
    "folder",
    type=click.Path(file_okay=False),
    help="Where to build it (default: $AUTOGLM_HOME/envs/NAME).",
)
@click.option("--plugins", "plugins", multiple=True, help="Plugins it must have (repeatable).")
@click.option(
    "--constraint", "constraints", multiple=True, help="A pip requirement, e.g. 'numpy>=2'."
)
@click.option(
    "--isolated",
    is_flag=True,
    help="Install autoglm and the plugins into it instead of layering it over this host's.",
)
def create_command(
    name: str,
    folder: str | None,
    plugins: tuple[str, ...],
    constraints: tuple[str, ...],
    isolated: bool,
) -> None:
    """Build a virtualenv, install into it, and register it as NAME."""
    from autoglm.env_create import create
    from autoglm.environments import EnvironmentUnavailable, registry_path

    target = Path(folder) if folder else registry_path().parent / "envs" / name
    names = [p for item in plugins for p in item.split(",") if p]
    try:
        info = create(name, target, plugins=names, constraints=list(constraints), isolated=isolated)
    except EnvironmentUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"environment {name}: {info['executable']} (Python {info['python']})")
    if info.get("conflicts"):
        click.echo(
            f"warning: {len(info['conflicts'])} requirement(s) of packages seen through this "
            "host no longer hold (pip check); a package built for a version the constraints "
            "replaced may fail to import there: name it in --constraint to give the "
            "environment its own copy",
            err=True,
        )
        for line in info["conflicts"]:
            click.echo(f"    {line}", err=True)


@env_group.command("register")
@click.argument("name")
@click.argument("python", type=click.Path(exists=True, dir_okay=False))
def register_command(name: str, python: str) -> None:
    """Register an existing interpreter (with autoglm installed) as NAME."""
    from autoglm.environments import EnvironmentUnavailable, register

    try:
        info = register(name, python)
    except EnvironmentUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"environment {name}: {info['executable']} ({len(info['plugins'])} plugins)")


@env_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Registered environments, each with its plugins' versions."""
    from autoglm.environments import EnvironmentUnavailable, describe, load_registry

    result = {}
    for name, python in sorted(load_registry().items()):
        try:
            result[name] = describe(python)
        except EnvironmentUnavailable as exc:
            result[name] = {"executable": python, "error": str(exc)}
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for name, info in result.items():
        click.echo(f"{name}: {info['executable']}")
        if "error" in info:
            click.echo(f"    error: {info['error']}")
            continue
        for plugin, meta in sorted(info["plugins"].items()):
            click.echo(f"    {plugin}: {meta['distribution']} {meta['version']}")


@env_group.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Unregister NAME (its folder is left as it is)."""
    from autoglm.environments import unregister

    if not unregister(name):
        raise click.ClickException(f"no environment {name!r}")
    click.echo(f"environment {name} removed")
