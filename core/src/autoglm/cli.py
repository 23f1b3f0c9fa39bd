"""The ``autoglm`` command.

Start-up stays light: this module imports only click at module level; each command imports what
it needs when it runs, and ``autoglm --help`` imports no plugin code at all.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from autoglm.plugins import Host, PluginSelection
    from autoglm.store import RunStore


def _plugin_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options that choose plugins, shared by every command that loads them."""
    options = [
        click.option(
            "--plugins",
            "allow",
            multiple=True,
            metavar="A,B",
            help="Load only these plugins (exact allow-list, repeatable; env AUTOGLM_PLUGINS).",
        ),
        click.option(
            "--block",
            "block",
            multiple=True,
            metavar="A,B",
            help="Never import these plugins (repeatable; env AUTOGLM_BLOCK_PLUGINS).",
        ),
        click.option(
            "--plugins-dir",
            "plugin_dirs",
            multiple=True,
            type=click.Path(file_okay=False),
            help="Load every *.py in DIR as a private plugin (env AUTOGLM_PLUGINS_DIR).",
        ),
        click.option(
            "--plugin-module",
            "modules",
            multiple=True,
            metavar="[NAME=]MODULE[:ATTR]",
            help="Load a private plugin from an importable module (default NAME: its package).",
        ),
        click.option(
            "--strict-plugins",
            is_flag=True,
            help="Fail if any plugin fails to load (env AUTOGLM_STRICT_PLUGINS=1).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _selection(
    allow: tuple[str, ...],
    block: tuple[str, ...],
    plugin_dirs: tuple[str, ...],
    modules: tuple[str, ...],
    strict_plugins: bool,
) -> PluginSelection:
    from autoglm.plugins import PluginSelection

    return PluginSelection.from_env(
        allow=allow or None,  # split into names there, as --block and the environment
        block=block,
        plugin_dirs=plugin_dirs,
        modules=modules,
        strict=strict_plugins,
    )


def _load_host(selection: PluginSelection, home: str | None = None, check: bool = False) -> Host:
    """Load plugins; new or changed ones (all with ``check``) are imported in a child process
    first, so one that kills its interpreter is reported instead of ending the command."""
    from autoglm.errors import PluginError
    from autoglm.plugin_probe import load_host
    from autoglm.store import default_home

    try:
        return load_host(selection, Path(home).resolve() if home else default_home(), check=check)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None


def _store(home: str | None) -> RunStore:
    from autoglm.store import RunStore, default_home

    root = Path(home).resolve() if home else default_home()
    return RunStore(root / "runs.sqlite")


def _home_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--home",
        envvar="AUTOGLM_HOME",
        type=click.Path(file_okay=False),
        help="Run store, caches and artefacts folder (env AUTOGLM_HOME, default ./.autoglm).",
    )(func)


def _logging_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--json-logs", is_flag=True, help="Write logs as JSON lines (to stderr).")
    @click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="info",
        show_default=True,
    )
    @functools.wraps(func)
    def wrapper(*args: Any, json_logs: bool, log_level: str, **kwargs: Any) -> Any:
        from autoglm.logsetup import configure_logging

        configure_logging(json_logs=json_logs, level=log_level)
        return func(*args, **kwargs)

    return wrapper


def _workflow_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn workflow errors into one clear message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from autoglm.errors import AutoGLMError, WorkflowError

        try:
            return func(*args, **kwargs)
        except WorkflowError as exc:
            click.echo(f"invalid workflow ({len(exc.problems)} problem(s)):", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(2)
        except AutoGLMError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


class _LazyGroup(click.Group):
    """A group whose heavier commands load on first use. ``--help`` shows their one-line help
    from this table instead of importing them, so it costs click alone."""

    lazy: dict[str, tuple[str, str, str]] = {
        "serve": ("autoglm.service.cli", "serve", "Run the REST service (FastAPI on uvicorn)."),
        "keys": ("autoglm.service.cli", "keys", "Create, list and revoke the service's API keys."),
        "run-node": (
            "autoglm.run_node_cli",
            "run_node_command",
            "Run one node of a workflow, upstream outputs given as files.",
        ),
        "env": (
            "autoglm.env_cli",
            "env_group",
            "Build and register Python environments that nodes run in.",
        ),
        "export": (
            "autoglm.export.cli",
            "export",
            "Export a workflow to Kubeflow, Argo or a Dockerfile.",
        ),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            import importlib

            module, attr, _ = self.lazy[name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][2]))
            elif (cmd := super().get_command(ctx, name)) is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autoglm", prog_name="autoglm")
