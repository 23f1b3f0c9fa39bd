"""Idempotent submissions against a real service: the ``Idempotency-Key`` of ``POST /v1/runs``
answers the run it first made (scoped per API key, surviving a restart), a changed request under
the same key is refused, and the SDK's retry after a lost 202 (a loopback proxy that forwards
the submission, then drops the answer) makes no second run."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from autoglm.client import AsyncClient, Client, ValidationFailed
from autoglm.store import RunStore


class LossyProxy:
    """A TCP proxy on loopback that forwards each request to the service and its answer back,
    except the answers to the first ``drop`` submissions (``POST /v1/runs``): those it reads
    from the service, so the run is stored, then closes the client's connection without a
    byte, as a service killed right after its commit would."""

    def __init__(self, upstream_port: int, drop: int = 1) -> None:
        self.upstream_port = upstream_port
        self.drop = drop
        self.submissions: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            while True:
                request = _read_message(client)
                if request is None:
                    return
                upstream.sendall(request)
                answer = _read_message(upstream)
                if answer is None:
                    return
                if request.startswith(b"POST /v1/runs "):
                    self.submissions.append(request)
                    if len(self.submissions) <= self.drop:
                        return  # the run is stored; its 202 never arrives
                client.sendall(answer)


def _read_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (what httpx and uvicorn send here)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _idempotency_keys(requests: list[bytes]) -> list[str]:
    keys = []
    for request in requests:
        for line in request.split(b"\r\n\r\n")[0].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"idempotency-key":
                keys.append(value.strip().decode())
    return keys


@pytest.fixture
def proxy(server: Any) -> Iterator[LossyProxy]:
    lossy = LossyProxy(server.port)
    yield lossy
    lossy.close()


def _runs_labelled(server: Any, name: str, value: str) -> list[str]:
    store = RunStore(server.home / "runs.sqlite")
    try:
        runs = store.list_runs(limit=10_000)
        return [r.id for r in runs if r.labels.get(name) == value]
    finally:
        store.close()


def test_sdk_retry_after_a_lost_202_returns_the_same_run(server: Any, proxy: LossyProxy) -> None:
    with Client(proxy.url, server.keys["admin"], retries=3, backoff=0.01) as client:
        accepted = client.submit("quick", inputs={"x": 3}, labels={"case": "lost-202"})
        run = client.wait(accepted.id, timeout=20)
    assert run.status == "succeeded" and run.outputs == {"five": 5, "x": 3}
    keys = _idempotency_keys(proxy.submissions)
    assert len(keys) == 2 and keys[0] == keys[1]  # the retry carried the same key
    assert _runs_labelled(server, "case", "lost-202") == [accepted.id]


def test_async_sdk_retry_after_a_lost_202(server: Any, proxy: LossyProxy) -> None:
    async def scenario() -> str:
        async with AsyncClient(proxy.url, server.keys["admin"], backoff=0.01) as client:
            return (await client.submit("quick", labels={"case": "lost-202-async"})).id

    run_id = asyncio.run(scenario())
    assert len(proxy.submissions) == 2
    assert _runs_labelled(server, "case", "lost-202-async") == [run_id]


def test_same_key_same_run_per_api_key_and_a_changed_body_is_refused(server: Any) -> None:
    url = f"{server.url}/v1/runs"
    admin = {"Authorization": f"Bearer {server.keys['admin']}", "Idempotency-Key": "order-17"}
    body = {"workflow": "quick", "inputs": {"x": 2}, "labels": {"case": "same-key"}}
    first = httpx.post(url, json=body, headers=admin)
    again = httpx.post(url, json=body, headers={**admin, "X-Request-ID": "retry-2"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["request_id"] == first.json()["request_id"]  # the original request's
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == f"/v1/runs/{first.json()['id']}"
    changed = httpx.post(url, json={**body, "inputs": {"x": 3}}, headers=admin)
    assert changed.status_code == 422, changed.text
    assert changed.json()["type"] == "idempotency_key_reused"
    assert first.json()["id"] in changed.json()["detail"]
    other_key = {"Authorization": f"Bearer {server.keys['read,submit']}"}
    other = httpx.post(url, json=body, headers={**other_key, "Idempotency-Key": "order-17"})
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    assert len(_runs_labelled(server, "case", "same-key")) == 2
    bad = httpx.post(url, json=body, headers={**admin, "Idempotency-Key": "has space"})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.text


def test_concurrent_duplicates_make_one_run(server: Any) -> None:
    async def scenario() -> set[str]:
        async with AsyncClient(server.url, server.keys["admin"]) as client:
            accepted = await asyncio.gather(
                *(
                    client.submit("quick", labels={"case": "burst"}, idempotency_key="burst-1")
                    for _ in range(8)
                )
            )
        return {a.id for a in accepted}

    ids = asyncio.run(scenario())
    assert len(ids) == 1
    assert _runs_labelled(server, "case", "burst") == list(ids)


def test_keys_survive_a_kill_and_restart(new_server: Any) -> None:
    server = new_server("--max-runs", "0").start()
    with Client(server.url, server.keys["submit"]) as client:
        first = client.submit("quick", idempotency_key="before-the-crash").id
    server.kill()
    server.start()
    with Client(server.url, server.keys["submit"]) as client:
        assert client.submit("quick", idempotency_key="before-the-crash").id == first
        with pytest.raises(ValidationFailed, match="different request"):
            client.submit("slow", idempotency_key="before-the-crash")
    store = RunStore(server.home / "runs.sqlite")
    assert store.count_runs() == 1
    store.close()
