"""The workflow model: what a validated workflow is, independent of how it was written.

These classes are what the engine, the service and the diagram maker consume; they hold no YAML
and no line numbers, so that nothing downstream depends on the parser or the validator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.expressions import Condition, Reference
from autoglm.shortrepr import short

NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z0-9_.-]+))?$")
TOP_KEYS = {
    "name",
    "description",
    "version",
    "inputs",
    "defaults",
    "nodes",
    "outputs",
    "executor",
}
NODE_KEYS = {
    "id",
    "type",
    "description",
    "config",
    "inputs",
    "when",
    "retry",
    "timeout",
    "cache",
    "isolation",
    "environment",
    "resources",
}
SETTING_KEYS = {"retry", "timeout", "cache", "isolation", "environment"}
INPUT_TYPES: dict[str, Any] = {
    "any": Any,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}
RUN_INPUTS = "inputs"
#: ``$workflow.dir`` (folder of the workflow file), ``$workflow.file``, ``$workflow.name``: lets
#: a workflow name files beside itself wherever it is run from.
WORKFLOW_REF = "workflow"
WORKFLOW_FIELDS = ("dir", "file", "name")
RESERVED_ROOTS = frozenset({RUN_INPUTS, WORKFLOW_REF})
_MISSING = object()
#: Upper bounds of the execution settings: beyond them a value is a typo, and some would break
#: the engine (a timeout of 1e300 s overflows a thread wait; 1e9 attempts retry forever).
MAX_TIMEOUT_S = 30 * 24 * 3600.0
MAX_ATTEMPTS = 100
MAX_DELAY_S = 24 * 3600.0


class RetryPolicy(BaseModel):
    """Attempts with exponential backoff. Defaults follow LangGraph's: 0.5 s, x2, at most
    128 s, with jitter; ``attempts`` counts the first try (1 = no retry)."""

    attempts: int = Field(1, le=MAX_ATTEMPTS)
    initial_delay: float = Field(0.5, ge=0, le=MAX_DELAY_S, allow_inf_nan=False)
    backoff: float = Field(2.0, ge=1, le=10, allow_inf_nan=False)
    max_delay: float = Field(128.0, ge=0, le=MAX_DELAY_S, allow_inf_nan=False)
    jitter: bool = True

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed ``attempt`` (1-based); ``rand`` in [0, 1)."""
        base = min(self.max_delay, self.initial_delay * self.backoff ** (attempt - 1))
        return base * (0.5 + rand) if self.jitter else base