def main() -> None:
    """autoglm: plugin-based workflows for automated LLM and graph-learning pipelines.

    Workflows are YAML files (see configs/). Every capability is a plugin; `autoglm plugins`
    lists what is installed.
    """


def _parse_inputs(
    pairs: tuple[str, ...], inputs_file: str | None, declared: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run inputs from ``--inputs-file`` and ``-i KEY=VALUE``. A ``-i`` value is read as YAML
    (``-i epochs=50`` is an int), except for an input the workflow declares ``type: str``: that
    one is the text as given, since a sentence such as ``Summarise: ...`` reads as a YAML
    mapping and ``42`` as a number."""
    import yaml

    declared = declared or {}

    values: dict[str, Any] = {}
    if inputs_file:
        loaded = yaml.safe_load(Path(inputs_file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise click.BadParameter(
                "must hold a mapping of input names to values", param_hint="--inputs-file"
            )
        values.update(loaded)
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected KEY=VALUE, found {pair!r}", param_hint="-i")
        if getattr(declared.get(name), "type", None) == "str":
            values[name] = raw
            continue
        try:  # typed when it reads as YAML (-i epochs=50 is an int), else the text as given
            values[name] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            values[name] = raw
    return values


def _executor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--executor NAME`` and ``--executor-option KEY=VALUE``: where node attempts run."""
    func = click.option(
        "--executor-option",
        "executor_options",
        multiple=True,
        metavar="KEY=VALUE",
        help="An option of the executor (dask: n_workers=2, address=tcp://host:8786).",
    )(func)
    return click.option(
        "--executor",
        default=None,
        metavar="NAME",
        help="Where node attempts run: local (default), or a plugin's (dask); "
        "overrides the workflow's executor:.",
    )(func)


def _executor_choice(name: str | None, options: tuple[str, ...]) -> Any:
    """The executor chosen on the command line, or None (the workflow's, else local)."""
    if name is None:
        if options:
            raise click.UsageError("--executor-option needs --executor")
        return None
    from autoglm.errors import AutoGLMError
    from autoglm.executors import ExecutorChoice, parse_options

    try:
        return ExecutorChoice(name, parse_options(list(options)))
    except AutoGLMError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.argument("workflow", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-i", "--input", "pairs", multiple=True, metavar="KEY=VALUE", help="A run input (YAML value)."
)
@click.option(
    "--inputs-file", type=click.Path(exists=True, dir_okay=False), help="YAML file of run inputs."
)
@click.option("--workers", type=int, default=None, help="Parallel nodes (default: min(4, CPUs)).")
@click.option("--no-cache", is_flag=True, help="Run every node even if a cached result exists.")
@click.option(
    "--progress/--no-progress", default=None, help="Progress display (default: on a terminal)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Apply the restricted trust policy: nodes read and write only the run's artefacts; "
    "no URLs, secrets, code loading or unpickling (docs/security.md).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply the trust policy in this YAML file (TrustPolicy fields; implies --sandbox).",
)
@_executor_options
@_home_option
@_plugin_options
@_logging_options
@_workflow_errors
def run(
    workflow: str,
    pairs: tuple[str, ...],
    inputs_file: str | None,
    workers: int | None,
    no_cache: bool,
    progress: bool | None,
    as_json: bool,
    sandbox: bool,
    policy_file: str | None,
    executor: str | None,
    executor_options: tuple[str, ...],
    home: str | None,
    **plugin_args: Any,
) -> None:
    """Run WORKFLOW (a YAML file) and print its outputs.

    With --sandbox or --policy, a workflow you did not write is held to a trust policy: what it
    fixes up front is checked before the run starts, every node again right before it runs."""
    from autoglm.engine import Engine
    from autoglm.workflow import load_workflow

    host = _load_host(_selection(**plugin_args), home)
    wf = load_workflow(workflow, host)
    inputs = _parse_inputs(pairs, inputs_file, wf.inputs)
    store = _store(home)
    policy = _policy(sandbox, policy_file, wf, host, inputs, store.home)
    engine = Engine(
        host,
        store,
        workers=workers,
        use_cache=not no_cache,
        reporter=_reporter(progress),
        policy=policy,
        executor=_executor_choice(executor, executor_options),
    )
    run_id = engine.submit(wf, inputs)
    click.echo(f"run {run_id} ({wf.name}) started; store {store.path}", err=True)
    try:
        result = engine.execute(run_id, wf)
    except KeyboardInterrupt:
        store.finish_run(run_id, "failed", error="interrupted")
        click.echo(f"\ninterrupted; continue with: autoglm resume {run_id}", err=True)
        sys.exit(130)
    _print_result(result, as_json)


def _policy(
    sandbox: bool, policy_file: str | None, wf: Any, host: Any, inputs: Any, home: Path
) -> Any:
    """The trust policy of ``autoglm run`` (None: trusted use); refuses, before any run is
    recorded, a workflow whose config or static inputs already break it."""
    if not sandbox and policy_file is None:
        return None
    from autoglm.errors import AutoGLMError
    from autoglm.policy import Places, TrustPolicy, load_policy_file
    from autoglm.policy.submission import check_workflow

    try:
        policy = load_policy_file(policy_file) if policy_file else TrustPolicy()
    except AutoGLMError as exc:
        raise click.ClickException(str(exc)) from None
    values = wf.resolve_inputs(inputs)
    violations = check_workflow(wf, host, values, policy, Places.of(policy, home))
    if violations:
        lines = "\n  ".join(v.message for v in violations)
        raise click.ClickException(f"refused by the trust policy:\n  {lines}")
    return policy


def _reporter(progress: bool | None) -> Any:
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from autoglm.progress import RichReporter

    return RichReporter()


def _print_result(result: Any, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "run_id": result.run_id,
                    "status": result.status,
                    "error": result.error,
                    "outputs": result.outputs,
                    "nodes": {k: v.model_dump() for k, v in result.nodes.items()},
                },
                indent=2,
                default=str,
            )
        )
    else:
        _print_nodes(result.nodes)
        if result.outputs:
            click.echo("\noutputs:")
            for name, value in result.outputs.items():
                if isinstance(value, str) and "\n" in value:
                    click.echo(f"  {name}:")
                    for line in value.splitlines():
                        click.echo(f"    {line}")
                else:
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    click.echo(f"  {name}: {text}")
        click.echo(f"\nrun {result.run_id}: {result.status}")
        if result.error:
            click.echo(f"error: {result.error}")
    if result.status != "succeeded":
        if result.status == "failed":
            click.echo(f"resume with: autoglm resume {result.run_id}", err=True)
        sys.exit(1)


