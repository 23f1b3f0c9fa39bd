"""Exceptions of the SDK, one per kind of failure a caller handles differently.

Every error from the service carries the HTTP status, the service's message, its ``kind``, the
request id (quote it when reading the service's logs) and, for invalid workflows and bodies,
the located problems (file, line, node, field, message).
"""

from __future__ import annotations

import contextlib
from typing import Any

from autoglm.service.schemas import Problem


class ServiceError(Exception):
    """Base of the SDK's errors."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        kind: str | None = None,
        request_id: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.kind = kind
        self.request_id = request_id
        self.problems = problems or []

    def __str__(self) -> str:
        text = self.message
        if self.status is not None:
            text = f"{self.status} {self.kind or ''}: {text}".replace("  ", " ")
        if self.problems:
            text += "".join(f"\n  {_located(p)}" for p in self.problems)
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


def _located(problem: Problem) -> str:
    where = [part for part in (problem.file, problem.line, problem.node, problem.field) if part]
    return ": ".join([*map(str, where), problem.message])


class AuthError(ServiceError):
    """401: no API key, or an unknown, wrong or revoked one."""


class Forbidden(AuthError):
    """403: the key is valid but lacks the scope (or the run belongs to another key)."""


class NotFound(ServiceError):
    """404: no such run, workflow or prediction."""


class Conflict(ServiceError):
    """409: the request does not fit the resource's state (cancelling a finished run)."""


class PayloadTooLarge(ServiceError):
    """413: the request body is over the service's limit."""


class ValidationFailed(ServiceError):
    """422: the workflow, its inputs or the request body are invalid; see ``problems``."""


class RateLimited(ServiceError):
    """429: over a quota (the key's queued runs); ``retry_after`` is the service's
    Retry-After in seconds (None if it sent none). Not retried by the SDK: waiting is the
    caller's choice."""

    retry_after: float | None = None


class NotSupported(ServiceError):
    """501: the service lacks what the call needs (no chat model, no eval plugin)."""


class ServerError(ServiceError):
    """5xx: the service failed; idempotent calls were retried before this was raised."""


class ConnectionFailed(ServiceError):
    """The service could not be reached (after the retries)."""


class WaitTimeout(ServiceError, TimeoutError):
    """``wait`` gave up before the run finished; the run goes on."""

    def __init__(self, message: str, *, run: Any = None) -> None:
        super().__init__(message)
        self.run = run


_BY_STATUS: dict[int, type[ServiceError]] = {
    401: AuthError,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
    501: NotSupported,
}


def error_for(
    status: int, body: Any, request_id: str | None, retry_after: str | None = None
) -> ServiceError:
    """The exception for an error answer (``body`` is the decoded JSON, or text;
    ``retry_after`` the Retry-After header, in seconds)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ServiceError)
    if isinstance(body, dict):
        problems = [
            Problem.model_validate(p) for p in body.get("problems") or [] if isinstance(p, dict)
        ]
        error = cls(
            str(body.get("detail") or body),
            status=status,
            kind=body.get("type"),
            request_id=body.get("request_id") or request_id,
            problems=problems,
        )
    else:
        error = cls(str(body)[:500] or f"HTTP {status}", status=status, request_id=request_id)
    if isinstance(error, RateLimited) and retry_after is not None:
        with contextlib.suppress(ValueError):  # an HTTP date: the SDK does not parse it
            error.retry_after = float(retry_after)
    return error
