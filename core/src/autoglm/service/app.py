"""The FastAPI application: runs, plugins, workflows, config and health routes.

Route handlers are plain ``def`` functions: they talk to SQLite (blocking, microseconds per
statement) and FastAPI runs them on its thread pool, so the event loop never waits on a lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import structlog
from fastapi import FastAPI, Header, Path, Query, Request, Response

from autoglm import __version__
from autoglm.engine import Engine
from autoglm.errors import PluginError, WorkflowError
from autoglm.logsetup import configure_logging
from autoglm.plugins import Host
from autoglm.service import redact, trust
from autoglm.service.admission import (
    IDEMPOTENCY_HEADER,
    REPLAYED_HEADER,
    Admission,
    idempotency_of,
    mismatch,
    queued_quota,
    replayed_run,
)
from autoglm.service.auth import require
from autoglm.service.catalogue import (
    INLINE,
    UnknownWorkflow,
    check_inline_yaml,
    problems_of,
)
from autoglm.service.errors import ApiError, error_responses, install_error_handlers, request_id
from autoglm.service.hosts import PluginNotAllowed
from autoglm.service.keys import ApiKey
from autoglm.service.middleware import RequestMiddleware
from autoglm.service.plugin_admin import admin_routes
from autoglm.service.plugin_routes import include_plugin_routes
from autoglm.service.schemas import (
    CancelResponse,
    ConfigUpdate,
    Health,
    NodeTypeInfo,
    PluginEntry,
    Problem,
    RunDetail,
    RunPage,
    ServiceConfig,
    SubmitRequest,
    SubmitResponse,
    WorkflowEntry,
)
from autoglm.service.state import ServiceState
from autoglm.store import RUN_STATES, IdempotencyMismatch
from autoglm.workflow import Workflow, parse_workflow

log = structlog.get_logger("autoglm.service")

RunId = Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="A run id.")
RunState = Literal[RUN_STATES]  # type: ignore[valid-type]


def create_app(state: ServiceState) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = state.settings.api_threads
        state.pool.start()
        log.info(
            "service started",
            home=str(state.home),
            requeued=len(state.pool.requeued),
            keys=state.keys.count_active(),
        )
        if state.keys.count_active() == 0:
            log.warning("no API keys: every request will be refused; see 'autoglm keys create'")
        yield
        interrupted = state.pool.stop(state.settings.shutdown_grace_s)
        log.info("service stopped", interrupted_runs=len(interrupted))

    app = FastAPI(
        title="autoglm service",
        version=__version__,
        description="Submit and follow autoglm workflow runs; OpenAI-compatible chat.",
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)
    app.add_middleware(RequestMiddleware, max_body_bytes=lambda: state.settings.max_body_bytes)
    _health_routes(app, state)
    _run_routes(app, state)
    _catalogue_routes(app, state)
    _config_routes(app, state)
    _ui_routes(app, state)
    admin_routes(app, state)  # plugin reload, environments (hot loading, version isolation)
    # Chat (autoglm-hf), feedback (autoglm-eval): contributed by the plugins that own them.
    include_plugin_routes(app, state.hosts.base_host)
    return app


# ------------------------------------------------------------------ health


def _health_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, tags=["health"], responses=error_responses(503))
    def readyz(response: Response) -> Health:
        """Readiness: the run store answers and the worker pool takes runs."""
        checks = {"workers": "ok" if state.pool.ready else "not started"}
        try:
            state.store.count_runs(status="queued")
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return Health(status="ready" if ready else "not ready", checks=checks)


# -------------------------------------------------------------------- runs


def _workflow_of(state: ServiceState, body: SubmitRequest, host: Host) -> Workflow:
    if body.workflow is not None:
        try:
            return state.catalogue.parse(body.workflow, host)
        except UnknownWorkflow as exc:
            raise ApiError(404, str(exc)) from None
    text = body.workflow_yaml or ""
    check_inline_yaml(text)
    return parse_workflow(text, host, path=INLINE)


def _submit(
    state: ServiceState,
    body: SubmitRequest,
    key: ApiKey,
    rid: str | None,
    admission: Admission | None = None,
) -> str:
    policy = trust.policy_for(state.settings, key)
    trust.refuse_private_plugins(body.plugins, policy)
    try:
        host = state.hosts.host_for(body.plugins)
    except (PluginNotAllowed, PluginError) as exc:
        problems = [Problem(message=str(exc), field="plugins")]
        raise ApiError(422, str(exc), kind="plugin_not_allowed", problems=problems) from None
    try:
        workflow = _workflow_of(state, body, host)
        trust.check_submission(workflow, host, body.inputs, policy, state.home)
        labels = {**body.labels, "request_id": rid, "api_key": key.id}
        engine = Engine(host, state.store, use_cache=body.use_cache, policy=policy)
        options = admission.submit_options() if admission is not None else {}
        return engine.submit(workflow, body.inputs, labels=labels, **options)
    except WorkflowError as exc:
        raise ApiError(
            422,
            f"invalid workflow ({len(exc.problems)} problem(s)): {exc.problems[0]}",
            kind="invalid_workflow",
            problems=problems_of(exc),
        ) from None


def _run_or_404(state: ServiceState, run_id: str) -> Any:
    record = state.store.get_run(run_id)
    if record is None:
        raise ApiError(404, f"no run {run_id!r}")
    return record


def _run_routes(app: FastAPI, state: ServiceState) -> None:
    @app.post(
        "/v1/runs",
        status_code=202,
        response_model=SubmitResponse,
        responses=error_responses(400, 401, 403, 404, 413, 422, 429),
        tags=["runs"],
    )
    def submit_run(
        body: SubmitRequest,
        request: Request,
        response: Response,
        key: ApiKey = require("submit"),
        idempotency_key: str | None = Header(
            default=None,
            alias=IDEMPOTENCY_HEADER,
            description="The same key (per API key, for a day) answers the run it first made.",
        ),
    ) -> SubmitResponse:
        """Queue a run of a named or inline workflow; answers at once with its id."""
        rid = request_id(request)
        admission: Admission | None = None
        try:
            idempotency = idempotency_of(idempotency_key, key, body, state.settings)
            run_id = replayed_run(state.store, idempotency)
            if run_id is None:
                admission = Admission(idempotency, queued_quota(state.store, key, state.settings))
                if admission.quota is not None:
                    admission.quota()  # refuse early, before parsing; checked again on insert
                run_id = _submit(state, body, key, rid, admission)
                if admission.created:
                    state.pool.wake()
        except IdempotencyMismatch as exc:
            raise redact.for_key(mismatch(exc), key) from None
        except ApiError as exc:
            raise redact.for_key(exc, key) from None
        url = f"/v1/runs/{run_id}"
        response.headers["Location"] = url
        record = _run_or_404(state, run_id)
        replayed = idempotency is not None and (admission is None or not admission.created)
        if replayed:
            response.headers[REPLAYED_HEADER] = "true"
        log.info(
            "run replayed" if replayed else "run queued",
            run_id=run_id,
            workflow=record.workflow_name,
            api_key=key.id,
        )
        return SubmitResponse(
            id=run_id,
            status=record.status,
            workflow_name=record.workflow_name,
            url=url,
            request_id=record.labels.get("request_id", rid),
        )

    @app.get(
        "/v1/runs/{run_id}",
        response_model=RunDetail,
        responses=error_responses(401, 403, 404, 422),
        tags=["runs"],
    )
    def get_run(run_id: str = RunId, _key: ApiKey = require("read")) -> RunDetail:
        """A run: status, inputs, outputs, error, and each node's state."""
        record = _run_or_404(state, run_id)
        return RunDetail(**record.model_dump(), nodes=state.store.node_states(run_id))

    @app.get(
        "/v1/runs",
        response_model=RunPage,
        responses=error_responses(401, 403, 422),
        tags=["runs"],
    )
    def list_runs(
        status: RunState | None = Query(default=None, description="Only runs in this state."),
        limit: int = Query(default=50, ge=1, le=500),
        offset: int = Query(default=0, ge=0, le=10**9),
        _key: ApiKey = require("read"),
    ) -> RunPage:
        """Runs, newest first, a page at a time."""
        return RunPage(
            items=state.store.list_runs(status=status, limit=limit, offset=offset),
            total=state.store.count_runs(status=status),
            limit=limit,
            offset=offset,
        )

    @app.post(
        "/v1/runs/{run_id}/cancel",
        response_model=CancelResponse,
        responses=error_responses(401, 403, 404, 409, 422),
        tags=["runs"],
    )
    def cancel_run(run_id: str = RunId, key: ApiKey = require("submit")) -> CancelResponse:
        """Cancel a queued or running run (a key may cancel its own runs; admin any run)."""
        record = _run_or_404(state, run_id)
        if record.labels.get("api_key") != key.id and not key.allows("admin"):
            raise ApiError(
                403, "this run was submitted with another key; cancelling it needs 'admin'"
            )
        if not state.store.request_cancel(run_id):
            raise ApiError(409, f"run {run_id!r} already finished ({record.status})")
        state.pool.cancel(run_id)
        after = _run_or_404(state, run_id)
        return CancelResponse(id=run_id, status=after.status, cancel_requested=True)