def _print_nodes(nodes: dict[str, Any], journal: dict[str, dict[str, int]] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="nodes", show_lines=False)
    for column in ("node", "type", "status", "attempts", "seconds", "note"):
        table.add_column(column)
    for node in nodes.values():
        # without an error, the note says what the node has journaled so far: a running
        # search's trials, an evaluation's seeds
        counts = (journal or {}).get(node.node_id, {})
        recorded = ", ".join(f"{kind} {n}" for kind, n in counts.items())
        note = node.error or node.reason or recorded
        seconds = f"{node.duration_s:.3f}" if node.duration_s is not None else ""
        table.add_row(
            node.node_id, node.node_type, node.status, str(node.attempts), seconds, note[:80]
        )
    Console(soft_wrap=True).print(table)


@main.command()
@click.argument("workflows", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    help="Largest workflow file accepted (default 1,000,000 or $AUTOGLM_WORKFLOW_MAX_BYTES).",
)
@_plugin_options
def validate(
    workflows: tuple[str, ...], as_json: bool, max_bytes: int | None, **plugin_args: Any
) -> None:
    """Check WORKFLOWS without running anything: node types, configs, references, types, cycles.

    Every file is checked even when an earlier one is broken, and ``--json`` always prints one
    JSON document: a file that cannot be read or decoded is a problem of that file."""
    from dataclasses import replace

    from autoglm.errors import WorkflowError, WorkflowProblem
    from autoglm.workflow import ParseLimits, load_workflow

    host = _load_host(_selection(**plugin_args))
    limits = ParseLimits.from_env()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    report: dict[str, list[dict[str, Any]]] = {}
    for path in workflows:
        try:
            wf = load_workflow(path, host, limits=limits)
            report[path] = []
            if not as_json:
                click.echo(f"{path}: ok ({len(wf.nodes)} nodes)")
        except Exception as exc:  # one broken file must not hide the report of the others
            if not isinstance(exc, WorkflowError):
                exc = WorkflowError([WorkflowProblem(f"{type(exc).__name__}: {exc}", file=path)])
            report[path] = [p.to_dict() for p in exc.problems]
            if not as_json:
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    if any(report.values()):
        sys.exit(2)


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output with config schemas."
)
@click.option("--schemas", is_flag=True, help="Show each node type's config fields.")
@click.option(
    "--check",
    is_flag=True,
    help="Import each plugin in a child process first and name any that kills its interpreter.",
)
@click.option(
    "--reload",
    "reload_",
    is_flag=True,
    help="With --url: make a running service rediscover its installed plugins (admin key).",
)
@click.option("--url", help="The service for --reload (key from $AUTOGLM_API_KEY).")
@_plugin_options
def plugins(
    as_json: bool,
    schemas: bool,
    check: bool,
    reload_: bool,
    url: str | None,
    **plugin_args: Any,
) -> None:
    """List plugins, their versions, node types, config schemas and load errors."""
    if reload_ or url:
        if not (reload_ and url):
            raise click.UsageError("--reload and --url go together")
        from autoglm.client import Client
        from autoglm.client.errors import ServiceError

        try:
            with Client(url) as client:
                changed = client.reload_plugins()
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            click.echo(changed.model_dump_json(indent=2))
            return
        for kind in ("added", "removed", "upgraded"):
            for item in getattr(changed, kind):
                click.echo(f"{kind}: {item}")
        if not (changed.added or changed.removed or changed.upgraded):
            click.echo("no plugin changed")
        return
    host = _load_host(_selection(**plugin_args), check=check)
    if as_json:
        data = []
        for info in host.plugins.values():
            entry = info.to_dict()
            entry["node_types"] = [host.node_types[n].describe() for n in info.node_types]
            data.append(entry)
        click.echo(json.dumps(data, indent=2, default=str))
        return
    for info in host.plugins.values():
        version = f" {info.version}" if info.version else ""
        click.echo(f"{info.name}{version} [{info.status}] ({info.source}: {info.target})")
        if info.error:
            click.echo(f"    error: {info.error}")
        for name in info.node_types:
            node_type = host.node_types[name]
            click.echo(f"    {name} v{node_type.version}: {node_type.summary()}")
            if schemas:
                for field, spec in node_type.Config.model_fields.items():
                    default = "required" if spec.is_required() else f"default {spec.default!r}"
                    click.echo(f"        {field}: {spec.annotation} ({default})")
    if check:
        probed = [info for info in host.plugins.values() if info.probe]
        bad = [info.name for info in probed if info.probe and info.probe["outcome"] != "ok"]
        click.echo(
            f"\nchecked {len(probed)} plugin(s) in a child process: "
            + (f"{', '.join(bad)} cannot be imported safely" if bad else "all import safely")
        )


