"""Errors of the gnn plugin. Each message names the file or field at fault and what was
expected versus found, so a user can fix their input without reading a traceback."""

from __future__ import annotations

from pathlib import Path

from autoglm.errors import AutoGLMError


class GraphFileError(AutoGLMError, ValueError):
    """A graph, feature, label, mask or checkpoint file is missing or malformed."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class GNNConfigError(AutoGLMError, ValueError):
    """A training configuration cannot be built into a model (e.g. an unknown device)."""
