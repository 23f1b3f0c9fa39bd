"""Everything the sync and async clients share: settings, retry decisions, decoding, and the
public methods themselves.

Each public method builds an operation (``autoglm.client._ops``) and hands it to
``self._drive``. ``Client._drive`` runs it and returns the result; ``AsyncClient._drive`` is a
coroutine function, so on an ``AsyncClient`` the very same methods return awaitables. One set
of methods, one set of docstrings, two clients.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from autoglm import __version__
from autoglm.client import _ops
from autoglm.client._ops import Op, Request, T, backoff_delay
from autoglm.client.errors import ConnectionFailed, error_for
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

DEFAULT_URL = "http://127.0.0.1:8080"
#: Connection failures where the request cannot have reached the service: safe to retry even
#: for a submission.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class BaseClient:
    """Settings and methods of both clients (see ``Client``)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
    ) -> None:
        self.base_url = (base_url or os.environ.get("AUTOGLM_URL") or DEFAULT_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("AUTOGLM_API_KEY")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def _client_options(self) -> dict[str, Any]:
        headers = {"User-Agent": f"autoglm-sdk/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {"base_url": self.base_url, "headers": headers, "timeout": self.timeout}

    def _retry_delay(
        self,
        request: Request,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        """Seconds to wait before another attempt, or None to stop (success or final)."""
        if attempt > self.retries:
            return None
        if error is not None:
            retry = request.idempotent or isinstance(error, NOT_SENT)
        else:
            assert response is not None
            status = response.status_code
            retry = request.idempotent and status >= 500 and status != 501
        return backoff_delay(attempt, self.backoff) if retry else None

    def _unreachable(self, request: Request, error: Exception) -> ConnectionFailed:
        return ConnectionFailed(
            f"{request.method} {self.base_url}{request.path} failed after "
            f"{self.retries + 1} attempt(s): {type(error).__name__}: {error}"
        )

    def _watch_resume_delay(
        self, run_id: str, failures: int, error: Exception | None = None
    ) -> float | None:
        """Seconds ``watch`` waits before resuming the event stream after ``failures`` in a
        row, each a stream broken by ``error`` or closed before ``end``. Past ``retries``: None
        (the watch ends) for a closed stream, ``ConnectionFailed`` for a broken one."""
        if failures <= self.retries:
            return backoff_delay(failures, self.backoff)
        if error is not None:
            raise self._unreachable(Request("GET", f"/v1/runs/{run_id}/events"), error) from error
        return None

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        """The JSON of a success; the matching ``ServiceError`` for an error status."""
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise error_for(
                response.status_code,
                body,
                response.headers.get("x-request-id"),
                response.headers.get("retry-after"),
            )
        return body

    def _drive(self, op: Op[T]) -> Any:
        """Run operation ``op``: the value (``Client``) or an awaitable of it (``AsyncClient``)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- runs

    def submit(
        self,
        workflow: str | None = None,
        *,
        workflow_yaml: str | None = None,
        inputs: dict[str, Any] | None = None,
        plugins: list[str] | None = None,
        labels: dict[str, str] | None = None,
        use_cache: bool = True,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> SubmitResponse:
        """Queue a run of a named workflow (or of inline ``workflow_yaml``); returns at once.
        Retried like a read, since every attempt carries one ``Idempotency-Key`` (yours, or
        a fresh one per call): a retry after a lost answer returns the same run."""
        return self._drive(
            _ops.submit(
                workflow,
                workflow_yaml,
                inputs,
                plugins,
                labels,
                use_cache,
                request_id,
                idempotency_key,
            )
        )

    def get_run(self, run_id: str) -> RunDetail:
        """A run with its nodes' states."""
        return self._drive(_ops.get_run(run_id))

    def list_runs(self, status: str | None = None, *, limit: int = 50, offset: int = 0) -> RunPage:
        """A page of runs, newest first, optionally only those in ``status``."""
        return self._drive(_ops.list_runs(status, limit, offset))

    def cancel(self, run_id: str) -> CancelResponse:
        """Cancel a queued or running run (``Conflict`` if it already finished)."""
        return self._drive(_ops.cancel(run_id))

    def wait(
        self,
        run_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 0.1,
        max_poll_interval: float = 2.0,
    ) -> RunDetail:
        """Block until the run finishes; ``WaitTimeout`` after ``timeout`` seconds."""
        return self._drive(_ops.wait(run_id, timeout, poll_interval, max_poll_interval))

    def run(
        self,
        workflow: str | None = None,
        *,
        workflow_yaml: str | None = None,
        inputs: dict[str, Any] | None = None,
        plugins: list[str] | None = None,
        labels: dict[str, str] | None = None,
        use_cache: bool = True,
        timeout: float | None = None,
        poll_interval: float = 0.1,
        idempotency_key: str | None = None,
    ) -> RunDetail:
        """Submit and wait: the finished run (check its ``status``)."""
        submission = _ops.submit(
            workflow, workflow_yaml, inputs, plugins, labels, use_cache, None, idempotency_key
        )
        return self._drive(_ops.run(submission, timeout, poll_interval))

    # ------------------------------------------------------- the rest

    def list_plugins(self) -> list[PluginEntry]:
        return self._drive(_ops.list_plugins())

    def reload_plugins(self) -> PluginReload:
        """Make the service rediscover installed plugins (admin); what changed."""
        return self._drive(_ops.reload_plugins())

    def list_workflows(self) -> list[WorkflowEntry]:
        return self._drive(_ops.list_workflows())

    def send_feedback(
        self,
        prediction_id: str,
        label: Any,
        *,
        source: str | None = None,
        comment: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> FeedbackResponse:
        """Label a prediction stored in the evaluator's feedback store."""
        return self._drive(_ops.send_feedback(prediction_id, label, source, comment, metadata))

    def get_config(self) -> ServiceConfig:
        return self._drive(_ops.get_config())

    def update_config(
        self,
        *,
        allowed_plugins: list[str] | None = None,
        reset_allowed_plugins: bool = False,
        max_concurrent_runs: int | None = None,
        log_level: str | None = None,
    ) -> ServiceConfig:
        """Change the running service's settings (needs an admin key)."""
        changes = self._config_changes(
            allowed_plugins, reset_allowed_plugins, max_concurrent_runs, log_level
        )
        return self._drive(_ops.update_config(changes))

    def chat(
        self, messages: list[dict[str, str]], *, model: str = "default", **options: Any
    ) -> ChatCompletion:
        """An OpenAI-style chat completion (``max_tokens``, ``temperature``, ``stop``...)."""
        return self._drive(_ops.chat(self._chat_body(messages, model, options)))

    def health(self) -> Health:
        """The service's readiness (``ServerError`` if it is not ready)."""
        return self._drive(_ops.health())

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _config_changes(
        allowed_plugins: list[str] | None,
        reset_allowed_plugins: bool,
        max_concurrent_runs: int | None,
        log_level: str | None,
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {
            "allowed_plugins": allowed_plugins,
            "max_concurrent_runs": max_concurrent_runs,
            "log_level": log_level,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if reset_allowed_plugins:
            changes["reset_allowed_plugins"] = True
        return changes

    @staticmethod
    def _chat_body(
        messages: list[dict[str, str]], model: str, options: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "model": model,
            "messages": messages,
            **{k: v for k, v in options.items() if v is not None},
        }
