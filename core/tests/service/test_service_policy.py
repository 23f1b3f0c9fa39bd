"""Issue 11's findings about files, code, secrets, URLs and writes, against a real server with
its default policy for a submit-only key: each is refused with a 422 naming node, field and
rule, or (for a value only known at run time) the run fails with the same message; a file's
content never comes back. Admin keys and a widened policy still run what they are allowed."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

SECRET = "TOP-SECRET-CONTENT"


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("policy")
    allowed, outside = tmp / "allowed", tmp / "outside"
    (outside / "kb").mkdir(parents=True)
    allowed.mkdir()
    (outside / "shadow.csv").write_text(f"text,label\n{SECRET},pos\nother,neg\n")
    (outside / "kb" / "passwd").write_text(SECRET)
    (allowed / "ok.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    return {"tmp": tmp, "allowed": allowed, "outside": outside}


def _conftest(request: pytest.FixtureRequest) -> Any:
    """This folder's conftest module (its ``make_server``), found among pytest's plugins:
    one server for the whole module saves a start per test."""
    here = Path(__file__).with_name("conftest.py")
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "") == here:
            return plugin
    raise LookupError(here)


@pytest.fixture(scope="module")
def server(places: dict[str, Path], request: pytest.FixtureRequest) -> Iterator[Any]:
    """A service whose policy for non-admin keys adds one input root to the defaults."""
    config = places["tmp"] / "service.yaml"
    config.write_text(yaml.safe_dump({"policy": {"input_roots": [str(places["allowed"])]}}))
    srv = _conftest(request).make_server(
        places["tmp"] / "srv", "--config", str(config), "--max-runs", "2"
    )
    # a secret to steal, and hub access on (offline mode would let any model name pass)
    srv.env = {"SECRET_DB_PASSWORD": SECRET, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}
    (srv.workflows / "kb.yaml").write_text(
        "name: kb\ninputs:\n  kb: {type: str}\nnodes:\n"
        "  - id: index\n    type: text.index\n    inputs: {folder: $inputs.kb}\n"
    )
    yield srv.start()
    srv.stop()


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP listener that records every request's Authorization header."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1", seen
    httpd.shutdown()


def submit(server: Any, body: dict[str, Any], scope: str = "submit") -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.keys[scope]}"}
    return httpx.post(f"{server.url}/v1/runs", json=body, headers=headers, timeout=30)


def inline(*nodes: str) -> dict[str, Any]:
    return {"workflow_yaml": "name: probe\nnodes:\n" + "".join(nodes)}


def node(node_id: str, node_type: str, config: dict | None = None, inputs: dict | None = None):
    spec = {"id": node_id, "type": node_type}
    if config:
        spec["config"] = config
    if inputs:
        spec["inputs"] = inputs
    return yaml.safe_dump([spec], sort_keys=False)


def wait_run(server: Any, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.keys['read']}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{server.url}/v1/runs/{run_id}", headers=headers, timeout=10).json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def refused(response: httpx.Response, *expected: tuple[str, str, str]) -> None:
    """A 422 whose problems are exactly ``expected`` (node, field, rule), content-free."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == "policy_violation"
    assert "refused by the trust policy" in body["detail"]
    found = {
        (p["node"], p["field"], rule)
        for p in body["problems"]
        for rule in [p["message"].split("trust policy rule '")[1].split("'")[0]]
    }
    assert found == set(expected)
    assert SECRET not in response.text


def test_reading_any_folder_or_file_is_refused(server: Any, places: dict[str, Path]) -> None:
    index = node("idx", "text.index", {"patterns": ["passwd", "shadow"]}, {"folder": "/etc"})
    refused(submit(server, inline(index)), ("idx", "inputs.folder", "input_outside_roots"))
    by_input = submit(server, {"workflow": "kb", "inputs": {"kb": str(places["outside"])}})
    refused(by_input, ("index", "inputs.folder", "input_outside_roots"))
    traversal = str(places["allowed"] / ".." / ".." / places["tmp"].name / "outside/shadow.csv")
    for path in (str(places["outside"] / "shadow.csv"), traversal):
        load = node("load", "prompt.load", {"path": path})
        refused(submit(server, inline(load)), ("load", "config.path", "input_outside_roots"))
    escape = places["allowed"] / "escape"
    if not escape.is_symlink():
        escape.symlink_to(places["outside"])
    linked = node("load", "prompt.load", {"path": str(places["allowed"] / "escape/shadow.csv")})
    refused(submit(server, inline(linked)), ("load", "config.path", "input_outside_roots"))


