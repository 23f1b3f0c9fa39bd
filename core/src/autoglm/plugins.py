"""The plugin host: discovery, selection, isolated loading and the node-type registry.

Plugins are found through the ``autoglm`` entry-point group. An entry point resolves to a
*light* module (it may import pydantic and autoglm, never torch/dgl/transformers at import
time) that implements ``register_nodes``. Listing entry points imports nothing; loading a plugin
imports only its light module; heavy code loads when one of its nodes is initialised.

Selection happens *before* import, in the manner of pytest's ``-p no:name``: an exact
allow-list (``--plugins a,b`` or ``AUTOGLM_PLUGINS``), a block list (``--block a,b`` or
``AUTOGLM_BLOCK_PLUGINS``), both comma lists parsed alike and both checked against what is
installed, plus private plugins from a folder (``--plugins-dir``) or a ``[name=]module[:attr]``
spec. Each plugin is loaded on its own: one that fails to import (even with ``SystemExit`` or
``KeyboardInterrupt``), declares an incompatible API version, misspells a hook, implements a hook
wrapper or registers a node type outside its own ``<plugin>.`` namespace is recorded with its
error and does not stop the others (pluggy's own loader stops at the first failure). A plugin
that kills its interpreter (``os._exit``) cannot be caught here: ``autoglm.plugin_probe`` imports
new plugins in a child process first.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from autoglm import hookspecs
from autoglm.errors import PluginError
from autoglm.nodes import NodeType, check_node_type

ENTRY_POINT_GROUP = "autoglm"
BUILTIN_PLUGIN = "core"
ENV_ALLOW = "AUTOGLM_PLUGINS"
ENV_BLOCK = "AUTOGLM_BLOCK_PLUGINS"
ENV_DIRS = "AUTOGLM_PLUGINS_DIR"
ENV_STRICT = "AUTOGLM_STRICT_PLUGINS"


def split_names(values: str | Iterable[str] | None) -> list[str]:
    """Plugin names from comma lists however given: ``"a,b"``, a repeated option
    (``("a", "b,c")``) or an environment variable, in order and without repeats.

    Why one function: ``--block a,b`` once blocked nothing while ``AUTOGLM_BLOCK_PLUGINS=a,b``
    blocked both; every way of naming plugins goes through here so they cannot drift apart."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    names = [name.strip() for value in values for name in value.split(",")]
    return list(dict.fromkeys(name for name in names if name))


def module_plugin_name(spec: str) -> tuple[str, str]:
    """The plugin name and import spec of ``--plugin-module [NAME=]MODULE[:ATTR]``.

    Without ``NAME=``, the name is the top-level package of MODULE with an ``autoglm_`` prefix
    dropped (``acme.plugin`` -> ``acme``, ``autoglm_sentiment.plugin`` -> ``sentiment``), as
    entry points are conventionally named; the last dotted part (often ``plugin``) says
    nothing about whose nodes these are."""
    name, sep, target = spec.partition("=")
    if sep:
        return name.strip(), target.strip()
    top = spec.partition(":")[0].split(".", 1)[0]
    return top.removeprefix("autoglm_"), spec


