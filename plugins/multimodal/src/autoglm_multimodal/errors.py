"""Errors of the multimodal plugin. Each one names the file (and the item) at fault and the
problem, so a user with ten thousand files can fix the one that is broken without a traceback."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from autoglm.errors import AutoGLMError


class BadInput(AutoGLMError, ValueError):
    """One input file (or value) cannot be used: raised by the per-item loaders, caught by the
    node, and turned into an :class:`ItemProblem` so the other items go on."""


@dataclass(frozen=True)
class ItemProblem:
    """A located problem of one item: which item, which file, what is wrong."""

    item: str
    file: str | None
    problem: str

    def message(self) -> str:
        where = self.file if self.file else f"item {self.item!r}"
        return f"{where}: {self.problem}" + (f" (item {self.item!r})" if self.file else "")

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


class MultimodalError(AutoGLMError, ValueError):
    """A node cannot produce its result: bad manifest, leakage between splits, too many bad
    items when ``on_error: fail``. The message says what to change."""


class ItemsFailed(MultimodalError):
    """``on_error: fail`` and at least one item is bad: every problem is listed (the first 20
    in the message), not only the first one met."""

    def __init__(self, modality: str, problems: list[ItemProblem]) -> None:
        self.problems = problems
        shown = "; ".join(p.message() for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} {modality} item(s) failed and on_error is 'fail': {shown}{more}"
        )
