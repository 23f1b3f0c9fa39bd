"""The ASGI middleware in front of every request: request id, body size limit, access log.

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, so request bodies stream through
untouched and the size limit holds for chunked uploads too: a declared ``Content-Length`` over
the limit is refused before a byte is read, and a body that grows past it while streaming
stops being read with the same 413.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from starlette.exceptions import HTTPException

access_log = structlog.get_logger("autoglm.service.access")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

Scope = dict[str, Any]
Message = dict[str, Any]


def clean_request_id(value: bytes | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a fresh one (an id goes
    into logs and labels, so it must not carry newlines or megabytes)."""
    if value:
        text = value.decode("latin-1")
        if _REQUEST_ID.match(text):
            return text
    return uuid.uuid4().hex


def too_large_body(limit: int, request_id: str) -> bytes:
    return json.dumps(
        {
            "detail": f"request body larger than the limit of {limit} bytes",
            "type": "payload_too_large",
            "request_id": request_id,
            "problems": [],
        }
    ).encode()


class RequestMiddleware:
    """Tags each request with an id (header in and out, bound in structlog's context), enforces
    the body size limit (read at request time, so ``PUT /v1/config`` could change it) and
    writes one structured access log line per request."""

    def __init__(self, app: Any, *, max_body_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = clean_request_id(headers.get(REQUEST_ID_HEADER.encode()))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        limit = self.max_body_bytes()
        start = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body larger than the limit of {limit} bytes")
            return message

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                declared = headers.get(b"content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    await _send_json(send_with_id, 413, too_large_body(limit, request_id))
                else:
                    await self.app(scope, limited_receive, send_with_id)
            finally:
                access_log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status["code"],
                    ms=round((time.perf_counter() - start) * 1000, 2),
                    client=(scope.get("client") or ("-",))[0],
                    api_key=state.get("api_key_id"),
                )


async def _send_json(send: Callable, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
