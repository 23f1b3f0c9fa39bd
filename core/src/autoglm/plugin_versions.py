"""The distribution versions of the plugins a run used, recorded with the run.

Why: plugins can be installed, upgraded or removed while a service runs (hot loading), and a
node can run in another environment. A run's results depend on the code that made them, so
each run records, when it starts executing, ``plugin -> "distribution version"`` for every
plugin whose node types its workflow uses (``plugin@environment`` for a node that runs in
another environment), plus the core's own version. ``autoglm runs RUN_ID`` and the API show
them; ``resume`` compares them with what would run now and refuses a changed set unless told
to go on (``--allow-changed-plugins``), since finished nodes were made by the old code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoglm.errors import AutoGLMError
from autoglm.plugins import Host
from autoglm.workflow.model import Workflow

if TYPE_CHECKING:
    from autoglm.store import RunRecord, RunStore

OPTION = "plugin_versions"


def _label(distribution: str | None, version: str | None) -> str:
    if distribution is None and version is None:
        return "(not from a distribution)"
    return f"{distribution or '?'} {version or '?'}"


def used_versions(workflow: Workflow, host: Host) -> dict[str, str]:
    """What the run of ``workflow`` on ``host`` uses now; environments are asked (cached)."""
    import autoglm

    versions: dict[str, str] = {"autoglm": f"autoglm {autoglm.__version__}"}
    for node in workflow.nodes.values():
        plugin = node.type.split(".", 1)[0]
        env = node.settings.environment
        if env is not None:
            from autoglm.environments import EnvironmentUnavailable, check

            try:
                info = check(env, plugin).get("plugins", {}).get(plugin, {})
                label = _label(info.get("distribution"), info.get("version"))
            except EnvironmentUnavailable as exc:
                label = f"(unavailable: {exc})"
            versions[f"{plugin}@{env}"] = label
            continue
        meta = host.plugins.get(plugin)
        if meta is None:
            versions[plugin] = "(not installed)"
        elif meta.source == "builtin":
            continue
        else:
            versions[plugin] = _label(meta.distribution, meta.version)
    return dict(sorted(versions.items()))


def changes(recorded: dict[str, Any], current: dict[str, str]) -> list[str]:
    """Lines naming each plugin whose version differs between ``recorded`` and ``current``."""
    lines = []
    for name in sorted(set(recorded) | set(current)):
        before, now = recorded.get(name, "(not used)"), current.get(name, "(not used)")
        if before != now:
            lines.append(f"{name}: {before} -> {now}")
    return lines


class ChangedPlugins(AutoGLMError):
    """A run would resume on other plugin versions than it started with."""


def check_resume(
    store: RunStore, record: RunRecord, host: Host, *, allow_changed: bool
) -> Workflow:
    """The run's stored workflow, parsed on ``host``; raises ``ChangedPlugins`` naming each
    change if the plugins it used have other versions now and ``allow_changed`` is false.
    With it, the new versions are recorded (the run is now made by both)."""
    from autoglm.workflow import parse_workflow

    source = store.get_run_source(record.id) or ""
    workflow = parse_workflow(source, host, path=record.workflow_path)
    recorded = record.options.get(OPTION)
    if not recorded:
        return workflow
    current = used_versions(workflow, host)
    changed = changes(recorded, current)
    if not changed:
        return workflow
    if not allow_changed:
        raise ChangedPlugins(
            f"run {record.id} used other plugin versions than are installed now:\n  "
            + "\n  ".join(changed)
            + "\nits finished nodes were made by the old ones; resume anyway with "
            "--allow-changed-plugins (or the API's allow_changed_plugins)"
        )
    store.set_run_options(record.id, {OPTION: current, "plugin_versions_before": recorded})
    return workflow
