"""Click commands of the service: ``serve`` and the ``keys`` group.

The main ``autoglm`` group attaches both (``autoglm serve``, ``autoglm keys ...``); until then
``python -m autoglm.service`` runs them. Importing this module loads click only: FastAPI and
uvicorn are imported when ``serve`` runs.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

import click

from autoglm.service.schemas import LOG_LEVELS, SCOPES

_LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _home_path(home: str | None) -> Path:
    from autoglm.store import default_home

    return Path(home).expanduser().resolve() if home else default_home()


_home = click.option(
    "--home",
    envvar="AUTOGLM_HOME",
    type=click.Path(file_okay=False),
    help="Run store and keys folder (env AUTOGLM_HOME, default ./.autoglm).",
)


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Service settings (YAML); the flags below override it.",
)
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@_home
@click.option(
    "--workflows-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of workflows offered by name (default configs/).",
)
@click.option(
    "--plugins",
    "allow",
    metavar="A,B",
    default=None,
    help="Plugins to load and allow (default: all installed).",
)
@click.option("--block", multiple=True, metavar="NAME", help="Never load this plugin.")
@click.option(
    "--plugins-dir",
    "plugin_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Load every *.py in DIR as a private plugin.",
)
@click.option(
    "--max-runs",
    "max_concurrent_runs",
    type=int,
    default=None,
    help="Runs executed at the same time (default 2).",
)
@click.option("--node-workers", type=int, default=None, help="Parallel nodes within one run.")
@click.option(
    "--chat-model",
    metavar="PATH",
    default=None,
    help="Serve /v1/chat/completions with this transformers causal LM folder.",
)
@click.option("--max-body-bytes", type=int, default=None, help="Request body limit (1 MiB).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default=None)
@click.option("--json-logs", is_flag=True, default=None, help="Logs as JSON lines.")
def serve(
    config_file: str | None,
    allow: str | None,
    chat_model: str | None,
    block: tuple[str, ...],
    plugin_dirs: tuple[str, ...],
    **options: Any,
) -> None:
    """Run the REST service (binds to 127.0.0.1:8080 unless told otherwise)."""
    from autoglm.service.settings import SettingsError, load_settings

    overrides = dict(options)
    if allow is not None:
        overrides["plugins"] = [n.strip() for n in allow.split(",") if n.strip()]
    if block:
        overrides["block"] = list(block)
    if plugin_dirs:
        overrides["plugin_dirs"] = [str(Path(d).resolve()) for d in plugin_dirs]
    if chat_model:
        overrides["chat_model"] = {"kind": "hf-causal", "model": chat_model}
    try:
        settings = load_settings(config_file, overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    run_service(settings)


def run_service(settings: Any) -> None:
    """Build the service from ``settings`` and serve it until SIGINT/SIGTERM."""
    import uvicorn

    from autoglm.errors import PluginError
    from autoglm.logsetup import configure_logging
    from autoglm.service.app import create_app
    from autoglm.service.state import ServiceState

    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    if not _is_loopback(settings.host):
        click.echo(
            f"warning: binding to {settings.host}: the service is reachable from other "
            "machines; put TLS in front of it",
            err=True,
        )
    try:
        state = ServiceState.build(settings)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(
        create_app(state),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_s)),
    )


@click.group()
def keys() -> None:
    """Create, list and revoke API keys of the service."""


@keys.command("create")
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option(
    "--scopes",
    default="read",
    show_default=True,
    help=f"Comma-separated subset of: {', '.join(SCOPES)} (admin implies all).",
)
@click.option("--json", "as_json", is_flag=True)
@_home
def create_key(name: str, scopes: str, as_json: bool, home: str | None) -> None:
    """Create a key; its token is printed once and never stored."""
    from autoglm.service.keys import KeyStore, parse_scopes

    try:
        scope_list = parse_scopes(scopes)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scopes") from None
    key, token = KeyStore.in_home(_home_path(home)).create(name, scope_list)
    if as_json:
        click.echo(json.dumps({**key.model_dump(), "token": token}))
        return
    click.echo(f"created key {key.id} ({name}; scopes {', '.join(key.scopes)}); token:", err=True)
    click.echo(token)


@keys.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.option("--json", "as_json", is_flag=True)
@_home
def list_keys(include_revoked: bool, as_json: bool, home: str | None) -> None:
    """List keys (ids, names, scopes; never the tokens)."""
    from autoglm.service.keys import KeyStore

    found = KeyStore.in_home(_home_path(home)).list(include_revoked=include_revoked)
    if as_json:
        click.echo(json.dumps([k.model_dump() for k in found], indent=2))
        return
    for key in found:
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}  {state:<7}  {','.join(key.scopes):<18}  {key.name}")


@keys.command("revoke")
@click.argument("key_id")
@_home
def revoke_key(key_id: str, home: str | None) -> None:
    """Revoke KEY_ID at once (the service checks keys on every request)."""
    from autoglm.service.keys import KeyStore

    if not KeyStore.in_home(_home_path(home)).revoke(key_id):
        raise click.ClickException(f"no active key {key_id!r}")
    click.echo(f"revoked {key_id}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def service_main() -> None:
    """The autoglm service commands (``autoglm serve`` and ``autoglm keys``)."""


service_main.add_command(serve)
service_main.add_command(keys)

if __name__ == "__main__":  # pragma: no cover
    service_main(sys.argv[1:])