# ----------------------------------------------------- plugins and workflows


def _catalogue_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get(
        "/v1/plugins",
        response_model=list[PluginEntry],
        responses=error_responses(401, 403),
        tags=["catalogue"],
    )
    def list_plugins(_key: ApiKey = require("read")) -> list[PluginEntry]:
        """Plugins the service knows, their node types, and whether new runs may use them."""
        host = state.hosts.base_host
        allowed = set(state.hosts.allowed_names()) | {"core"}
        return [
            PluginEntry(
                name=info.name,
                source=info.source,
                distribution=info.distribution,
                version=info.version,
                status=info.status,
                error=info.error,
                allowed=info.name in allowed and info.status == "loaded",
                node_types=[
                    NodeTypeInfo.model_validate(host.node_types[name].describe())
                    for name in info.node_types
                ],
            )
            for info in host.plugins.values()
        ]

    @app.get(
        "/v1/workflows",
        response_model=list[WorkflowEntry],
        responses=error_responses(401, 403),
        tags=["catalogue"],
    )
    def list_workflows(_key: ApiKey = require("read")) -> list[WorkflowEntry]:
        """Workflows offered by name, with their inputs; invalid ones with their problems."""
        host = state.hosts.host_for(None)
        return [state.catalogue.describe(name, host) for name in state.catalogue.names()]


