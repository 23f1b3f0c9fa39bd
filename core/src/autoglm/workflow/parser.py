"""The parser: workflow YAML text in, located data (``LocatedDict``/``LocatedList``) out.

Every failure becomes a ``WorkflowError`` with the file and, where YAML gives one, the line, so
that the validator and its callers never see a raw ``yaml.YAMLError``.
"""

from __future__ import annotations

from typing import Any

import yaml

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.yamlsafe import load_located


def parse_yaml(text: str, path: str | None) -> Any:
    """Parse ``text`` safely into located containers; raises ``WorkflowError``."""
    try:
        return load_located(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise WorkflowError(
            [WorkflowProblem(f"invalid YAML: {problem}", file=path, line=line)]
        ) from None
