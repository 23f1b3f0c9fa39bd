"""Plugins reach the service only through the ``register_routes`` hook: their routes are
mounted behind the service's key checks, a router that fails to build or claims a served path
is recorded on its plugin and left out (the service still starts), and the core imports no
plugin module. Against a real server subprocess."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
ROUTE_PLUGINS = REPO / "tests" / "fixtures" / "route_plugins"
CORE = REPO / "core" / "src" / "autoglm"


def test_plugin_routes_are_mounted_and_bad_ones_are_recorded(new_server: Any) -> None:
    server = new_server("--plugins-dir", str(ROUTE_PLUGINS)).start()
    read = {"Authorization": f"Bearer {server.keys['read']}"}
    echo = httpx.get(f"{server.url}/v1/routes-ok/echo", params={"text": "yo"}, headers=read)
    assert echo.status_code == 200 and echo.json() == {"echo": "yo", "key": "test-read"}
    assert httpx.get(f"{server.url}/v1/routes-ok/echo").status_code == 401

    plugins = httpx.get(f"{server.url}/v1/plugins", headers=read).json()
    by_name = {p["name"]: p for p in plugins}
    broken, clash = by_name["routes_broken"], by_name["routes_clash"]
    assert "register_routes failed: RuntimeError: router exploded" in broken["error"]
    assert "POST /v1/runs" in clash["error"] and broken["status"] == clash["status"] == "loaded"
    assert by_name["routes_ok"]["error"] is None

    paths = set(httpx.get(f"{server.url}/openapi.json").json()["paths"])
    assert "/v1/routes-clash/other" not in paths  # a clashing router is left out whole
    assert {"/v1/chat/completions", "/v1/models", "/v1/feedback"} <= paths  # hf, eval
    submit = {"Authorization": f"Bearer {server.keys['submit']}"}
    run = httpx.post(f"{server.url}/v1/runs", json={"workflow": "quick"}, headers=submit)
    assert run.status_code == 202 and "stolen" not in run.text


def test_the_core_imports_no_plugin_module() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(CORE)}: {n}" for n in names if n.startswith("autoglm_")
            ]
    assert not offenders, offenders
