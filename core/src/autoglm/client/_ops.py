"""The SDK's operations, written once for the sync and the async client.

Each operation is a generator that yields *effects* (``Request``: send this; ``Sleep``: wait
this long) and returns the typed result. ``Client`` drives it with httpx's sync client and
``time.sleep``, ``AsyncClient`` with the async client and ``asyncio.sleep``. So the logic of a
call (its path, body, retry class, response model, the polling of ``wait``) exists once.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import TypeAdapter

from autoglm.client.errors import WaitTimeout
from autoglm.service.schemas import (
    CancelResponse,
    ChatCompletion,
    FeedbackResponse,
    Health,
    PluginEntry,
    PluginReload,
    RunDetail,
    RunPage,
    ServiceConfig,
    SubmitResponse,
    WorkflowEntry,
)

T = TypeVar("T")
FINISHED = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class Request:
    """One HTTP call. ``idempotent`` calls are retried on 5xx and broken connections; the
    others only when the connection was never made (the request cannot have arrived)."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    idempotent: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sleep:
    seconds: float


Op = Generator[Request | Sleep, Any, T]


def backoff_delay(attempt: int, base: float, cap: float = 10.0) -> float:
    """Seconds before retry ``attempt`` (1-based): exponential, capped, with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def _call(request: Request, model: Any) -> Op[Any]:
    data = yield request
    return TypeAdapter(model).validate_python(data)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def submit(
    workflow: str | None,
    workflow_yaml: str | None,
    inputs: dict[str, Any] | None,
    plugins: list[str] | None,
    labels: dict[str, str] | None,
    use_cache: bool,
    request_id: str | None,
    idempotency_key: str | None = None,
) -> Op[SubmitResponse]:
    """One logical submission: its ``Idempotency-Key`` (given, or a fresh UUID made here,
    once per call) goes with every attempt, so the service answers a retry whose first answer
    was lost with the run that attempt made; that is what makes a submission safe to retry."""
    body = _drop_none(
        {
            "workflow": workflow,
            "workflow_yaml": workflow_yaml,
            "inputs": inputs or {},
            "plugins": plugins,
            "labels": labels or {},
            "use_cache": use_cache,
        }
    )
    headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
    if request_id:
        headers["X-Request-ID"] = request_id
    request = Request("POST", "/v1/runs", json=body, idempotent=True, headers=headers)
    return (yield from _call(request, SubmitResponse))


def get_run(run_id: str) -> Op[RunDetail]:
    return (yield from _call(Request("GET", f"/v1/runs/{run_id}", idempotent=True), RunDetail))


def list_runs(status: str | None, limit: int, offset: int) -> Op[RunPage]:
    params = _drop_none({"status": status, "limit": limit, "offset": offset})
    return (yield from _call(Request("GET", "/v1/runs", params=params, idempotent=True), RunPage))


def cancel(run_id: str) -> Op[CancelResponse]:
    return (yield from _call(Request("POST", f"/v1/runs/{run_id}/cancel"), CancelResponse))


def wait(run_id: str, timeout: float | None, poll: float, max_poll: float) -> Op[RunDetail]:
    """Poll the run until it finishes; the interval grows from ``poll`` to ``max_poll``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    interval = poll
    while True:
        run = yield from get_run(run_id)
        if run.status in FINISHED:
            return run
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(f"run {run_id} still {run.status} after {timeout} s", run=run)
            interval = min(interval, left)
        yield Sleep(interval)
        interval = min(max_poll, interval * 1.5)


def run(submission: Op[SubmitResponse], timeout: float | None, poll: float) -> Op[RunDetail]:
    accepted = yield from submission
    return (yield from wait(accepted.id, timeout, poll, max(poll, 2.0)))


def list_plugins() -> Op[list[PluginEntry]]:
    return (yield from _call(Request("GET", "/v1/plugins", idempotent=True), list[PluginEntry]))


def reload_plugins() -> Op[PluginReload]:
    return (yield from _call(Request("POST", "/v1/plugins/reload"), PluginReload))


def list_workflows() -> Op[list[WorkflowEntry]]:
    request = Request("GET", "/v1/workflows", idempotent=True)
    return (yield from _call(request, list[WorkflowEntry]))


def send_feedback(
    prediction_id: str,
    label: Any,
    source: str | None,
    comment: str | None,
    metadata: dict[str, Any] | None,
) -> Op[FeedbackResponse]:
    body = _drop_none(
        {"prediction_id": prediction_id, "source": source, "comment": comment, "metadata": metadata}
    )
    body["label"] = label
    return (yield from _call(Request("POST", "/v1/feedback", json=body), FeedbackResponse))


def get_config() -> Op[ServiceConfig]:
    return (yield from _call(Request("GET", "/v1/config", idempotent=True), ServiceConfig))


def update_config(changes: dict[str, Any]) -> Op[ServiceConfig]:
    request = Request("PUT", "/v1/config", json=changes, idempotent=True)
    return (yield from _call(request, ServiceConfig))


def chat(body: dict[str, Any]) -> Op[ChatCompletion]:
    return (yield from _call(Request("POST", "/v1/chat/completions", json=body), ChatCompletion))


def health() -> Op[Health]:
    return (yield from _call(Request("GET", "/readyz", idempotent=True), Health))
