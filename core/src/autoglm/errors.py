"""Exceptions of the core. Each carries a message a user can act on without a traceback."""

from __future__ import annotations


class AutoGLMError(Exception):
    """Base of every error the core raises on purpose."""


class PluginError(AutoGLMError):
    """A plugin could not be found, loaded or selected."""


class WorkflowError(AutoGLMError):
    """A workflow file is invalid. ``problems`` lists every problem found, each located."""

    def __init__(self, problems: list[WorkflowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class WorkflowProblem:
    """One located problem: file, line, node id, field, what was expected and found."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        node: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.node = node
        self.field = field

    def __str__(self) -> str:
        where = self.file or "<workflow>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.node:
            parts.append(f"node {self.node!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts) + ": " + self.message

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "node": self.node,
            "field": self.field,
            "message": self.message,
        }


class NodeCancelled(AutoGLMError):
    """Raised inside a node by ``context.check_cancelled()`` when its run is cancelled or its
    timeout has passed."""


class NodeTimeout(AutoGLMError):
    """A node ran past its timeout."""


class NodeFailed(AutoGLMError):
    """A node failed after its last attempt."""


class RunOwnedError(AutoGLMError):
    """A run could not be taken for execution: another live process executes it."""
