"""Hot loading: a plugin installed and then upgraded with pip while ``autoglm serve`` runs is
seen by the next run without a restart, while a run started before keeps its version.

A real service subprocess whose import path includes a folder that pip installs into
(``pip install --target``, real wheels built here), real run processes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from core_helpers import run_cli
from wheel_helpers import build_plugin_wheel

PLUGIN = '''
import os
import time

from autoglm import NodeModel, NodeType, hookimpl

VERSION = "{version}"


class Cfg(NodeModel):
    pass


class In(NodeModel):
    wait_for: str = ""  # a file: wait until it exists


class Out(NodeModel):
    version: str


class Version(NodeType):
    """Outputs the version of the module it runs in (read when it ends)."""

    name = "hotver.version"
    Config = Cfg
    Inputs = In
    Outputs = Out

    def execute(self, inputs, context):
        while inputs.wait_for and not os.path.exists(inputs.wait_for):
            time.sleep(0.05)
        return Out(version=VERSION)


@hookimpl
def register_nodes(register):
    register(Version)
'''

FLOW = """
name: hot
inputs:
  wait_for: {type: str, default: ""}
nodes:
  - id: v
    type: hotver.version
    inputs: {wait_for: $inputs.wait_for}
outputs:
  version: $v.version
"""


def _install(tmp: Path, site: Path, version: str) -> None:
    wheel = build_plugin_wheel(
        tmp / f"w{version}",
        "autoglm-hotver",
        version,
        "hotver",
        PLUGIN.replace("{version}", version),
        "hotver",
    )
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    subprocess.run(
        [*pip, "--upgrade", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )


def _wait(client: httpx.Client, run_id: str, until: set[str], timeout: float = 90) -> Any:
    """The run once it, or its node (``node:running``), reached one of ``until``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}").json()
        nodes = {f"node:{n['status']}" for n in run.get("nodes", {}).values()}
        if run["status"] in until or nodes & until:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} never reached {until}: {run}")


def test_plugin_installed_and_upgraded_while_serving(new_server, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    srv = new_server("--max-runs", "2")
    srv.env = {"PYTHONPATH": str(site)}
    srv.start()
    admin = {"Authorization": f"Bearer {srv.keys['admin']}"}
    client = httpx.Client(base_url=srv.url, headers=admin, timeout=30)

    def submit(**inputs: str) -> str:
        answer = client.post("/v1/runs", json={"workflow_yaml": FLOW, "inputs": inputs})
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    # not installed yet: the API refuses the node type
    assert client.post("/v1/runs", json={"workflow_yaml": FLOW}).status_code == 422

    _install(tmp_path, site, "1.0")
    reloaded = client.post("/v1/plugins/reload").json()
    assert reloaded["added"] == ["hotver"]
    gate = tmp_path / "gate"
    first = submit(wait_for=str(gate))
    # its node runs (a run process that loaded before the install hands the run on first)
    _wait(client, first, {"node:running"})

    _install(tmp_path, site, "2.0")
    cli = run_cli(
        "plugins", "--reload", "--url", srv.url, env={"AUTOGLM_API_KEY": srv.keys["admin"]}
    )
    assert cli.returncode == 0, cli.stderr
    assert "upgraded: hotver: 1.0 -> 2.0" in cli.stdout
    refused = run_cli(
        "plugins", "--reload", "--url", srv.url, env={"AUTOGLM_API_KEY": srv.keys["read"]}
    )
    assert refused.returncode != 0  # only an admin reloads

    second = _wait(client, submit(), {"succeeded", "failed"})
    assert second["status"] == "succeeded", second
    assert second["outputs"] == {"version": "2.0"}
    assert second["options"]["plugin_versions"]["hotver"] == "autoglm-hotver 2.0"

    gate.write_text("")  # the run started before the upgrade ends on its own version
    first_run = _wait(client, first, {"succeeded", "failed"})
    assert first_run["status"] == "succeeded", first_run
    assert first_run["outputs"] == {"version": "1.0"}
    assert first_run["options"]["plugin_versions"]["hotver"] == "autoglm-hotver 1.0"
    shown = run_cli("runs", first, env={"AUTOGLM_HOME": str(srv.home)})
    assert "plugin hotver: autoglm-hotver 1.0" in shown.stdout

    # removed: gone from the catalogue after a reload, refused at submission
    for path in site.iterdir():
        if path.name.startswith("autoglm_hotver"):
            shutil.rmtree(path)
        elif path.name == "hotver.py":
            path.unlink()
    assert client.post("/v1/plugins/reload").json()["removed"] == ["hotver"]
    assert client.post("/v1/runs", json={"workflow_yaml": FLOW}).status_code == 422


def test_only_admins_register_environments_and_submissions_only_name_them(
    new_server, tmp_path: Path
) -> None:
    srv = new_server().start()
    as_key = {scope: {"Authorization": f"Bearer {srv.keys[scope]}"} for scope in srv.keys}
    client = httpx.Client(base_url=srv.url, timeout=60)
    body = {"python": sys.executable}
    assert (
        client.put("/v1/environments/here", json=body, headers=as_key["submit"]).status_code == 403
    )
    bad = client.put(
        "/v1/environments/bad", json={"python": "/nonexistent/python"}, headers=as_key["admin"]
    )
    assert bad.status_code == 422 and "no interpreter" in bad.json()["detail"]
    made = client.put("/v1/environments/here", json=body, headers=as_key["admin"])
    assert made.status_code == 200, made.text
    assert "gnn" in made.json()["plugins"]
    listed = client.get("/v1/environments", headers=as_key["read"]).json()
    assert [e["name"] for e in listed] == ["here"]

    flow = "name: e\nnodes:\n  - id: a\n    type: core.noop\n    environment: {env}\n"
    submit = as_key["submit"]
    refused = client.post(
        "/v1/runs", json={"workflow_yaml": flow.format(env="nope")}, headers=submit
    )
    assert refused.status_code == 422
    problem = refused.json()["problems"][0]
    assert problem["node"] == "a" and problem["field"] == "environment" and problem["line"] == 5
    ok = client.post("/v1/runs", json={"workflow_yaml": flow.format(env="here")}, headers=submit)
    assert ok.status_code == 202, ok.text
    run = _wait(
        httpx.Client(base_url=srv.url, headers=as_key["admin"]),
        ok.json()["id"],
        {"succeeded", "failed"},
    )
    assert run["status"] == "succeeded", run
    assert client.delete("/v1/environments/here", headers=as_key["admin"]).status_code == 200
