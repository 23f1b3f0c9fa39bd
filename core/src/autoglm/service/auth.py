"""API-key checks as FastAPI dependencies: ``Depends(require("submit"))``.

The key comes as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No key or an unknown,
wrong or revoked key answers 401; a valid key without the scope answers 403. Neither says
anything about the resource asked for.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from autoglm.service.errors import ApiError
from autoglm.service.keys import ApiKey

_bearer = HTTPBearer(auto_error=False, description="An API key from `autoglm keys create`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="autoglm"'}


def require(scope: str) -> Any:
    """A dependency that returns the caller's ``ApiKey`` if it holds ``scope``."""

    def check(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        header: str | None = Depends(_header),
    ) -> ApiKey:
        token = bearer.credentials if bearer is not None else header
        if not token:
            raise ApiError(
                401,
                "missing API key: send 'Authorization: Bearer <key>' (create one with "
                "'autoglm keys create')",
                headers=_CHALLENGE,
            )
        key = request.app.state.service.keys.verify(token)
        if key is None:
            raise ApiError(401, "invalid or revoked API key", headers=_CHALLENGE)
        request.scope.setdefault("state", {})["api_key_id"] = key.id
        if not key.allows(scope):
            raise ApiError(
                403,
                f"API key {key.id!r} lacks the {scope!r} scope (it has: {', '.join(key.scopes)})",
            )
        return key

    return Depends(check)
