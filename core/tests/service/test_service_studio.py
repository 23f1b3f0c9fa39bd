"""The UI's API: workflow source and graph, validation as one types (the CLI's validator),
saving a named workflow (scopes and the trust policy), a run's graph, and artefacts served with
the read scope from the run's own folder only."""

from __future__ import annotations

import os

import httpx


def _h(server, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys[scope]}"}


def test_me_names_the_key_and_its_scopes(server):
    r = httpx.get(f"{server.url}/v1/me", headers=_h(server, "read,submit"))
    assert r.status_code == 200
    assert r.json()["scopes"] == ["read", "submit"] and r.json()["name"] == "test-read,submit"
    assert httpx.get(f"{server.url}/v1/me").status_code == 401


def test_workflow_source_and_graph(server):
    r = httpx.get(f"{server.url}/v1/workflows/quick", headers=_h(server, "read"))
    body = r.json()
    assert r.status_code == 200 and body["valid"] and "core.noop" in body["yaml"]
    nodes = {n["id"]: n for n in body["graph"]["nodes"]}
    assert nodes["a"]["plugin"] == "core" and nodes["inputs"]["kind"] == "inputs"
    edges = {(e["source"], e["target"], e["port"]) for e in body["graph"]["edges"]}
    assert ("inputs", "b", "value") in edges and ("a", "outputs", "five") in edges
    assert body["mermaid"].startswith("flowchart")
    broken = httpx.get(f"{server.url}/v1/workflows/broken", headers=_h(server, "read")).json()
    assert not broken["valid"] and broken["graph"]["nodes"][0]["id"] == "a"
    assert broken["problems"][0]["node"] == "a"
    r = httpx.get(f"{server.url}/v1/workflows/nosuch", headers=_h(server, "read"))
    assert r.status_code == 404


def test_validate_reports_located_problems_and_draws_what_it_can(server, inline_workflow):
    url, h = f"{server.url}/v1/workflows/validate", _h(server, "read")
    ok = httpx.post(url, json={"yaml": inline_workflow}, headers=h).json()
    assert ok["valid"] and ok["data"]["name"] == "inline"
    bad_config = inline_workflow.replace("config: {value: [1, 2, 3]}", "config: {nope: 1}")
    bad = httpx.post(url, json={"yaml": bad_config}, headers=h).json()
    assert not bad["valid"]
    assert any(
        p["node"] == "c" and (p["field"] or "").startswith("config") for p in bad["problems"]
    )
    assert bad["graph"]["nodes"][0]["id"] == "c"  # drawn although invalid
    syntax = httpx.post(url, json={"yaml": "name: x\nnodes: [\n"}, headers=h).json()
    assert not syntax["valid"] and syntax["problems"][0]["line"]
    bomb = (
        "a: &a ["
        + ",".join(["x"] * 10)
        + "]\n"
        + "".join(f"b{i}: &b{i} [*a, *a]\n" for i in range(150))
    )
    refused = httpx.post(url, json={"yaml": bomb}, headers=h).json()
    assert not refused["valid"] and "alias" in refused["problems"][0]["message"]
    assert httpx.post(url, json={"yaml": "x"}).status_code == 401


def test_save_needs_submit_and_admin_to_replace(server, inline_workflow):
    url = f"{server.url}/v1/workflows/saved-one"
    body = {"yaml": inline_workflow}
    assert httpx.put(url, json=body, headers=_h(server, "read")).status_code == 403
    r = httpx.put(url, json=body, headers=_h(server, "submit"))
    assert r.status_code == 200, r.text
    assert (server.workflows / "saved-one.yaml").read_text() == inline_workflow
    again = httpx.put(url, json=body, headers=_h(server, "submit"))
    assert again.status_code == 403 and "admin" in again.json()["detail"]
    assert httpx.put(url, json=body, headers=_h(server, "admin")).status_code == 200
    invalid = httpx.put(
        f"{server.url}/v1/workflows/other",
        json={"yaml": inline_workflow.replace("core.const", "nosuch.node")},
        headers=_h(server, "admin"),
    )
    assert invalid.status_code == 422 and invalid.json()["problems"][0]["node"] == "c"
    assert not (server.workflows / "other.yaml").exists()
    r = httpx.put(f"{server.url}/v1/workflows/..%2Fescape", json=body, headers=_h(server, "admin"))
    assert r.status_code in (404, 422)
    assert not (server.workflows.parent / "escape.yaml").exists()
    # the saved workflow runs by name
    r = httpx.post(
        f"{server.url}/v1/runs", json={"workflow": "saved-one"}, headers=_h(server, "submit")
    )
    assert r.status_code == 202


def test_save_applies_the_trust_policy_to_non_admin_keys(server):
    text = """
name: reads-outside
nodes:
  - id: ev
    type: gnn.evaluate
    inputs: {graph: /etc/passwd, config: {}}
"""
    r = httpx.put(
        f"{server.url}/v1/workflows/reads-outside",
        json={"yaml": text},
        headers=_h(server, "submit"),
    )
    assert r.status_code == 422 and "trust policy" in r.json()["detail"]
    assert not (server.workflows / "reads-outside.yaml").exists()


def test_run_graph_and_confined_artifacts(server, tmp_path):
    r = httpx.post(
        f"{server.url}/v1/runs", json={"workflow": "quick"}, headers=_h(server, "read,submit")
    )
    run_id = r.json()["id"]
    graph = httpx.get(f"{server.url}/v1/runs/{run_id}/graph", headers=_h(server, "read")).json()
    assert {n["id"] for n in graph["graph"]["nodes"]} >= {"a", "b"}
    folder = server.home / "artifacts" / run_id / "search"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<h1>report</h1>")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, folder / "leak.txt")
    base = f"{server.url}/v1/runs/{run_id}/artifacts"
    listed = httpx.get(base, headers=_h(server, "read")).json()
    assert [a["path"] for a in listed] == ["search/report.html"]
    assert listed[0]["media_type"] == "text/html"
    r = httpx.get(f"{base}/search/report.html", headers=_h(server, "read"))
    assert r.status_code == 200 and r.text == "<h1>report</h1>"
    assert r.headers["content-security-policy"] == "sandbox allow-scripts"
    assert httpx.get(f"{base}/search/report.html").status_code == 401
    for path in ("search/leak.txt", "../../runs.sqlite", "search/..%2F..%2F..%2Fkeys.sqlite"):
        assert httpx.get(f"{base}/{path}", headers=_h(server, "read")).status_code == 404
    assert (
        httpx.get(f"{server.url}/v1/runs/nosuch/artifacts", headers=_h(server, "read")).status_code
        == 404
    )


def test_ui_page_is_served_with_a_strict_policy(server):
    r = httpx.get(f"{server.url}/ui")
    assert r.status_code == 200 and "cytoscape.min.js" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    js = httpx.get(f"{server.url}/ui/static/vendor/cytoscape.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert httpx.get(f"{server.url}/ui/static/vendor/cytoscape.LICENSE").status_code == 200
    assert httpx.get(f"{server.url}/ui/static/../app.py").status_code == 404
