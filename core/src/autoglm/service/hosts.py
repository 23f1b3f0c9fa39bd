"""Plugin hosts of the service: which plugins a run may use, and one loaded host per choice.

The operator's start-up selection (``--plugins``, ``--block``, ``--plugins-dir``) is the
ceiling. ``allowed`` narrows it at run time (``PUT /v1/config``), and a request may narrow it
again with its own ``plugins`` list. A request only ever names plugins: folders and module
specs come from the operator, never from a request, so no request can load code of its own.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from autoglm.plugins import BUILTIN_PLUGIN, Host, PluginSelection


class PluginNotAllowed(ValueError):
    """A request named a plugin the service does not allow."""


class HostCache:
    """Loaded hosts by selection (a few distinct selections at most; least recently used go)."""

    def __init__(self, base: PluginSelection, size: int = 16) -> None:
        self.base = base
        self._size = size
        self._lock = threading.Lock()
        self._hosts: OrderedDict[str, Host] = OrderedDict()
        self.base_host = self.get(base)
        self.available = sorted(
            name
            for name, info in self.base_host.plugins.items()
            if info.status == "loaded" and name != BUILTIN_PLUGIN
        )
        self.allowed: list[str] | None = None  # None: everything available

    def reload(self) -> dict[str, list[str]]:
        """Discover and load the plugins again (``POST /v1/plugins/reload``): their modules
        are dropped and imported anew, every cached host goes, and plugins no longer
        installed leave the allowed set. Requests already holding a host keep it. Returns
        what changed: ``added``, ``removed`` and ``upgraded`` (``name: old -> new``)."""
        from autoglm.service.reload import forget_plugin_modules, plugin_modules

        before = {n: i.version for n, i in self.base_host.plugins.items() if i.status == "loaded"}
        targets = [i.target for i in self.base_host.plugins.values() if i.source != "builtin"]
        forget_plugin_modules(plugin_modules(targets))
        with self._lock:
            self._hosts.clear()
        host = Host.load(self.base)
        after = {n: i.version for n, i in host.plugins.items() if i.status == "loaded"}
        with self._lock:
            self._hosts[json.dumps(self.base.to_dict(), sort_keys=True)] = host
        self.base_host = host
        self.available = sorted(n for n in after if n != BUILTIN_PLUGIN)
        if self.allowed is not None:
            self.allowed = [n for n in self.allowed if n in after]
        return {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "upgraded": sorted(
                f"{n}: {before[n]} -> {after[n]}"
                for n in set(before) & set(after)
                if before[n] != after[n]
            ),
        }

    def get(self, selection: PluginSelection) -> Host:
        key = json.dumps(selection.to_dict(), sort_keys=True)
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = Host.load(selection)
                self._hosts[key] = host
                while len(self._hosts) > self._size:
                    self._hosts.popitem(last=False)
            self._hosts.move_to_end(key)
            return host

    def allowed_names(self) -> list[str]:
        return list(self.available if self.allowed is None else self.allowed)

    def set_allowed(self, names: list[str] | None) -> None:
        """Narrow (or with None, reset) the plugins new runs may use."""
        if names is not None:
            unknown = sorted(set(names) - set(self.available) - {BUILTIN_PLUGIN})
            if unknown:
                raise PluginNotAllowed(
                    f"allowed_plugins: {', '.join(unknown)} not available; available: "
                    f"{', '.join(self.available) or '(none)'}"
                )
            names = sorted(set(names) - {BUILTIN_PLUGIN})
        self.allowed = names

    def selection_for(self, requested: list[str] | None) -> PluginSelection:
        """The selection of a new run; raises ``PluginNotAllowed`` for a plugin outside the
        allowed set."""
        allowed = self.allowed_names()
        if requested is None:
            names = allowed
        else:
            refused = sorted(set(requested) - set(allowed) - {BUILTIN_PLUGIN})
            if refused:
                raise PluginNotAllowed(
                    f"plugins: {', '.join(refused)} not allowed by this service; allowed: "
                    f"{', '.join(allowed) or '(none)'}"
                )
            names = sorted(set(requested) - {BUILTIN_PLUGIN})
        if self.allowed is None and requested is None:
            return self.base
        return PluginSelection(
            allow=tuple(names),
            block=self.base.block,
            plugin_dirs=self.base.plugin_dirs,
            modules=self.base.modules,
            strict=self.base.strict,
        )

    def host_for(self, requested: list[str] | None) -> Host:
        return self.get(self.selection_for(requested))
