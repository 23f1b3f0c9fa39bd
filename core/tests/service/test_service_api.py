"""The service through the SDK and raw HTTP: the run life cycle, validation, auth, bodies,
request ids, catalogue, config and feedback, against a real server on loopback."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest
from core_helpers import wait_until

from autoglm.client import (
    AsyncClient,
    AuthError,
    Client,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    WaitTimeout,
)
from autoglm.service.keys import KeyStore


@pytest.fixture
def admin(server: Any) -> Client:
    with Client(server.url, server.keys["admin"], retries=1, backoff=0.05) as client:
        yield client


def test_run_life_cycle(server: Any, admin: Client, inline_workflow: str) -> None:
    accepted = admin.submit("quick", inputs={"x": 7}, labels={"team": "qa"})
    assert accepted.status == "queued" and accepted.workflow_name == "quick"
    run = admin.wait(accepted.id, timeout=20)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"five": 5, "x": 7}
    assert {n: (r.status, r.attempts) for n, r in run.nodes.items()} == {
        "a": ("succeeded", 1),
        "b": ("succeeded", 1),
    }
    assert run.labels["team"] == "qa" and run.labels["request_id"] == accepted.request_id
    same = admin.get_run(accepted.id)
    assert same.id == run.id and same.inputs == {"x": 7}
    page = admin.list_runs("succeeded", limit=1)
    assert page.total >= 1 and len(page.items) == 1 and page.items[0].status == "succeeded"
    assert admin.list_runs("failed").total == 0
    finished = admin.run(workflow_yaml=inline_workflow, timeout=20)
    assert finished.status == "succeeded" and finished.outputs == {"value": [1, 2, 3]}


def test_async_client(server: Any) -> None:
    async def scenario() -> tuple[str, int]:
        async with AsyncClient(server.url, server.keys["read,submit"]) as client:
            accepted = await asyncio.gather(*(client.submit("quick") for _ in range(3)))
            runs = await asyncio.gather(*(client.wait(a.id, timeout=20) for a in accepted))
            page = await client.list_runs(limit=2)
            with pytest.raises(NotFound):
                await client.get_run("no-such-run")
            return runs[0].status, len(page.items)

    assert asyncio.run(scenario()) == ("succeeded", 2)


def test_invalid_workflows_answer_located_problems(admin: Client) -> None:
    bad = (
        "name: bad\nnodes:\n  - id: a\n    type: core.const\n    config: {nope: 1}\n"
        "  - id: b\n    type: nosuch.thing\n    inputs: {value: $missing.value}\n"
    )
    with pytest.raises(ValidationFailed) as err:
        admin.submit(workflow_yaml=bad)
    problems = err.value.problems
    assert err.value.status == 422 and err.value.kind == "invalid_workflow"
    assert any(p.node == "a" and p.line == 5 and p.field == "config.nope" for p in problems)
    assert any(p.node == "b" and "nosuch.thing" in p.message for p in problems), problems
    with pytest.raises(ValidationFailed) as err:
        admin.submit("quick", inputs={"x": "seven", "y": 1})
    fields = {p.field for p in err.value.problems}
    assert {"inputs.x", "inputs.y"} <= fields
    with pytest.raises(NotFound, match="quick"):
        admin.submit("../quick")
    with pytest.raises(ValidationFailed, match="aliases"):
        bomb = "l0: &l0 [x, x, x]\n" + "".join(
            f"l{i + 1}: &l{i + 1} [*l{i}, *l{i}]\n" for i in range(60)
        )
        admin.submit(workflow_yaml=bomb)


def test_plugins_outside_the_allowed_set_are_refused(admin: Client) -> None:
    plugins = admin.list_plugins()
    core = next(p for p in plugins if p.name == "core")
    assert {"core.const", "core.noop", "core.sleep"} <= {t.name for t in core.node_types}
    other = next(p for p in plugins if p.name != "core" and p.node_types)
    foreign = f"name: f\nnodes:\n  - id: x\n    type: {other.node_types[0].name}\n"
    with pytest.raises(ValidationFailed) as err:
        admin.submit(workflow_yaml=foreign, plugins=[])
    assert "not selected" in str(err.value), err.value
    with pytest.raises(ValidationFailed) as err:
        admin.submit("quick", plugins=["not-installed"])
    assert err.value.kind == "plugin_not_allowed"
    config = admin.update_config(allowed_plugins=[])
    try:
        assert config.allowed_plugins == []
        with pytest.raises(ValidationFailed):
            admin.submit(workflow_yaml=foreign)
        with pytest.raises(ValidationFailed, match="not allowed"):
            admin.submit("quick", plugins=[other.name])
        assert admin.run("quick", timeout=20).status == "succeeded"  # core is always there
        assert not next(p for p in admin.list_plugins() if p.name == other.name).allowed
    finally:
        assert admin.update_config(reset_allowed_plugins=True).allowed_plugins is None


def test_cancel_running_and_queued_runs(server: Any, admin: Client) -> None:
    running = admin.submit("slow")
    wait_until(lambda: admin.get_run(running.id).nodes.get("nap", None), timeout=10)
    assert admin.cancel(running.id).cancel_requested
    finished = admin.wait(running.id, timeout=10)
    assert finished.status == "cancelled"
    assert finished.nodes["quick"].status == "succeeded"
    with pytest.raises(Conflict):
        admin.cancel(running.id)
    admin.update_config(max_concurrent_runs=0)
    try:
        queued = admin.submit("quick")
        time.sleep(0.6)
        assert admin.get_run(queued.id).status == "queued"
        other = Client(server.url, server.keys["submit"])
        with other, pytest.raises(Forbidden, match="another key"):
            other.cancel(queued.id)
        assert admin.cancel(queued.id).status == "cancelled"
    finally:
        admin.update_config(max_concurrent_runs=4)
    with pytest.raises(WaitTimeout):
        admin.wait(admin.submit("slow").id, timeout=0.3)


def test_auth_failures_give_no_data(server: Any) -> None:
    url = f"{server.url}/v1/runs"
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Bearer " + server.keys["admin"][:-2] + "xx"},
        {"X-API-Key": "agk_000000000000_secret"},
    ):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401, headers
        assert set(response.json()) == {"detail", "type", "request_id", "problems"}
        assert "items" not in response.text
    assert httpx.get(url, headers={"X-API-Key": server.keys["read"]}).status_code == 200
    with Client(server.url, server.keys["read"]) as reader:
        reader.list_runs()
        with pytest.raises(Forbidden, match="submit"):
            reader.submit("quick")
        with pytest.raises(Forbidden, match="admin"):
            reader.get_config()
    with Client(server.url, server.keys["submit"]) as submitter:
        with pytest.raises(Forbidden):
            submitter.list_runs()
        with pytest.raises(Forbidden):
            submitter.update_config(max_concurrent_runs=1)
    store = KeyStore.in_home(server.home)
    key, token = store.create("short-lived", ["read"])
    with Client(server.url, token) as client:
        client.list_runs()
        assert store.revoke(key.id)
        with pytest.raises(AuthError) as err:
            client.list_runs()
        assert err.value.status == 401
    with Client(server.url, None) as anonymous, pytest.raises(AuthError):
        anonymous.list_workflows()


def test_oversized_and_malformed_bodies(server: Any, admin: Client) -> None:
    with pytest.raises(PayloadTooLarge):
        admin.submit(workflow_yaml="#" * (2 * 1024 * 1024))

    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    headers = {"Authorization": f"Bearer {server.keys['admin']}"}
    streamed = httpx.post(f"{server.url}/v1/runs", content=chunks(), headers=headers)
    assert streamed.status_code == 413, streamed.text
    url = f"{server.url}/v1/runs"
    for body, field in (
        (b"{not json", None),
        (b'{"workflow": 12}', "body.workflow"),
        (b'{"workflow": "quick", "extra": 1}', "body.extra"),
        (b'{"workflow": "quick", "workflow_yaml": "x"}', None),
        (b"[]", None),
    ):
        response = httpx.post(
            url, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, (body, response.text)
        if field:
            assert field in [p["field"] for p in response.json()["problems"]], response.text
    with pytest.raises(ValidationFailed, match="labels"):
        admin.submit("quick", labels={f"k{i}": "v" for i in range(17)})
    response = httpx.get(f"{server.url}/v1/runs?status=bogus&limit=0", headers=headers)
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["problems"]} == {"query.status", "query.limit"}


def test_request_id_travels_to_the_run(server: Any, admin: Client) -> None:
    accepted = admin.submit("quick", request_id="trace-42.a")
    assert accepted.request_id == "trace-42.a"
    assert admin.wait(accepted.id, timeout=20).labels["request_id"] == "trace-42.a"
    headers = {
        "Authorization": f"Bearer {server.keys['read']}",
        "X-Request-ID": "bad id;" + "x" * 300,
    }
    response = httpx.get(f"{server.url}/v1/plugins", headers=headers)
    echoed = response.headers["x-request-id"]
    # A fresh id instead of the malformed one (a check for "bad" in it failed whenever the
    # random hex happened to contain b, a, d in a row).
    assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
    log = server.log()
    assert "trace-42.a" in log and "run started" in log


def test_workflows_catalogue(admin: Client) -> None:
    entries = {w.name: w for w in admin.list_workflows()}
    assert {"quick", "slow", "broken"} <= set(entries)
    quick = entries["quick"]
    assert quick.valid and quick.nodes == ["a", "b"]
    assert quick.inputs["x"].type == "int" and quick.inputs["x"].default == 1
    broken = entries["broken"]
    assert not broken.valid and broken.problems[0].file == "broken.yaml"
    assert "nosuch.node" in broken.problems[0].message


def test_config_and_health(server: Any, admin: Client) -> None:
    config = admin.get_config()
    assert config.max_concurrent_runs == 4 and config.allowed_plugins is None
    assert "eval" in config.available_plugins
    changed = admin.update_config(log_level="debug", max_concurrent_runs=3)
    assert (changed.log_level, changed.max_concurrent_runs) == ("debug", 3)
    admin.update_config(log_level="info", max_concurrent_runs=4)
    with pytest.raises(ValidationFailed, match="nosuch"):
        admin.update_config(allowed_plugins=["nosuch"])
    with pytest.raises(ValidationFailed):
        admin.update_config(max_concurrent_runs=-1)
    assert admin.health().status == "ready"
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "checks": {}}
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/v1/runs", "/v1/runs/{run_id}", "/v1/chat/completions"} <= set(schema["paths"])


def test_feedback_reaches_the_eval_store(server: Any, admin: Client) -> None:
    feedback = pytest.importorskip("autoglm_eval.feedback")
    store = feedback.FeedbackStore(server.home / "feedback.sqlite")
    prediction = store.record_prediction({"text": "great film"}, "positive", variant="v1")
    stored = admin.send_feedback(prediction, "negative", comment="it was not")
    assert stored.prediction_id == prediction and stored.source == "test-admin"
    rows = store.list_feedback(prediction_id=prediction)
    assert [(r.label, r.comment) for r in rows] == [("negative", "it was not")]
    with pytest.raises(NotFound):
        admin.send_feedback("no-such-prediction", "x")
    store.close()


def test_chat_without_a_model_is_501(admin: Client) -> None:
    from autoglm.client import NotSupported

    with pytest.raises(NotSupported, match="chat_model"):
        admin.chat([{"role": "user", "content": "hi"}])