@dataclass(frozen=True)
class PluginSelection:
    """Which plugins to load. Plain data, picklable, so worker processes rebuild the same host.

    ``allow`` None means every installed plugin; a list is an exact allow-list.
    """

    allow: tuple[str, ...] | None = None
    block: tuple[str, ...] = ()
    plugin_dirs: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    strict: bool = False

    @classmethod
    def from_env(
        cls,
        *,
        allow: list[str] | tuple[str, ...] | None = None,
        block: list[str] | tuple[str, ...] = (),
        plugin_dirs: list[str] | tuple[str, ...] = (),
        modules: list[str] | tuple[str, ...] = (),
        strict: bool = False,
    ) -> PluginSelection:
        """Merge explicit choices with the environment, read now (not at import time)."""
        env_allow = split_names(os.environ.get(ENV_ALLOW))
        chosen_allow = split_names(allow) if allow is not None else (env_allow or None)
        env_block = split_names(os.environ.get(ENV_BLOCK))
        env_dirs = [d for d in os.environ.get(ENV_DIRS, "").split(os.pathsep) if d]
        env_strict = os.environ.get(ENV_STRICT, "").lower() in {"1", "true", "yes"}
        return cls(
            allow=None if chosen_allow is None else tuple(chosen_allow),
            block=tuple(split_names([*block, *env_block])),
            plugin_dirs=tuple(
                str(Path(d).resolve()) for d in dict.fromkeys([*plugin_dirs, *env_dirs])
            ),
            modules=tuple(modules),
            strict=strict or env_strict,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PluginSelection:
        allow = data.get("allow")
        return cls(
            allow=None if allow is None else tuple(allow),
            block=tuple(data.get("block", ())),
            plugin_dirs=tuple(data.get("plugin_dirs", ())),
            modules=tuple(data.get("modules", ())),
            strict=bool(data.get("strict", False)),
        )


@dataclass
class PluginInfo:
    """What the host knows about one plugin, loaded or not."""

    name: str
    source: str  # "entry point", "plugins-dir", "module", "builtin"
    target: str  # the entry point value, file path or module spec
    distribution: str | None = None
    version: str | None = None
    status: str = "discovered"  # discovered | loaded | blocked | not selected | failed
    error: str | None = None
    node_types: list[str] = field(default_factory=list)
    #: What importing it in a child process showed (``autoglm.plugin_probe``), when it was:
    #: ``{"outcome": "ok" | "killed" | "hung", "exit_code": ..., "stderr": ...}``.
    probe: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def discover_entry_points() -> dict[str, metadata.EntryPoint]:
    """Installed ``autoglm`` entry points by name. Reads package metadata only; imports nothing."""
    return {name: claims[0] for name, claims in _entry_point_claims().items()}


def _entry_point_claims() -> dict[str, list[metadata.EntryPoint]]:
    """Every distinct claim on each plugin name: the same distribution seen twice on the path
    (an egg-info beside a dist-info) is one claim; two distributions are two."""
    found: dict[str, list[metadata.EntryPoint]] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        claims = found.setdefault(entry_point.name, [])
        if all(_claimant(c) != _claimant(entry_point) for c in claims):
            claims.append(entry_point)
    return found


def _claimant(entry_point: metadata.EntryPoint) -> tuple[str | None, str]:
    dist = getattr(entry_point, "dist", None)
    return (dist.name if dist else None, entry_point.value)


class Host:
    """A plugin manager plus the registry that routes each node type to one implementation."""

    def __init__(self, selection: PluginSelection | None = None) -> None:
        self.selection = selection or PluginSelection()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.node_types: dict[str, type[NodeType]] = {}
        self.node_owner: dict[str, str] = {}
        #: executors by name (``local`` from the core), each remembered with its plugin
        self.executors: dict[str, type[Any]] = {}
        self.executor_owner: dict[str, str] = {}

    # ------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        selection: PluginSelection | None = None,
        *,
        quarantine: Mapping[str, str] | None = None,
        progress: Callable[[str, PluginInfo], None] | None = None,
    ) -> Host:
        """Discover and load plugins as ``selection`` says. Raises ``PluginError`` for an
        allow-list or block list naming something not installed, or for any load error in
        strict mode.

        ``quarantine`` maps plugins known to kill their interpreter to that error: they are
        recorded as failed and never imported. ``progress("start" | "done", info)`` is called
        around each import, so that a probing child can say which plugin it died in."""
        host = cls(selection)
        host.load_candidates(host.candidates(), quarantine=quarantine, progress=progress)
        return host

    def candidates(self) -> list[tuple[PluginInfo, Callable[[], Any]]]:
        """The plugins this selection would import, in load order, each with its loader; imports
        nothing. Blocked, unselected and misnamed plugins are recorded in ``self.plugins``
        instead. Raises ``PluginError`` for a ``--plugins``/``--block`` name not installed."""
        claims = _entry_point_claims()
        private = self._private_plugins()
        known = set(claims) | {name for name, *_ in private}
        self._check_names(known)
        found: list[tuple[PluginInfo, Callable[[], Any]]] = []
        for name in sorted(claims):
            entry_point = claims[name][0]
            dist = getattr(entry_point, "dist", None)
            info = PluginInfo(
                name=name,
                source="entry point",
                target=entry_point.value,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
            )
            if len(claims[name]) > 1:  # which one is the impostor is not ours to guess
                if self._skip_reason(info):
                    continue
                info.status = "failed"
                info.target = ", ".join(ep.value for ep in claims[name])
                info.error = (
                    f"plugin name {name!r} is claimed by several installed distributions ("
                    + ", ".join(f"{d or '?'}: {v}" for d, v in map(_claimant, claims[name]))
                    + "); none of them is loaded: uninstall all but one"
                )
                self.plugins[name] = info
                continue
            found.append((info, lambda ep=entry_point: ep.load()))
        taken = {info.name: info for info, _ in found}
        for name, source, target, loader in private:
            info = PluginInfo(name=name, source=source, target=target)
            if name in taken or name == BUILTIN_PLUGIN:
                owner = taken.get(name)
                what = f"{owner.source} plugin {name!r} ({owner.target})" if owner else "the core"
                if owner and owner.source == "entry point":
                    what = f"installed plugin {name!r} ({owner.distribution or owner.target})"
                info.status = "failed"
                info.error = (
                    f"plugin name {name!r} is already taken by {what}; a plugin's name is the "
                    "namespace of its node types, so rename this one"
                )
                self.plugins[f"{name} ({target})"] = info
                continue
            taken[name] = info
            found.append((info, loader))
        selected = []
        for info, loader in found:
            if "." in info.name:
                info.status = "failed"
                info.error = (
                    f"plugin name {info.name!r} contains a '.'; node types are '<plugin>.<node>'"
                )
                self.plugins[info.name] = info
            elif not self._skip_reason(info):
                selected.append((info, loader))
        return selected

    def _check_names(self, known: set[str]) -> None:
        """``--plugins`` and ``--block`` (and their environment variables) may only name
        installed plugins: a typo must not silently select or block nothing."""
        sel = self.selection
        for option, names in (("--plugins", sel.allow or ()), ("--block", sel.block)):
            unknown = [n for n in names if n not in known and n != BUILTIN_PLUGIN]
            if option == "--block" and BUILTIN_PLUGIN in names:
                raise PluginError("--block names 'core', the host itself, which cannot be blocked")
            if unknown:
                raise PluginError(
                    f"{option} names {', '.join(map(repr, unknown))}, which "
                    f"{'is' if len(unknown) == 1 else 'are'} not installed. Installed plugins: "
                    f"{', '.join(sorted(known)) or '(none)'}"
                )

    def load_candidates(
        self,
        candidates: list[tuple[PluginInfo, Callable[[], Any]]],
        *,
        quarantine: Mapping[str, str] | None = None,
        progress: Callable[[str, PluginInfo], None] | None = None,
    ) -> None:
        """Register the core, then load ``candidates`` (from ``candidates()``) as ``load`` says.
        Separate so that a caller that inspected the candidates first (the child-process probe)
        does not read every distribution's metadata twice."""
        from autoglm import builtin_nodes

        quarantine = quarantine or {}

        self._register_module(
            BUILTIN_PLUGIN,
            builtin_nodes,
            PluginInfo(
                name=BUILTIN_PLUGIN,
                source="builtin",
                target="autoglm.builtin_nodes",
                distribution="autoglm",
                version=_version_of("autoglm"),
            ),
        )
        for info, loader in candidates:
            if info.name in quarantine:
                self.plugins[info.name] = info
                info.status = "failed"
                info.error = quarantine[info.name]
                continue
            if progress:
                progress("start", info)
            self._load_one(info, loader)
            if progress:
                progress("done", info)
        if self.selection.strict:
            failed = [p for p in self.plugins.values() if p.status == "failed"]
            if failed:
                raise PluginError(
                    "strict plugin loading: "
                    + "; ".join(f"plugin {p.name!r} failed: {p.error}" for p in failed)
                )

    def _skip_reason(self, info: PluginInfo) -> bool:
        """Record and skip a plugin that is blocked or not in the allow-list, before import."""
        if info.name in self.selection.block:
            info.status = "blocked"
        elif self.selection.allow is not None and info.name not in self.selection.allow:
            info.status = "not selected"
        else:
            return False
        self.plugins[info.name] = info
        return True

    def _private_plugins(self) -> list[tuple[str, str, str, Callable[[], Any]]]:
        """Plugins that are not packaged, as (name, source, target, loader): ``*.py`` files of
        plugin folders (named by file) and module specs (named by ``module_plugin_name``)."""
        found: list[tuple[str, str, str, Callable[[], Any]]] = []
        for folder in self.selection.plugin_dirs:
            path = Path(folder)
            if not path.is_dir():
                raise PluginError(f"plugins folder {folder} does not exist")
            for file in sorted(path.glob("*.py")):
                if file.name.startswith("_"):
                    continue
                found.append((file.stem, "plugins-dir", str(file), lambda f=file: _import_file(f)))
        for spec in self.selection.modules:
            name, target = module_plugin_name(spec)
            found.append((name, "module", target, lambda s=target: _import_spec(s)))
        return found

    def _load_one(self, info: PluginInfo, loader: Callable[[], Any]) -> None:
        self.plugins[info.name] = info
        try:
            plugin = loader()
        except BaseException as exc:  # even SystemExit: an import must not end the host
            info.status = "failed"
            info.error = _describe(exc)
            return
        self._register_module(info.name, plugin, info)

    def _register_module(self, name: str, plugin: Any, info: PluginInfo) -> None:
        self.plugins[name] = info
        existing = self.pm.get_name(plugin)
        if existing is not None:  # pluggy's own error dumps every registered module
            info.status = "failed"
            info.error = f"module {info.target} is already loaded as plugin {existing!r}"
            return
        try:
            self.pm.register(plugin, name=name)
            self._check_hooks(name, plugin)
        except Exception as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            info.status = "failed"
            info.error = _describe(exc)
            return
        registered: list[type[NodeType]] = []
        try:
            for impl in self.pm.hook.register_nodes.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=registered.append)
        except BaseException as exc:  # even SystemExit: one plugin must not end the host
            self.pm.unregister(plugin)
            info.status = "failed"
            info.error = f"register_nodes raised: {_describe(exc)}"
            return
        problems = [p for node_type in registered for p in check_node_type(node_type)]
        problems += [p for nt in registered if (p := _namespace_problem(nt, name))]
        collisions = [
            f"node type {nt.name!r} is already provided by plugin {self.node_owner[nt.name]!r}"
            for nt in registered
            if getattr(nt, "name", None) in self.node_owner
        ]
        if problems or collisions:
            self.pm.unregister(plugin)
            info.status = "failed"
            info.error = "; ".join(problems + collisions)
            return
        executors = self._plugin_executors(name, plugin, info)
        if executors is None:
            return
        for node_type in registered:
            self.node_types[node_type.name] = node_type
            self.node_owner[node_type.name] = name
        for executor in executors:
            self.executors[executor.name] = executor
            self.executor_owner[executor.name] = name
        info.node_types = [nt.name for nt in registered]
        info.status = "loaded"

    def _plugin_executors(self, name: str, plugin: Any, info: PluginInfo) -> list[Any] | None:
        """The executors plugin ``name`` registers, or None (the plugin is unregistered and
        failed) when one is misnamed or taken. Names follow the node rule: the plugin's own
        name or ``<plugin>.<x>`` (``local`` for the core), so a plugin cannot replace another's
        executor."""
        found: list[Any] = []
        try:
            for impl in self.pm.hook.register_executors.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=found.append)
        except BaseException as exc:  # even SystemExit: one plugin must not end the host
            problem = f"register_executors raised: {_describe(exc)}"
        else:
            problem = None
            for executor in found:
                ename = getattr(executor, "name", None)
                allowed = (
                    ename == "local"
                    if name == BUILTIN_PLUGIN
                    else (
                        ename == name or (isinstance(ename, str) and ename.startswith(f"{name}."))
                    )
                )
                if not isinstance(ename, str) or not allowed:
                    problem = (
                        f"executor {ename!r} is not named {name!r} or '{name}.<executor>': a "
                        "plugin registers executors under its own name only"
                    )
                elif ename in self.executor_owner:
                    problem = (
                        f"executor {ename!r} is already provided by plugin "
                        f"{self.executor_owner[ename]!r}"
                    )
        if problem is None:
            return found
        self.pm.unregister(plugin)
        info.status = "failed"
        info.error = problem
        return None

    def _check_hooks(self, name: str, plugin: Any) -> None:
        """Fail loudly on a misspelt hook implementation (pluggy's ``check_pending``, scoped to
        one plugin so the error names it) and on a hook wrapper.

        Why wrappers are refused: the host calls each implementation on its own (``register_nodes``
        per plugin, lifecycle hooks per observer so that one that raises cannot silence the
        others, see ``Engine.notify``); a wrapper is a generator that such a call only creates and
        never runs, so it would be silently ignored."""
        for hook_name in dir(self.pm.hook):
            if hook_name.startswith("_"):
                continue
            caller = getattr(self.pm.hook, hook_name)
            if not isinstance(caller, pluggy.HookCaller):
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin_name != name:
                    continue
                if not caller.has_spec() and not impl.optionalhook:
                    raise PluginError(
                        f"plugin {name!r} implements unknown hook {hook_name!r}; known hooks: "
                        + ", ".join(_hook_names())
                    )
                if impl.hookwrapper or impl.wrapper:
                    raise PluginError(
                        f"plugin {name!r}: {hook_name} is a hook wrapper, which autoglm does not "
                        "support (each implementation is called on its own, so that one observer "
                        "cannot break another); implement the before/after hooks instead"
                    )

    # ------------------------------------------------------------- lookup

    def register_node_type(self, node_type: type[NodeType], plugin: str = "__local__") -> None:
        """Register a node type directly (tests and embedding applications)."""
        problems = check_node_type(node_type)
        if not problems and (plugin != "__local__" or node_type.name.startswith("core.")):
            problems = [p for p in [_namespace_problem(node_type, plugin)] if p]
        if problems:
            raise PluginError("; ".join(problems))
        if node_type.name in self.node_owner and self.node_owner[node_type.name] != plugin:
            raise PluginError(
                f"node type {node_type.name!r} is already provided by plugin "
                f"{self.node_owner[node_type.name]!r}"
            )
        self.node_types[node_type.name] = node_type
        self.node_owner[node_type.name] = plugin
        info = self.plugins.setdefault(
            plugin, PluginInfo(name=plugin, source="local", target=plugin, status="loaded")
        )
        info.node_types.append(node_type.name)

    def get_node_type(self, name: str) -> type[NodeType]:
        """The node type called ``name``, or a ``PluginError`` saying why it is not there."""
        if name in self.node_types:
            return self.node_types[name]
        raise PluginError(self.explain_missing(name))

    def explain_missing(self, name: str) -> str:
        """Why node type ``name`` is not available: which plugin would provide it and its state."""
        prefix = name.split(".", 1)[0]
        info = self.plugins.get(prefix)
        if info is not None and info.status == "failed":
            return f"unknown node type {name!r}: plugin {prefix!r} failed to load: {info.error}"
        if info is not None and info.status in {"blocked", "not selected"}:
            return f"unknown node type {name!r}: plugin {prefix!r} is {info.status}"
        available = ", ".join(sorted(self.node_types)) or "(none)"
        return f"unknown node type {name!r}; available node types: {available}"

    def failed_plugins(self) -> list[PluginInfo]:
        return [info for info in self.plugins.values() if info.status == "failed"]


def _namespace_problem(node_type: type[NodeType], plugin: str) -> str | None:
    """Why ``plugin`` may not register ``node_type``, if it may not: a node type's name must
    start with its plugin's name and a dot (``core.`` only from the core).

    Why: names decide which code a workflow runs; a plugin that could register another's name
    would either make that plugin fail or, loaded first, run its own code in its place."""
    name = getattr(node_type, "name", None)
    if not isinstance(name, str) or name.startswith(f"{plugin}."):
        return None
    return (
        f"node type {name!r} is not named '{plugin}.<node>': a plugin registers node types "
        "under its own name only"
    )


def _hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return sorted(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), marker))


def _version_of(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PluginError):  # the host's own message, without its module path
        return str(exc)
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _import_file(path: Path) -> ModuleType:
    """Import a private plugin file under a unique module name (so workers can re-import it)."""
    module_name = f"autoglm_private_{path.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import plugin file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _import_spec(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module
