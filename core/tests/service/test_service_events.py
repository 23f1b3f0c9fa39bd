"""The run event stream: ``GET /v1/runs/{id}/events`` (SSE, resumable), the SDK's
``watch`` (sync and async), and ``autoglm runs RUN_ID --follow`` (local store and service)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from autoglm.client import AsyncClient, Client, Forbidden, NotFound
from autoglm.client._sse import SseParser

PROGRESS = """
name: progress
nodes:
  - id: first
    type: core.const
    config: {value: 1}
  - id: nap
    type: core.sleep
    config: {seconds: 0.6}
    inputs: {value: $first.value}
  - id: never
    type: core.const
    config: {value: 2}
    when: "first.value == 3"
outputs:
  v: $nap.value
"""


@pytest.fixture(scope="module")
def server(module_server):
    """One service for the module, with the private ``chatty`` node that reports progress."""
    plugins = Path(__file__).with_name("event_plugins")
    return module_server("--max-runs", "4", "--plugins-dir", str(plugins)).start()


def _headers(server, scope="read,submit"):
    return {"Authorization": f"Bearer {server.keys[scope]}"}


def _submit(server, yaml_text=PROGRESS) -> str:
    r = httpx.post(
        f"{server.url}/v1/runs",
        json={"workflow_yaml": yaml_text, "use_cache": False},
        headers=_headers(server),
    )
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _raw_events(server, run_id, last_event_id=None, scope="read"):
    headers = _headers(server, scope)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    parser, events = SseParser(), []
    with httpx.stream(
        "GET", f"{server.url}/v1/runs/{run_id}/events", headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            events.extend(parser.feed(line))
    return events


def test_stream_shows_each_node_state_in_order_and_ends(server):
    run_id = _submit(server)
    events = _raw_events(server, run_id)
    assert events[-1].kind == "end" and events[-1].data["status"] == "succeeded"
    states = [(e.data["node_id"], e.data["status"]) for e in events if e.kind == "node"]
    assert ("nap", "running") in states and ("nap", "succeeded") in states
    assert states.index(("nap", "running")) < states.index(("nap", "succeeded"))
    assert ("never", "skipped") in states
    runs = [e.data["status"] for e in events if e.kind == "run"]
    assert runs[-1] == "succeeded"
    ids = [e.id for e in events]
    assert all(ids) and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("."))))


def test_resume_from_last_event_id_sends_only_what_changed_since(server):
    # ``first`` ends 2.5 s before ``nap``: more than the resume margin (2 s)
    run_id = _submit(server, PROGRESS.replace("seconds: 0.6", "seconds: 2.5"))
    full = _raw_events(server, run_id)
    tail = _raw_events(server, run_id, last_event_id=full[-1].id)
    nodes = {e.data["node_id"]: e.data["status"] for e in tail if e.kind == "node"}
    assert "first" not in nodes  # the client had it, long before
    assert nodes.get("nap", "succeeded") == "succeeded"  # current states only, never stale
    assert tail[-1].kind == "end"
    # garbage ids are read as "from the start", never an error
    again = _raw_events(server, run_id, last_event_id="not-an-id")
    assert {e.data["node_id"] for e in again if e.kind == "node"} == {"first", "nap", "never"}


def test_scopes_and_unknown_runs(server):
    run_id = _submit(server)
    r = httpx.get(f"{server.url}/v1/runs/{run_id}/events")
    assert r.status_code == 401
    r = httpx.get(f"{server.url}/v1/runs/{run_id}/events", headers=_headers(server, "submit"))
    assert r.status_code == 403
    r = httpx.get(f"{server.url}/v1/runs/nosuchrun/events", headers=_headers(server, "read"))
    assert r.status_code == 404
    with Client(server.url, api_key=server.keys["submit"]) as client, pytest.raises(Forbidden):
        list(client.watch(run_id))
    with Client(server.url, api_key=server.keys["read"]) as client, pytest.raises(NotFound):
        list(client.watch("nosuchrun"))


def test_sdk_watch_sync_and_async_see_the_same_run(server):
    run_id = _submit(server)
    with Client(server.url, api_key=server.keys["read"]) as client:
        events = list(client.watch(run_id))
    assert events[-1].kind == "end" and events[-1].data["status"] == "succeeded"
    sync_states = {(e.data["node_id"], e.data["status"]) for e in events if e.kind == "node"}

    async def watch_async():
        async with AsyncClient(server.url, api_key=server.keys["read"]) as client:
            return [e async for e in client.watch(run_id)]

    async_events = asyncio.run(watch_async())
    final = {(e.data["node_id"], e.data["status"]) for e in async_events if e.kind == "node"}
    assert final <= sync_states and ("nap", "succeeded") in final


def test_many_watchers_of_one_run_share_one_poller(server):
    run_id = _submit(server)

    async def many():
        async with AsyncClient(server.url, api_key=server.keys["read"]) as client:

            async def one():
                return [e async for e in client.watch(run_id)]

            return await asyncio.gather(*(one() for _ in range(20)))

    results = asyncio.run(many())
    assert all(r[-1].kind == "end" and r[-1].data["status"] == "succeeded" for r in results)


def test_cli_follow_local_store_and_service(server):
    run_id = _submit(server, PROGRESS.replace("seconds: 0.6", "seconds: 2"))
    base = [sys.executable, "-m", "autoglm.cli", "runs", run_id, "--follow"]
    local = subprocess.run(
        [*base, "--home", str(server.home)], capture_output=True, text=True, timeout=60
    )
    assert local.returncode == 0, local.stderr
    assert "node nap: running" in local.stdout and "run ended: succeeded" in local.stdout
    remote = subprocess.run(
        [*base, "--url", server.url, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "AUTOGLM_API_KEY": server.keys["read"]},
    )
    assert remote.returncode == 0, remote.stderr
    assert '"event": "end"' in remote.stdout.splitlines()[-1]
    failed = subprocess.run(
        [*base[:4], "nosuchrun", "--follow", "--home", str(server.home)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and "no run 'nosuchrun'" in failed.stderr


CHATTY = """
name: chatty
nodes:
  - id: count
    type: chatty.steps
    config: {steps: 5, pause: 0.3}
"""


def test_progress_and_log_lines_arrive_live_and_resume_exactly_once(server):
    srv = server
    run_id = _submit(srv, CHATTY)
    events = _raw_events(srv, run_id)
    progress = [e.data for e in events if e.kind == "progress"]
    logs = [e.data["line"] for e in events if e.kind == "log" and e.data["node_id"] == "count"]
    assert progress and progress[-1]["completed"] == 5 and progress[-1]["total"] == 5
    assert progress[-1]["message"] == "step 5"
    assert [line for line in logs if line.startswith("step done")] == [
        f"step done step={i}" for i in range(1, 6)
    ]
    # progress came while the node ran, before its end
    kinds = [(e.kind, e.data.get("status")) for e in events]
    assert kinds.index(("progress", None)) < kinds.index(("node", "succeeded"))
    # resuming from the middle sends each later feed line once, and none before
    middle = next(e for e in events if e.kind == "log" and e.data["line"].endswith("step=2"))
    tail = _raw_events(srv, run_id, last_event_id=middle.id)
    later = [e.data["line"] for e in tail if e.kind == "log" and e.data["line"].startswith("step")]
    assert later == [f"step done step={i}" for i in range(3, 6)]