class NodeSettings(BaseModel):
    """Execution settings of a node; workflow-level ``defaults`` fill what a node leaves out."""

    retry: RetryPolicy = RetryPolicy()
    #: seconds; must be finite and > 0 (``0``, ``-1`` and ``.nan`` cannot time anything out)
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)
    cache: bool = True
    isolation: str = "auto"  # auto: a process when a timeout is set, else a thread
    #: a registered Python environment to run in (``autoglm.environments``); None: this one
    environment: str | None = Field(None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


#: A Kubernetes quantity: ``500m`` CPU, ``4Gi`` memory, or a plain number.
_QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$"


class NodeResources(BaseModel):
    """What one node needs from a cluster when a workflow is exported (``autoglm export``):
    local runs ignore it, a Kubeflow or Argo step requests it. Quantities are Kubernetes'
    (``cpu: 2`` or ``"500m"``, ``memory: "4Gi"``) and are checked here, so a typo fails
    ``autoglm validate`` instead of a pipeline submission hours later."""

    model_config = {"extra": "forbid"}

    cpu: str | None = Field(None, pattern=_QUANTITY)
    memory: str | None = Field(None, pattern=_QUANTITY)
    gpu: int = Field(0, ge=0, le=64)
    #: the accelerator type a cluster schedules on (``nvidia.com/gpu``); needs ``gpu`` > 0
    gpu_type: str | None = Field(None, min_length=1, max_length=253)

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        """``cpu: 2`` and ``memory: 1073741824`` are quantities too (YAML reads them as
        numbers); a bool is not."""
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return f"{value:g}" if isinstance(value, float) else str(value)
        return value

    @model_validator(mode="after")
    def _type_needs_gpu(self) -> NodeResources:
        if self.gpu_type is not None and self.gpu == 0:
            raise ValueError("gpu_type is set but gpu is 0")
        return self


@dataclass(frozen=True)
class InputRef:
    """Where a node input comes from: a node output, a run input, or the first branch that ran."""

    sources: tuple[Reference, ...]
    first_of: bool = False

    @property
    def nodes(self) -> set[str]:
        return {ref.root for ref in self.sources if ref.root not in RESERVED_ROOTS}


@dataclass(frozen=True)
class InputStruct:
    """A dict or list literal with references inside (``{graph: $load.path, seed: 3}``): the
    references are resolved and the structure rebuilt when the node runs."""

    value: Any

    @property
    def refs(self) -> list[InputRef]:
        found: list[InputRef] = []

        def walk(item: Any) -> None:
            if isinstance(item, InputRef):
                found.append(item)
            elif isinstance(item, dict):
                for child in item.values():
                    walk(child)
            elif isinstance(item, list):
                for child in item:
                    walk(child)

        walk(self.value)
        return found

    @property
    def nodes(self) -> set[str]:
        return set().union(*(ref.nodes for ref in self.refs))


def input_refs(value: Any) -> list[InputRef]:
    """The references of a node input value: none for a literal, one, or those in a structure."""
    if isinstance(value, InputRef):
        return [value]
    if isinstance(value, InputStruct):
        return value.refs
    return []


@dataclass
class WorkflowNode:
    id: str
    type: str
    config: dict[str, Any]
    inputs: dict[str, Any]  # literal values, InputRef or InputStruct
    settings: NodeSettings
    when: Condition | None = None
    description: str = ""
    line: int | None = None
    #: cluster resources for exported pipelines (``resources:``); None when not given
    resources: NodeResources | None = None

    @property
    def depends_on(self) -> set[str]:
        deps: set[str] = set()
        for value in self.inputs.values():
            for ref in input_refs(value):
                deps |= ref.nodes
        if self.when is not None:
            deps |= {ref.root for ref in self.when.references if ref.root not in RESERVED_ROOTS}
        return deps


@dataclass
class RunInput:
    type: str = "any"
    default: Any = _MISSING
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is _MISSING


@dataclass
class Workflow:
    name: str
    description: str
    source: str
    path: str | None
    inputs: dict[str, RunInput]
    nodes: dict[str, WorkflowNode]
    outputs: dict[str, InputRef | Any]
    order: list[str] = field(default_factory=list)
    #: where its node attempts run (``{"name": "dask", "options": {...}}``); None: the
    #: command's choice, else ``local`` (``autoglm.executors``)
    executor: dict[str, Any] | None = None

    @property
    def children(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for node in self.nodes.values():
            for dep in node.depends_on:
                result[dep].append(node.id)
        return result

    def reference_values(self) -> dict[str, str | None]:
        """Values of ``$workflow.dir``, ``$workflow.file`` and ``$workflow.name``."""
        file = str(Path(self.path).resolve()) if self.path else None
        folder = str(Path(file).parent) if file else str(Path.cwd())
        return {"dir": folder, "file": file, "name": self.name}

    def resolve_inputs(self, given: dict[str, Any]) -> dict[str, Any]:
        """Run inputs with defaults filled in and types checked; raises ``WorkflowError``."""
        problems: list[WorkflowProblem] = []
        values: dict[str, Any] = {}
        for name in given:
            if name not in self.inputs:
                declared = ", ".join(sorted(self.inputs)) or "(none)"
                problems.append(
                    WorkflowProblem(
                        f"unknown run input {name!r}; the workflow declares: {declared}",
                        file=self.path,
                        field=f"inputs.{name}",
                    )
                )
        for name, spec in self.inputs.items():
            if name in given:
                value = given[name]
            elif not spec.required:
                value = spec.default
            else:
                problems.append(
                    WorkflowProblem(
                        f"run input {name!r} ({spec.type}) is required and was not given",
                        file=self.path,
                        field=f"inputs.{name}",
                    )
                )
                continue
            try:
                values[name] = TypeAdapter(INPUT_TYPES[spec.type]).validate_python(value)
            except ValidationError as exc:
                problems.append(
                    WorkflowProblem(
                        f"expected {spec.type}, found {short(value)}: {_first_error(exc)}",
                        file=self.path,
                        field=f"inputs.{name}",
                    )
                )
        if problems:
            raise WorkflowError(problems)
        return values


def _first_error(exc: ValidationError) -> str:
    return exc.errors()[0]["msg"] if exc.errors() else str(exc)
