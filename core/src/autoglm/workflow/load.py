"""The two entry points: validate a workflow file, or workflow text already in memory."""

from __future__ import annotations

from pathlib import Path

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.plugins import Host
from autoglm.workflow.model import Workflow
from autoglm.workflow.validator import _Validator


def load_workflow(path: str | Path, host: Host) -> Workflow:
    """Read and validate a workflow file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowError(
            [WorkflowProblem(f"cannot read workflow: {exc}", file=str(path))]
        ) from None
    return parse_workflow(text, host, path=str(path))


def parse_workflow(text: str, host: Host, *, path: str | None = None) -> Workflow:
    """Parse and validate workflow YAML text; ``path`` is used in error messages."""
    return _Validator(text, host, path).run()
