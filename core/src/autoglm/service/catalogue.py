"""The workflows a service offers by name: the ``*.yaml`` files of its workflows folder.

A name is a file stem and nothing else: it must match ``[A-Za-z0-9_.-]+`` and resolve inside
the folder, so a request cannot read ``../secrets.yaml``. Problems in a workflow name the file
relative to the folder, so answers never reveal the server's paths.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.plugins import Host
from autoglm.service.schemas import Problem, WorkflowEntry, WorkflowInputInfo
from autoglm.workflow import (
    ParseLimits,
    Workflow,
    decode_workflow,
    enforce_limits,
    parse_workflow,
)

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
SUFFIXES = (".yaml", ".yml")
INLINE = "<inline>"


class UnknownWorkflow(LookupError):
    """No workflow of that name in the folder."""


def problems_of(exc: WorkflowError) -> list[Problem]:
    return [Problem.model_validate(p.to_dict()) for p in exc.problems]


class Catalogue:
    """The workflows folder. Parsed workflows are memoised per file version and host (a
    ``Workflow`` is read-only once validated), so a busy service does not re-validate the same
    file on every submission; an edited file is parsed again."""

    def __init__(self, folder: str | Path, memo_size: int = 64) -> None:
        self.folder = Path(folder).resolve()
        self._memo: dict[tuple[str, int, int, int], Workflow] = {}
        self._memo_size = memo_size

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p.stem for p in self.folder.iterdir() if p.suffix in SUFFIXES and NAME.match(p.stem)
        )

    def path_of(self, name: str) -> Path:
        """The file of workflow ``name``; raises ``UnknownWorkflow``."""
        if NAME.match(name) and ".." not in name:
            for suffix in SUFFIXES:
                path = (self.folder / f"{name}{suffix}").resolve()
                if path.parent == self.folder and path.is_file():
                    return path
        known = ", ".join(self.names()) or "(none)"
        raise UnknownWorkflow(f"no workflow named {name!r}; the service offers: {known}")

    def source(self, name: str) -> tuple[str, str]:
        """``(yaml text, display path)`` of workflow ``name``."""
        path = self.path_of(name)
        limits = ParseLimits.from_env()
        try:
            with path.open("rb") as handle:
                data = handle.read(limits.max_bytes + 1)
        except OSError as exc:
            raise WorkflowError(
                [WorkflowProblem(f"cannot read workflow: {exc.strerror}", file=path.name)]
            ) from None
        return decode_workflow(data, path.name, limits), path.name

    def parse(self, name: str, host: Host) -> Workflow:
        path = self.path_of(name)
        try:
            stat = path.stat()
        except OSError:
            stat = None
        key = (name, stat.st_mtime_ns, stat.st_size, id(host)) if stat else None
        if key is not None and key in self._memo:
            return self._memo[key]
        text, display = self.source(name)
        workflow = parse_workflow(text, host, path=display)
        if key is not None:
            if len(self._memo) >= self._memo_size:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = workflow
        return workflow

    def describe(self, name: str, host: Host) -> WorkflowEntry:
        """A listing entry; an invalid workflow is listed with its problems."""
        try:
            wf = self.parse(name, host)
        except WorkflowError as exc:
            return WorkflowEntry(name=name, valid=False, problems=problems_of(exc))
        return WorkflowEntry(
            name=name,
            title=wf.name,
            description=wf.description,
            valid=True,
            nodes=list(wf.order),
            inputs={
                key: WorkflowInputInfo(
                    type=spec.type,
                    required=spec.required,
                    default=None if spec.required else spec.default,
                    description=spec.description,
                )
                for key, spec in wf.inputs.items()
            },
        )


#: Limits on inline YAML beyond the body size and the workflow parser's own (the expanded size
#: of aliases, 1 MB): a request is parsed in the API process, so it gets tighter bounds than
#: a file an operator wrote. No real workflow comes near either.
MAX_ALIASES = 100
MAX_DEPTH = 64


def check_inline_yaml(text: str) -> None:
    """Refuse inline YAML that would be expensive to load, in milliseconds and before anything
    builds it (a 530-byte alias bomb expands to billions of values); raises
    ``WorkflowError``. The same bounded parser as ``autoglm validate``."""
    limits = replace(ParseLimits.from_env(), max_aliases=MAX_ALIASES, max_depth=MAX_DEPTH)
    enforce_limits(text, INLINE, limits)
