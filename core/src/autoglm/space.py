"""Search-space declarations on pydantic fields.

A node type makes its config searchable by annotating fields with one of the markers below::

    class Config(NodeModel):
        layer: Annotated[str, Choice(["gcn", "gat", "sage"])] = "gcn"
        hidden: Annotated[int, Choice([16, 32, 64], ordered=True)] = 64
        layers: Annotated[int, IntRange(1, 4)] = 2
        lr: Annotated[float, FloatRange(1e-3, 1e-1, log=True)] = 0.01

The markers are plain data kept in the core so that any tuner (the Nevergrad plugin, random
or grid search, a third party's) can read any node's space without importing the node's heavy
code. ``search_space(model)`` returns the declared dimensions in field order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Choice:
    """A categorical dimension. ``ordered=True`` says neighbouring values are similar
    (hidden sizes, layer counts), which lets optimisers step between them."""

    values: list[Any]
    ordered: bool = False

    def grid(self, points: int | None = None) -> list[Any]:
        return list(self.values)


@dataclass(frozen=True)
class IntRange:
    """Integers ``low..high`` inclusive, optionally log-scaled."""

    low: int
    high: int
    log: bool = False

    def grid(self, points: int | None = None) -> list[int]:
        count = self.high - self.low + 1
        if points is None or points >= count:
            return list(range(self.low, self.high + 1))
        values = _spaced(self.low, self.high, points, self.log)
        return sorted({round(v) for v in values})


@dataclass(frozen=True)
class FloatRange:
    """Reals in ``[low, high]``; ``log=True`` for scale parameters (learning rate, decay)."""

    low: float
    high: float
    log: bool = False
    grid_points: int = field(default=3)

    def grid(self, points: int | None = None) -> list[float]:
        return _spaced(self.low, self.high, points or self.grid_points, self.log)


Dimension = Choice | IntRange | FloatRange


def _spaced(low: float, high: float, points: int, log: bool) -> list[float]:
    if points <= 1:
        return [math.sqrt(low * high) if log else (low + high) / 2]
    if log:
        a, b = math.log(low), math.log(high)
        return [math.exp(a + (b - a) * i / (points - 1)) for i in range(points)]
    return [low + (high - low) * i / (points - 1) for i in range(points)]


def search_space(model: type[BaseModel]) -> dict[str, Dimension]:
    """The searchable fields of ``model`` with their dimensions, in declaration order."""
    space: dict[str, Dimension] = {}
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, Choice | IntRange | FloatRange):
                space[name] = meta
                break
    return space


def dimension_from_dict(spec: dict[str, Any]) -> Dimension:
    """Build a dimension from its YAML form, so workflows can narrow or replace a node's space:
    ``{choice: [a, b], ordered: false}``, ``{int: [1, 4], log: false}``,
    ``{float: [0.001, 0.1], log: true}``."""
    if "choice" in spec:
        return Choice(list(spec["choice"]), ordered=bool(spec.get("ordered", False)))
    if "int" in spec:
        low, high = spec["int"]
        return IntRange(int(low), int(high), log=bool(spec.get("log", False)))
    if "float" in spec:
        low, high = spec["float"]
        return FloatRange(float(low), float(high), log=bool(spec.get("log", False)))
    raise ValueError(f"a search dimension needs one of 'choice', 'int' or 'float', got {spec!r}")


def dimension_to_dict(dim: Dimension) -> dict[str, Any]:
    """The YAML/JSON form of a dimension (inverse of ``dimension_from_dict``)."""
    if isinstance(dim, Choice):
        return {"choice": list(dim.values), "ordered": dim.ordered}
    if isinstance(dim, IntRange):
        return {"int": [dim.low, dim.high], "log": dim.log}
    return {"float": [dim.low, dim.high], "log": dim.log}
