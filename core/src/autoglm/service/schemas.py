"""Request and response models of the REST API, shared by the service and the SDK.

Only pydantic here, so the SDK can validate responses into the very models the service
serialises. Run and node records are the run store's own ``RunRecord`` and ``NodeRecord``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autoglm.store import RUN_STATES, NodeRecord, RunRecord

#: The scopes an API key may hold. ``admin`` implies the other two.
SCOPES = ("read", "submit", "admin")
LOG_LEVELS = ("debug", "info", "warning", "error")
_LABEL_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_LABELS = 16


class StrictModel(BaseModel):
    """Request bodies refuse unknown fields (a misspelt ``input`` must not be ignored) and
    ill-typed values (``false`` is not 0, ``"1"`` is not true): a typo is an error, never a
    quiet change of meaning."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SubmitRequest(StrictModel):
    """A run to start: a workflow from the service's folder by name, or inline YAML."""

    workflow: str | None = Field(
        default=None,
        description="Name of a workflow in the service's workflows folder (file name "
        "without .yaml).",
        max_length=128,
    )
    workflow_yaml: str | None = Field(
        default=None, description="An inline workflow, as YAML text.", max_length=1_000_000
    )
    inputs: dict[str, Any] = Field(default_factory=dict, description="Run inputs.")
    plugins: list[str] | None = Field(
        default=None,
        description="Plugins the run may use; a subset of those the service allows "
        "(default: all of them).",
        max_length=64,
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Free labels stored with the run (at most 16)."
    )
    use_cache: bool = Field(default=True, description="Reuse cached node results.")

    @model_validator(mode="after")
    def _one_workflow(self) -> SubmitRequest:
        if (self.workflow is None) == (self.workflow_yaml is None):
            raise ValueError("give exactly one of 'workflow' (a name) and 'workflow_yaml'")
        return self

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        if len(labels) > MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} labels, found {len(labels)}")
        for key, value in labels.items():
            if not _LABEL_KEY.match(key):
                raise ValueError(f"label key {key!r}: expected 1-64 of [A-Za-z0-9_.-]")
            if len(value) > 256:
                raise ValueError(f"label {key!r}: at most 256 characters")
        return labels


class SubmitResponse(BaseModel):
    """What ``POST /v1/runs`` answers (202): the run is stored and queued."""

    id: str
    status: str
    workflow_name: str
    url: str
    request_id: str | None = None


class RunDetail(RunRecord):
    """A run with the state of each of its nodes."""

    nodes: dict[str, NodeRecord] = {}


class RunPage(BaseModel):
    """One page of runs, newest first."""

    items: list[RunRecord]
    total: int
    limit: int
    offset: int


class CancelResponse(BaseModel):
    id: str
    status: str
    cancel_requested: bool


class PluginReload(BaseModel):
    """What ``POST /v1/plugins/reload`` found changed in the API process's catalogue. Run
    processes pick changes up by themselves before their next run."""

    added: list[str] = []
    removed: list[str] = []
    upgraded: list[str] = []


class NodeTypeInfo(BaseModel):
    name: str
    version: str | int | None = None
    api_version: int | str | None = None
    description: str = ""
    config_schema: dict[str, Any] = {}
    inputs_schema: dict[str, Any] = {}
    outputs_schema: dict[str, Any] = {}


class PluginEntry(BaseModel):
    """A plugin as the service's host sees it."""

    name: str
    source: str
    distribution: str | None = None
    version: str | None = None
    status: str
    error: str | None = None
    allowed: bool = True
    node_types: list[NodeTypeInfo] = []


class WorkflowInputInfo(BaseModel):
    type: str
    required: bool
    default: Any = None
    description: str = ""


class WorkflowEntry(BaseModel):
    """A workflow of the service's workflows folder."""

    name: str
    title: str | None = None
    description: str = ""
    valid: bool
    inputs: dict[str, WorkflowInputInfo] = {}
    nodes: list[str] = []
    problems: list[Problem] = []


class Problem(BaseModel):
    """One located problem of a workflow or a request (file, line, node, field, message)."""

    message: str
    file: str | None = None
    line: int | None = None
    node: str | None = None
    field: str | None = None


class ErrorBody(BaseModel):
    """Every error response: a message, its kind, the request id and, for workflows and
    request bodies, the located problems."""

    detail: str
    type: str
    request_id: str | None = None
    problems: list[Problem] = []


class FeedbackRequest(StrictModel):
    """A label for a served prediction, for the evaluator's feedback store (autoglm-eval)."""

    prediction_id: str = Field(min_length=1, max_length=128)
    label: Any = Field(description="The label: any JSON value (a class, a score, a text).")
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Who gave it (default: the API key's name).",
    )
    comment: str | None = Field(default=None, max_length=10_000)
    metadata: dict[str, Any] = Field(default_factory=dict)


class FeedbackResponse(BaseModel):
    id: int
    prediction_id: str
    source: str
    created_at: float


class ServiceConfig(BaseModel):
    """The settings a running service reports and may change (``PUT /v1/config``)."""

    allowed_plugins: list[str] | None
    max_concurrent_runs: int
    log_level: str
    available_plugins: list[str] = []
    chat_model: str | None = None


class ConfigUpdate(StrictModel):
    """A change to the running service; fields left out stay as they are. Changes last until
    the service stops (the start-up configuration applies again after a restart). Types are
    strict: ``false`` is not 0 and ``"2"`` is not 2, so a typo cannot pause the queue."""

    allowed_plugins: list[str] | None = Field(
        default=None, description="Plugins new runs may use (a subset of those installed)."
    )
    reset_allowed_plugins: bool = Field(
        default=False, description="Allow every plugin the service started with again."
    )
    max_concurrent_runs: int | None = Field(default=None, ge=0, le=256)
    log_level: Literal["debug", "info", "warning", "error"] | None = None


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


class ChatMessage(BaseModel):
    role: str = Field(max_length=32)
    content: str


class ChatCompletionRequest(BaseModel):
    """The OpenAI chat completions request, the fields this service honours. Unknown fields
    (``user``, ``logit_bias``...) are accepted and ignored, as OpenAI-compatible servers do."""

    model: str = Field(max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=256)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=8)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: Literal[False] = Field(default=False, description="Streaming is not supported.")

    @field_validator("stop")
    @classmethod
    def _check_stop(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences")
        return stop


class ChatChoice(BaseModel):
    index: int
    message: ChatMessage
    finish_reason: str = "stop"


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage | None = None


def check_status(status: str | None) -> str | None:
    """A run-state filter must be a known state (for a clear 422 instead of an empty page)."""
    if status is not None and status not in RUN_STATES:
        raise ValueError(f"status: expected one of {', '.join(RUN_STATES)}, found {status!r}")
    return status


WorkflowEntry.model_rebuild()
