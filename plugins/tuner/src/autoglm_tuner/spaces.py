"""The space a search explores: the objective's declared dimensions, narrowed by the workflow.

Everything here is plain Python on ``autoglm.space`` markers (no nevergrad), so that the
random and grid baselines, the warm start and config validation share one definition of
what a valid point is.
"""

from __future__ import annotations

import math
import random
from typing import Any

from pydantic import BaseModel

from autoglm.space import Choice, Dimension, FloatRange, IntRange, dimension_from_dict, search_space

_UNSET: Any = object()


class SpaceError(ValueError):
    """The configured space does not fit the objective's config."""


def resolve_space(
    objective_config: type[BaseModel],
    overrides: dict[str, dict[str, Any]] | None,
    *,
    objective: str,
    fixed: set[str],
    only: bool = False,
) -> dict[str, Dimension]:
    """Declared space of ``objective_config`` with ``overrides`` applied, minus ``fixed`` fields
    (or, with ``only``, just the ``overrides``).

    Fields named in ``base_config`` or the fidelity are fixed and so not searched, unless the
    workflow's ``space`` names them explicitly (an explicit override wins)."""
    fields = objective_config.model_fields
    declared = {} if only else search_space(objective_config)
    space = {name: dim for name, dim in declared.items() if name not in fixed}
    for name, spec in (overrides or {}).items():
        if name not in fields:
            raise SpaceError(
                f"tuner.search config field 'space': {objective!r} has no config field {name!r}; "
                f"its fields are {', '.join(fields)}"
            )
        if not isinstance(spec, dict):
            raise SpaceError(
                f"tuner.search config field 'space.{name}': expected a mapping such as "
                f"{{choice: [...]}} or {{float: [lo, hi], log: true}}, found {spec!r}"
            )
        try:
            space[name] = dimension_from_dict(spec)
        except (ValueError, TypeError) as exc:
            raise SpaceError(f"tuner.search config field 'space.{name}': {exc}") from exc
    if not space:
        raise SpaceError(
            f"tuner.search: nothing to search: {objective!r} declares no searchable config "
            "field (autoglm.space markers) and the config's 'space' adds none"
        )
    for name, dim in space.items():
        _check_dimension(name, dim)
    return space


def _check_dimension(name: str, dim: Dimension) -> None:
    if isinstance(dim, Choice):
        if not dim.values:
            raise SpaceError(f"search dimension {name!r}: a choice needs at least one value")
        return
    if dim.low > dim.high:
        raise SpaceError(f"search dimension {name!r}: low {dim.low} is above high {dim.high}")
    if dim.log and dim.low <= 0:
        raise SpaceError(f"search dimension {name!r}: a log scale needs low > 0, found {dim.low}")


def contains(dim: Dimension, value: Any) -> bool:
    """Whether ``value`` is a point of ``dim`` (used to filter warm-start configs)."""
    if isinstance(dim, Choice):
        return any(value == v and type(value) is type(v) for v in dim.values)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(dim, IntRange) and not float(value).is_integer():
        return False
    return dim.low <= value <= dim.high


def in_space(space: dict[str, Dimension], params: dict[str, Any]) -> bool:
    return set(params) == set(space) and all(contains(space[k], params[k]) for k in space)


def default_point(
    objective_config: type[BaseModel], space: dict[str, Dimension], base: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The start point of a search: the objective's own defaults (``base`` values first), and
    the middle of the range for every field whose default is missing or outside the searched
    range; returns the point and the names of those middle-filled fields (which the search's
    outputs report, so a narrowed space never silently changes where a search starts)."""
    point: dict[str, Any] = {}
    filled: list[str] = []
    for name, dim in space.items():
        if name in base:
            value = base[name]
        else:
            info = objective_config.model_fields[name]
            value = _UNSET if info.is_required() or info.default_factory else info.default
        if value is not _UNSET and contains(dim, value):
            point[name] = value
        else:
            point[name] = middle(dim)
            filled.append(name)
    return point, filled


def unordered(dim: Dimension) -> bool:
    """An unordered choice (layer type, aggregator): its options are not neighbours."""
    return isinstance(dim, Choice) and not dim.ordered


def middle(dim: Dimension) -> Any:
    """A fixed stand-in value: the first option, or the middle of a range (geometric on a log
    scale). Used for fields a point does not search because its objective ignores them."""
    if isinstance(dim, Choice):
        return dim.values[0]
    value = math.sqrt(dim.low * dim.high) if dim.log else (dim.low + dim.high) / 2
    return round(value) if isinstance(dim, IntRange) else value


def sample(space: dict[str, Dimension], rng: random.Random) -> dict[str, Any]:
    """One uniform random point (log-uniform on log scales): the random-search baseline."""
    return {name: _sample_one(dim, rng) for name, dim in space.items()}


def _sample_one(dim: Dimension, rng: random.Random) -> Any:
    if isinstance(dim, Choice):
        return dim.values[rng.randrange(len(dim.values))]
    if dim.log:
        value = math.exp(rng.uniform(math.log(dim.low), math.log(dim.high)))
    else:
        value = rng.uniform(dim.low, dim.high)
    if isinstance(dim, IntRange):
        return min(dim.high, max(dim.low, round(value)))
    return value


def grid_axes(space: dict[str, Dimension], points: int) -> dict[str, list[Any]]:
    """The values each dimension takes on the grid: every choice, ``points`` numbers per range."""
    axes: dict[str, list[Any]] = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            axes[name] = list(dim.values)
        elif isinstance(dim, IntRange):
            axes[name] = dim.grid(points)
        else:
            axes[name] = FloatRange(dim.low, dim.high, dim.log).grid(points)
    return axes


def grid_size(axes: dict[str, list[Any]]) -> int:
    return math.prod(len(values) for values in axes.values())


def grid_point(axes: dict[str, list[Any]], index: int) -> dict[str, Any]:
    """The ``index``-th point of the grid in mixed-radix order (last axis fastest), so a
    shuffled subset of a huge grid never has to be materialised."""
    point: dict[str, Any] = {}
    for name in reversed(list(axes)):
        values = axes[name]
        index, digit = divmod(index, len(values))
        point[name] = values[digit]
    return {name: point[name] for name in axes}


def finite_points(space: dict[str, Dimension], limit: int) -> list[dict[str, Any]] | None:
    """Every point of a space made only of choices and integer ranges, or None when the space
    has a float range or more than ``limit`` points. Used to tell when a small space is
    exhausted, instead of drawing random points forever."""
    axes: dict[str, list[Any]] = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            axes[name] = list(dim.values)
        elif isinstance(dim, IntRange):
            axes[name] = list(range(dim.low, dim.high + 1))
        else:
            return None
    if grid_size(axes) > limit:
        return None
    return [grid_point(axes, index) for index in range(grid_size(axes))]
