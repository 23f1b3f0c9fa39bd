"""One shape for every error answer (``ErrorBody``): a message a user can act on, a kind the
SDK maps to an exception, the request id to find the logs, and located problems where there
are some (an invalid workflow, a malformed body). Unexpected errors answer 500 with the request
id only: tracebacks go to the log, never to the client."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from autoglm.service.schemas import ErrorBody, Problem

log = structlog.get_logger("autoglm.service")

KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    501: "not_implemented",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answer with a status, a kind, a message and optional located problems."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        problems: list[Problem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or KINDS.get(status, "error")
        self.problems = problems or []
        self.headers = headers


def request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def error_response(
    request: Request,
    status: int,
    detail: str,
    kind: str | None = None,
    problems: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        detail=detail,
        type=kind or KINDS.get(status, "error"),
        request_id=request_id(request),
        problems=problems or [],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _validation_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        found = error.get("input")
        text = repr(found)
        message = str(error.get("msg", "invalid"))
        if error.get("type") != "missing" and len(text) <= 200:
            message += f" (found {text})"
        problems.append(Problem(message=message, field=".".join(loc) or None))
    return problems


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path. Starlette's own 405 names the
    methods of the first route that matched the path only, though ``GET /v1/runs`` and
    ``POST /v1/runs`` are two routes."""
    methods = {"OPTIONS"}
    for route in request.app.router.routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= set(route_methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.detail, exc.kind, exc.problems, exc.headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            allow = {"Allow": ", ".join(allowed_methods(request))}
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=allow)
            headers = {**(headers or {}), **allow}
        return error_response(request, exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(exc)
        summary = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
        return error_response(request, 422, f"invalid request: {summary}"[:2000], None, problems)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        return error_response(request, 500, "internal error; see the service log", "internal")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes a route may answer."""
    return {code: {"model": ErrorBody, "description": KINDS.get(code, "error")} for code in codes}
