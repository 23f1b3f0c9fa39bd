"""The API the visual UI needs beyond the runs API: a workflow's source and graph, the
validator on YAML as one types, saving a named workflow, a run's graph, and a run's artefacts.

Scopes: reading and validating need ``read`` (validating runs no node); saving needs
``submit`` and passes the same trust policy as a submission, since a saved workflow is one
that keys will run by name; replacing an existing file needs ``admin`` (a submit key must not
rewrite the workflows an operator shipped). Artefacts are served with ``read`` from the run's
own folder only, symlinks resolved before the check.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import tempfile
from pathlib import Path as FsPath
from typing import Any

from fastapi import FastAPI, Path
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from autoglm.errors import WorkflowError
from autoglm.service import trust
from autoglm.service.auth import require
from autoglm.service.catalogue import NAME, UnknownWorkflow
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.graphs import check_yaml
from autoglm.service.keys import ApiKey
from autoglm.service.schemas import StrictModel
from autoglm.service.state import ServiceState
from autoglm.workflow import parse_workflow

RunId = Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="A run id.")
WorkflowName = Path(pattern=NAME.pattern, description="A workflow name (file stem).")
MAX_ARTIFACTS = 500


class YamlBody(StrictModel):
    yaml: str = Field(max_length=1_000_000, description="Workflow YAML text.")


class Checked(BaseModel):
    """The validator's verdict with the graph to draw (drawn even when invalid)."""

    valid: bool
    problems: list[dict[str, Any]] = []
    graph: dict[str, Any] = {}
    mermaid: str | None = None
    data: dict[str, Any] | None = Field(
        default=None, description="The YAML as data (what the builder edits)."
    )
    yaml: str | None = None
    name: str | None = None


class Artifact(BaseModel):
    path: str
    bytes: int
    media_type: str


def _checked(result: dict[str, Any], **extra: Any) -> Checked:
    problems = [p.model_dump() if hasattr(p, "model_dump") else p for p in result["problems"]]
    return Checked(**{**result, "problems": problems, **extra})


class Me(BaseModel):
    """The signed-in key, without its secret: the page shows only what its scopes allow."""

    id: str
    name: str
    scopes: list[str]


def studio_routes(app: FastAPI, state: ServiceState) -> None:
    @app.get("/v1/me", response_model=Me, responses=error_responses(401, 403), tags=["keys"])
    def me(key: ApiKey = require("read")) -> Me:
        """The calling key's id, name and scopes (``admin`` implies the others)."""
        return Me(id=key.id, name=key.name, scopes=key.scopes)

    @app.get(
        "/v1/workflows/{name}",
        response_model=Checked,
        responses=error_responses(401, 403, 404, 422),
        tags=["catalogue"],
    )
    def workflow_source(name: str = WorkflowName, _key: ApiKey = require("read")) -> Checked:
        """A workflow's YAML text, graph, Mermaid text and problems."""
        try:
            text, display = state.catalogue.source(name)
        except UnknownWorkflow as exc:
            raise ApiError(404, str(exc)) from None
        except WorkflowError as exc:
            raise ApiError(422, str(exc.problems[0])) from None
        host = state.hosts.host_for(None)
        return _checked(check_yaml(text, host, path=display), yaml=text, name=name)

    @app.post(
        "/v1/workflows/validate",
        response_model=Checked,
        responses=error_responses(400, 401, 403, 413, 422),
        tags=["catalogue"],
    )
    def validate_workflow(body: YamlBody, _key: ApiKey = require("read")) -> Checked:
        """Validate YAML text with the validator of ``autoglm validate``; runs nothing."""
        return _checked(check_yaml(body.yaml, state.hosts.host_for(None)))

    @app.put(
        "/v1/workflows/{name}",
        response_model=Checked,
        responses=error_responses(400, 401, 403, 409, 413, 422),
        tags=["catalogue"],
    )
    def save_workflow(
        body: YamlBody, name: str = WorkflowName, key: ApiKey = require("submit")
    ) -> Checked:
        """Save a valid workflow as ``NAME.yaml`` in the workflows folder (the trust policy
        applied as to a submission; replacing an existing one needs ``admin``)."""
        host = state.hosts.host_for(None)
        result = check_yaml(body.yaml, host)
        if not result["valid"]:
            problems = result["problems"]
            raise ApiError(422, f"invalid workflow: {problems[0].message}", problems=problems)
        try:
            state.catalogue.path_of(name)
            exists = True
        except UnknownWorkflow:
            exists = False
        if exists and not key.allows("admin"):
            raise ApiError(403, f"workflow {name!r} exists; replacing it needs 'admin'")
        workflow = parse_workflow(body.yaml, host, path=f"{name}.yaml")
        policy = trust.policy_for(state.settings, key)
        # required inputs without defaults: checked again when a run supplies them
        with contextlib.suppress(WorkflowError):
            trust.check_submission(workflow, host, {}, policy, state.home)
        folder = state.catalogue.folder
        folder.mkdir(parents=True, exist_ok=True)
        for suffix in (".yml",):
            if (folder / f"{name}{suffix}").exists():
                raise ApiError(409, f"workflow {name!r} is a {suffix} file; edit it on disk")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body.yaml)
        os.replace(tmp, folder / f"{name}.yaml")
        return _checked(result, yaml=body.yaml, name=name)

    @app.get(
        "/v1/runs/{run_id}/graph",
        response_model=Checked,
        responses=error_responses(401, 403, 404, 422),
        tags=["runs"],
    )
    def run_graph(run_id: str = RunId, _key: ApiKey = require("read")) -> Checked:
        """The graph of the workflow a run executes (as it was submitted)."""
        source = state.store.get_run_source(run_id)
        if source is None:
            raise ApiError(404, f"no run {run_id!r}")
        return _checked(check_yaml(source, state.hosts.host_for(None)), yaml=source)

    def artifacts_root(run_id: str) -> FsPath:
        if state.store.get_run(run_id) is None:
            raise ApiError(404, f"no run {run_id!r}")
        return (state.home / "artifacts" / run_id).resolve()

    @app.get(
        "/v1/runs/{run_id}/artifacts",
        response_model=list[Artifact],
        responses=error_responses(401, 403, 404, 422),
        tags=["runs"],
    )
    def list_artifacts(run_id: str = RunId, _key: ApiKey = require("read")) -> list[Artifact]:
        """Files the run's nodes wrote to their artefact folders (reports, plots)."""
        root = artifacts_root(run_id)
        if not root.is_dir():
            return []
        found = []
        for path in sorted(root.rglob("*")):
            if len(found) >= MAX_ARTIFACTS:
                break
            if path.is_file() and not path.is_symlink():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                rel = path.relative_to(root).as_posix()
                found.append(Artifact(path=rel, bytes=path.stat().st_size, media_type=kind))
        return found

    @app.get(
        "/v1/runs/{run_id}/artifacts/{path:path}",
        responses=error_responses(401, 403, 404, 422),
        tags=["runs"],
    )
    def get_artifact(
        path: str, run_id: str = RunId, _key: ApiKey = require("read")
    ) -> FileResponse:
        """One artefact file. Served with a sandboxing CSP: a report's scripts run, but
        without the page's origin (they cannot read the signed-in key)."""
        root = artifacts_root(run_id)
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise ApiError(404, f"run {run_id!r} has no artefact {path!r}")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return FileResponse(
            target,
            media_type=kind,
            headers={
                "Content-Security-Policy": "sandbox allow-scripts",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )
