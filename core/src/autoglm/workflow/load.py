"""The two entry points: validate a workflow file, or workflow text already in memory."""

from __future__ import annotations

from pathlib import Path

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.plugins import Host
from autoglm.workflow.limits import ParseLimits
from autoglm.workflow.model import Workflow
from autoglm.workflow.parser import decode_workflow
from autoglm.workflow.validator import _Validator


def load_workflow(path: str | Path, host: Host, *, limits: ParseLimits | None = None) -> Workflow:
    """Read and validate a workflow file; raises ``WorkflowError`` and nothing else. At most
    ``limits.max_bytes`` + 1 bytes are read, so a huge file costs nothing."""
    limits = limits or ParseLimits.from_env()
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise WorkflowError(
            [WorkflowProblem(f"cannot read workflow: {exc.strerror or exc}", file=str(path))]
        ) from None
    text = decode_workflow(data, str(path), limits)
    return parse_workflow(text, host, path=str(path), limits=limits)


def parse_workflow(
    text: str, host: Host, *, path: str | None = None, limits: ParseLimits | None = None
) -> Workflow:
    """Parse and validate workflow YAML text; ``path`` is used in error messages. Raises
    ``WorkflowError`` and nothing else."""
    return _Validator(text, host, path, limits or ParseLimits.from_env()).run()