def test_request_chosen_code_and_pickles_are_refused(server: Any, places: dict[str, Path]) -> None:
    model = str(places["outside"])
    generate = node("gen", "hf.generate", {"model": model, "trust_remote_code": True})
    refused(
        submit(server, inline(generate)),
        ("gen", "config.model", "input_outside_roots"),
        ("gen", "config.trust_remote_code", "code_loading_refused"),
    )
    planetoid = node("cora", "gnn.planetoid", {"root": str(places["outside"])})
    refused(submit(server, inline(planetoid)), ("cora", "config.root", "unpickling_refused"))
    elsewhere = inline(node("c", "core.const", {"value": 1}))
    elsewhere["workflow_yaml"] = (
        "executor: {name: dask, options: {address: 'tcp://127.0.0.1:9'}}\n"
        + elsewhere["workflow_yaml"]
    )
    refused(submit(server, elsewhere), ("(workflow)", "executor", "executor_not_allowed"))
    private = {**inline(node("c", "core.const", {"value": 1})), "plugins": ["./evil_plugins"]}
    response = submit(server, private)
    assert response.status_code == 422
    assert "private_plugins_refused" in response.json()["detail"]


def test_secrets_are_not_sent_to_any_url(server: Any, listener: tuple[str, list[str]]) -> None:
    url, seen = listener
    config = {"model": "served", "base_url": url, "api_key_env": "SECRET_DB_PASSWORD"}
    probe = inline(node("gen", "hf.generate", config, {"prompt": "hi"}))
    refused(
        submit(server, probe),
        ("gen", "config.model", "hub_model_refused"),
        ("gen", "config.base_url", "url_not_allowed"),
        ("gen", "config.api_key_env", "secret_not_allowed"),
    )
    time.sleep(0.2)
    assert seen == []  # nothing reached the listener, least of all the secret
    # the finding, reproduced where it is allowed: an admin key's run is trusted
    run = wait_run(server, submit(server, probe, scope="admin").json()["id"])
    assert f"Bearer {SECRET}" in seen, run


def test_writes_outside_the_artefacts_are_refused(server: Any) -> None:
    keys = server.home / "keys.sqlite"
    tables = sqlite3.connect(keys).execute("select name from sqlite_master").fetchall()
    index = node("idx", "text.index", {"index_dir": "/tmp/anywhere"}, {"folder": "kb"})
    refused(
        submit(server, inline(index)),
        ("idx", "config.index_dir", "output_outside_roots"),
        ("idx", "inputs.folder", "input_outside_roots"),
    )
    labels = node(
        "wl",
        "eval.weak_labels",
        {
            "store": str(keys),
            "rules": [{"kind": "keyword", "label": "pos", "keywords": ["good"]}],
            "classes": ["pos", "neg"],
        },
    )
    refused(submit(server, inline(labels)), ("wl", "config.store", "output_outside_roots"))
    assert sqlite3.connect(keys).execute("select name from sqlite_master").fetchall() == tables


def test_a_path_known_only_at_run_time_fails_the_run(server: Any, places: dict[str, Path]) -> None:
    relay = inline(
        node("c", "core.const", {"value": str(places["outside"] / "kb")}),
        node("idx", "text.index", {"patterns": ["passwd"]}, {"folder": "$c.value"}),
    )
    response = submit(server, relay)
    assert response.status_code == 202, response.text
    run = wait_run(server, response.json()["id"])
    assert run["status"] == "failed"
    error = run["nodes"]["idx"]["error"]
    assert "node 'idx' field 'inputs.folder'" in error
    assert "'input_outside_roots'" in error
    assert SECRET not in str(run)


def test_admin_keys_and_the_configured_roots_are_allowed(
    server: Any, places: dict[str, Path]
) -> None:
    inside = inline(node("load", "prompt.load", {"path": str(places["allowed"] / "ok.csv")}))
    run = wait_run(server, submit(server, inside).json()["id"])
    assert run["status"] == "succeeded", run["error"]
    outside = inline(node("load", "prompt.load", {"path": str(places["outside"] / "shadow.csv")}))
    accepted = submit(server, outside, scope="admin")
    assert accepted.status_code == 202, accepted.text
    run = wait_run(server, accepted.json()["id"])
    assert run["status"] == "succeeded", run["error"]
