"""SDK behaviour that needs no autoglm service: retries with backoff against a real loopback
HTTP server that fails on purpose, and clear errors when nothing listens."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from autoglm.client import Client, ConnectionFailed, ServerError, ValidationFailed


class Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then a ready health, on any path."""

    failures = 2
    seen: list[str] = []
    idempotency_keys: list[str | None] = []

    def _answer(self) -> None:
        Flaky.seen.append(f"{self.command} {self.path}")
        Flaky.idempotency_keys.append(self.headers.get("Idempotency-Key"))
        if len(Flaky.seen) <= Flaky.failures:
            status, body = 503, {"detail": "warming up", "type": "unavailable"}
        elif self.path == "/v1/runs":
            status = 202
            body = {"id": "r1", "status": "queued", "workflow_name": "quick", "url": "/v1/runs/r1"}
        elif self.path == "/v1/config":
            status = 422
            body = {
                "detail": "bad",
                "type": "validation_failed",
                "problems": [{"message": "nope", "field": "max_concurrent_runs"}],
            }
        else:
            status, body = 200, {"status": "ready", "checks": {}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    Flaky.seen = []
    Flaky.idempotency_keys = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_idempotent_calls_retry_on_5xx(flaky: str) -> None:
    with Client(flaky, "key", retries=3, backoff=0.01) as client:
        assert client.health().status == "ready"
    assert Flaky.seen == ["GET /readyz"] * 3


def test_submissions_retry_on_5xx_with_one_idempotency_key(flaky: str) -> None:
    with Client(flaky, "key", retries=3, backoff=0.01) as client:
        assert client.submit("quick").id == "r1"
        assert Flaky.seen == ["POST /v1/runs"] * 3
        first_call = set(Flaky.idempotency_keys)
        assert len(first_call) == 1 and None not in first_call
        client.submit("quick", idempotency_key="mine-1")
    assert Flaky.idempotency_keys[-1] == "mine-1"
    assert first_call != {"mine-1"}


def test_submissions_give_up_after_the_retries(flaky: str) -> None:
    Flaky.failures = 10
    try:
        client = Client(flaky, "key", retries=1, backoff=0.01)
        with client, pytest.raises(ServerError) as err:
            client.submit("quick")
    finally:
        Flaky.failures = 2
    assert err.value.status == 503 and "warming up" in str(err.value)
    assert Flaky.seen == ["POST /v1/runs"] * 2


def test_config_updates_retry_then_raise_typed_errors(flaky: str) -> None:
    client = Client(flaky, "key", retries=3, backoff=0.01)
    with client, pytest.raises(ValidationFailed) as err:
        client.update_config(max_concurrent_runs=2)
    assert err.value.problems[0].field == "max_concurrent_runs"
    assert Flaky.seen == ["PUT /v1/config"] * 3


def test_unreachable_service(unused_tcp_port: int) -> None:
    client = Client(f"http://127.0.0.1:{unused_tcp_port}", "key", retries=2, backoff=0.01)
    with client, pytest.raises(ConnectionFailed, match="3 attempt"):
        client.submit("quick")  # never connected, so even a submission is retried


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_default_url_and_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGLM_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("AUTOGLM_API_KEY", "agk_x_y")
    client = Client()
    assert client.base_url == "http://127.0.0.1:9" and client.api_key == "agk_x_y"
    client.close()
    monkeypatch.delenv("AUTOGLM_URL")
    assert Client(api_key="k").base_url == "http://127.0.0.1:8080"
