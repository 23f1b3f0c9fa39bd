"""Routes that plugins contribute to the service through the ``register_routes`` hook.

Why a hook: the service must not import plugin internals (the chat endpoint belongs to
``autoglm-hf``, the feedback endpoint to ``autoglm-eval``). Each loaded plugin of the service's
start-up host is asked, on its own, for its routers, in the manner of llm's
``register_commands``. A plugin whose hook raises, registers something that is not an
``APIRouter``, or claims a method and path that is already served (``/v1/runs``, another
plugin's route) is recorded on that plugin like a load error and mounted not at all: the
service starts without it, and ``GET /v1/plugins`` shows why.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from autoglm.plugins import Host

log = structlog.get_logger("autoglm.service")

HOOK = "register_routes"


def _routes_of(router: APIRouter) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


def _served(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        methods = getattr(route, "methods", None) or {"*"}
        found |= {(method, getattr(route, "path", "")) for method in methods}
    return found


def _routers_of(host: Host, name: str) -> list[Any]:
    """Call one plugin's ``register_routes`` through pluggy (only that plugin's
    implementation) and return what it registered."""
    plugin = host.pm.get_plugin(name)
    if plugin is None:
        return []
    others = [p for p in host.pm.get_plugins() if p is not plugin]
    caller = host.pm.subset_hook_caller(HOOK, remove_plugins=others)
    registered: list[Any] = []
    caller(register=registered.append)
    return registered


def include_plugin_routes(app: FastAPI, host: Host) -> dict[str, list[str]]:
    """Mount every loaded plugin's routers on ``app``; returns the mounted paths by plugin.

    A plugin's failure is written to its ``PluginInfo.error`` (status stays ``loaded``: its
    node types still work) and logged, never raised."""
    mounted: dict[str, list[str]] = {}
    for name, info in sorted(host.plugins.items()):
        if info.status != "loaded":
            continue
        try:
            routers = _routers_of(host, name)
            wrong = [r for r in routers if not isinstance(r, APIRouter)]
            if wrong:
                raise TypeError(f"register() expects a fastapi.APIRouter, got {wrong[0]!r}")
            claimed = set().union(*(_routes_of(r) for r in routers)) if routers else set()
            clash = sorted(claimed & _served(app))
            if clash:
                raise ValueError(
                    "routes already served by the service or another plugin: "
                    + ", ".join(f"{method} {path}" for method, path in clash)
                )
        except Exception as exc:
            error = f"{HOOK} failed: {type(exc).__name__}: {exc}"
            info.error = f"{info.error}; {error}" if info.error else error
            log.warning("plugin routes left out", plugin=name, error=error)
            continue
        for router in routers:
            app.include_router(router)
        if claimed:
            mounted[name] = sorted({path for _, path in claimed})
    return mounted
