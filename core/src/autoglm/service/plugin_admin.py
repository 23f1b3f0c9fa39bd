"""Admin routes for hot loading and version isolation.

* ``POST /v1/plugins/reload`` (admin): rediscover the plugins in the API process, whose
  catalogue validates submissions (run processes notice changes by themselves before each
  run; see ``service/reload.py`` for why the two differ).
* ``GET /v1/environments`` (read), ``PUT /v1/environments/{name}`` and ``DELETE`` (admin):
  the Python environments nodes may name (``environment: NAME``). Only an admin registers
  one: it names an interpreter the service will execute, so a submitter may only *name* a
  registered environment, never give a path.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi import Path as PathParam
from pydantic import BaseModel

from autoglm.service.auth import require
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.keys import ApiKey
from autoglm.service.schemas import PluginReload

EnvName = PathParam(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$", description="A name.")


class EnvironmentBody(BaseModel):
    """An interpreter with autoglm installed (``<venv>/bin/python``), on the service's host."""

    python: str


class EnvironmentEntry(BaseModel):
    name: str
    python: str
    autoglm: str | None = None
    api_versions: list[int] = []
    plugins: dict[str, dict[str, Any]] = {}
    error: str | None = None


def _entry(name: str, python: str) -> EnvironmentEntry:
    from autoglm.environments import EnvironmentUnavailable, describe

    try:
        info = describe(python)
    except EnvironmentUnavailable as exc:
        return EnvironmentEntry(name=name, python=python, error=str(exc))
    return EnvironmentEntry(
        name=name,
        python=python,
        autoglm=info.get("autoglm"),
        api_versions=info.get("api_versions", []),
        plugins=info.get("plugins", {}),
    )


def admin_routes(app: FastAPI, state: Any) -> None:
    @app.post(
        "/v1/plugins/reload",
        response_model=PluginReload,
        responses=error_responses(401, 403),
        tags=["catalogue"],
    )
    def reload_plugins(_key: ApiKey = require("admin")) -> PluginReload:
        """Rediscover installed plugins without a restart; runs in flight are not touched."""
        changed = state.hosts.reload()
        state.pool.wake()
        return PluginReload(**changed)

    @app.get(
        "/v1/environments",
        response_model=list[EnvironmentEntry],
        responses=error_responses(401, 403),
        tags=["catalogue"],
    )
    def list_environments(_key: ApiKey = require("read")) -> list[EnvironmentEntry]:
        """Registered environments, each with its plugins' versions."""
        from autoglm.environments import load_registry

        return [_entry(n, p) for n, p in sorted(load_registry().items())]

    @app.put(
        "/v1/environments/{name}",
        response_model=EnvironmentEntry,
        responses=error_responses(401, 403, 422),
        tags=["catalogue"],
    )
    def register_environment(
        body: EnvironmentBody, name: str = EnvName, _key: ApiKey = require("admin")
    ) -> EnvironmentEntry:
        """Register (or replace) an environment; refused if the interpreter cannot describe
        itself (no autoglm there)."""
        from autoglm.environments import EnvironmentUnavailable, register

        try:
            register(name, body.python)
        except EnvironmentUnavailable as exc:
            raise ApiError(422, str(exc)) from None
        return _entry(name, str(body.python))

    @app.delete(
        "/v1/environments/{name}",
        responses=error_responses(401, 403, 404, 422),
        tags=["catalogue"],
    )
    def remove_environment(name: str = EnvName, _key: ApiKey = require("admin")) -> dict:
        from autoglm.environments import unregister

        if not unregister(name):
            raise ApiError(404, f"no environment {name!r}")
        return {"removed": name}