# ---------------------------------------------------------- UI and events


def _ui_routes(app: FastAPI, state: ServiceState) -> None:
    """The run event stream, the UI's workflow and artefact routes, and the page itself
    (imported here, so that only a started service pays for them)."""
    from autoglm.service.events import event_routes
    from autoglm.service.studio import studio_routes
    from autoglm.service.ui import ui_routes

    event_routes(app, str(state.store.path), lambda rid: state.store.get_run(rid) is not None)
    studio_routes(app, state)
    ui_routes(app)


# ------------------------------------------------------------------ config


def _service_config(state: ServiceState) -> ServiceConfig:
    spec = state.settings.chat_model
    return ServiceConfig(
        allowed_plugins=state.hosts.allowed,
        max_concurrent_runs=state.pool.limit,
        log_level=state.log_level,
        available_plugins=state.hosts.available,
        chat_model=None if spec is None else str(spec.get("kind")),
    )


def _config_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get(
        "/v1/config",
        response_model=ServiceConfig,
        responses=error_responses(401, 403),
        tags=["config"],
    )
    def get_config(_key: ApiKey = require("admin")) -> ServiceConfig:
        """The settings a running service may change, as they are now."""
        return _service_config(state)

    @app.put(
        "/v1/config",
        response_model=ServiceConfig,
        responses=error_responses(400, 401, 403, 413, 422),
        tags=["config"],
    )
    def update_config(body: ConfigUpdate, key: ApiKey = require("admin")) -> ServiceConfig:
        """Change allowed plugins, concurrent runs or log level until the service stops."""
        if body.reset_allowed_plugins and body.allowed_plugins is not None:
            raise ApiError(422, "give either 'allowed_plugins' or 'reset_allowed_plugins'")
        try:
            if body.reset_allowed_plugins:
                state.hosts.set_allowed(None)
            elif body.allowed_plugins is not None:
                state.hosts.set_allowed(body.allowed_plugins)
        except PluginNotAllowed as exc:
            raise ApiError(
                422, str(exc), problems=[Problem(message=str(exc), field="allowed_plugins")]
            ) from None
        if body.max_concurrent_runs is not None:
            state.pool.set_limit(body.max_concurrent_runs)
        if body.log_level is not None:
            state.log_level = body.log_level
            configure_logging(json_logs=state.settings.json_logs, level=body.log_level)
        changed = body.model_dump(exclude_defaults=True)
        log.info("config changed", api_key=key.id, **changed)
        return _service_config(state)