@main.command()
@click.argument("workflow", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to a file (.md wraps it in a code fence).",
)
@_plugin_options
@_workflow_errors
def graph(workflow: str, output: str | None, **plugin_args: Any) -> None:
    """Print a Mermaid diagram of WORKFLOW (made offline)."""
    from autoglm.mermaid import workflow_to_mermaid
    from autoglm.workflow import load_workflow

    text = workflow_to_mermaid(load_workflow(workflow, _load_host(_selection(**plugin_args))))
    if output:
        body = f"```mermaid\n{text}```\n" if output.endswith(".md") else text
        Path(output).write_text(body, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("run_id", required=False)
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "interrupted", "succeeded", "failed", "cancelled"]),
    help="Only runs in this state (interrupted: running when its process died).",
)
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--follow",
    "-f",
    is_flag=True,
    help="Print RUN_ID's state changes, progress and node logs as they happen, until it ends.",
)
@click.option(
    "--url",
    help="With --follow: watch through this service (key from $AUTOGLM_API_KEY) instead of "
    "the local run store.",
)
@_home_option
def runs(
    run_id: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
    follow: bool,
    url: str | None,
    home: str | None,
) -> None:
    """List runs, or show RUN_ID with its nodes (--follow: watch it live)."""
    if follow:
        if not run_id:
            raise click.UsageError("--follow needs a RUN_ID")
        from autoglm.follow import follow_run

        sys.exit(follow_run(run_id, url=url, home=home, as_json=as_json))
    store = _store(home)
    if run_id:
        record = store.get_run(run_id)
        if record is None:
            raise click.ClickException(f"no run {run_id!r} in {store.path}")
        nodes = store.node_states(run_id)
        journal = store.journal_counts(run_id)
        if as_json:
            payload = record.model_dump()
            payload["nodes"] = {k: v.model_dump() for k, v in nodes.items()}
            payload["journal_counts"] = journal
            click.echo(json.dumps(payload, indent=2, default=str))
            return
        click.echo(f"run {record.id}: {record.workflow_name} [{record.status}]")
        if record.status in {"running", "interrupted"}:
            click.echo(_owner_line(record))
        if record.error:
            click.echo(f"error: {record.error}")
        for plugin, version in (record.options.get("plugin_versions") or {}).items():
            click.echo(f"plugin {plugin}: {version}")
        _print_nodes(nodes, journal)
        if record.outputs:
            click.echo(json.dumps(record.outputs, indent=2, default=str))
        return
    records = store.list_runs(status=status, limit=limit)
    if as_json:
        click.echo(json.dumps([r.model_dump() for r in records], indent=2, default=str))
        return
    from datetime import datetime

    for record in records:
        created = datetime.fromtimestamp(record.created_at).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{record.id}  {created}  {record.status:<11}  {record.workflow_name}")


