"""The Python SDK of the autoglm service: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

Results are the service's own pydantic models (``RunDetail``, ``RunPage``, ...), errors are
``ServiceError`` subclasses (``AuthError``, ``NotFound``, ``ValidationFailed`` with the located
workflow problems, ...). Needs only httpx (the ``client`` extra), never FastAPI.
"""

from autoglm.client.aio import AsyncClient
from autoglm.client.errors import (
    AuthError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    NotSupported,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceError,
    ValidationFailed,
    WaitTimeout,
)
from autoglm.client.sync import Client
from autoglm.run_events import RunEvent
from autoglm.service.schemas import (
    ChatCompletion,
    PluginEntry,
    Problem,
    RunDetail,
    RunPage,
    ServiceConfig,
    SubmitResponse,
    WorkflowEntry,
)
from autoglm.store import NodeRecord, RunRecord

__all__ = [
    "AsyncClient",
    "AuthError",
    "ChatCompletion",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "NodeRecord",
    "NotFound",
    "NotSupported",
    "PayloadTooLarge",
    "PluginEntry",
    "Problem",
    "RateLimited",
    "RunDetail",
    "RunEvent",
    "RunPage",
    "RunRecord",
    "ServerError",
    "ServiceConfig",
    "ServiceError",
    "SubmitResponse",
    "ValidationFailed",
    "WaitTimeout",
    "WorkflowEntry",
]