def _owner_line(record: Any) -> str:
    """Who executes (or executed, till it died) a run, and its last sign of life."""
    import time

    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.owned_since or 0))
    beat = f"{time.time() - record.heartbeat_at:.0f} s ago" if record.heartbeat_at else "never"
    verb = "owned by" if record.status == "running" else "was owned by (dead)"
    line = f"{verb} pid {record.owner_pid} on {record.owner_host} since {since}"
    line += f", last heartbeat {beat}"
    if record.status == "interrupted":
        line += f"; continue with: autoglm resume {record.id}"
    return line


@main.command()
@click.argument("run_id")
@click.option("--workers", type=int, default=None)
@click.option("--progress/--no-progress", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--allow-changed-plugins",
    is_flag=True,
    help="Resume even if the versions of the plugins the run used have changed since.",
)
@_executor_options
@_home_option
@_logging_options
@_workflow_errors
def resume(
    run_id: str,
    workers: int | None,
    progress: bool | None,
    as_json: bool,
    allow_changed_plugins: bool,
    executor: str | None,
    executor_options: tuple[str, ...],
    home: str | None,
) -> None:
    """Continue RUN_ID (killed, failed or interrupted) without re-running finished nodes.

    Refused while another live process executes the run; the message says which. Refused
    too if a plugin it used changed version since (finished nodes were made by the old one),
    unless --allow-changed-plugins."""
    from autoglm.engine import Engine
    from autoglm.plugins import PluginSelection

    store = _store(home)
    record = store.get_run(run_id)
    if record is None:
        raise click.ClickException(f"no run {run_id!r} in {store.path}")
    if record.labels.get("run_node"):  # its stored workflow is whole: resume would run it all
        raise click.ClickException(
            f"run {run_id} ran node {record.labels['run_node']!r} alone (autoglm run-node); "
            "run that step again instead of resuming it"
        )
    if record.status == "succeeded":
        click.echo(f"run {run_id} already succeeded", err=True)
    host = _load_host(PluginSelection.from_dict(record.selection), home)
    from autoglm.plugin_versions import check_resume

    workflow = check_resume(store, record, host, allow_changed=allow_changed_plugins)
    engine = Engine(
        host,
        store,
        workers=workers,
        use_cache=bool(record.options.get("use_cache", True)),
        reporter=_reporter(progress),
        executor=_executor_choice(executor, executor_options),
    )
    _print_result(engine.execute(run_id, workflow), as_json)


@main.command()
@click.argument("run_id")
@_home_option
def cancel(run_id: str, home: str | None) -> None:
    """Ask RUN_ID to stop (a queued run is cancelled at once)."""
    store = _store(home)
    if not store.request_cancel(run_id):
        raise click.ClickException(f"run {run_id!r} is not queued or running")
    click.echo(f"cancellation requested for {run_id}")


if __name__ == "__main__":  # pragma: no cover
    main()
