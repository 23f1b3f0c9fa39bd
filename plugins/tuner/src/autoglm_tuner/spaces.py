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
) -> dict[str, Any]:
    """The objective's own defaults (``base`` values first) for the searched dimensions that
    contain them. A dimension whose range leaves the default out, or whose field has no
    default, is missing from the result (the optimiser starts it where it likes)."""
    point: dict[str, Any] = {}
    for name, dim in space.items():
        if name in base:
            value = base[name]
        else:
            info = objective_config.model_fields[name]
            if info.is_required() or info.default_factory is not None:
                continue
            value = info.default
        if contains(dim, value):
            point[name] = value
    return point


def start_points(
    start: dict[str, Any], space: dict[str, Dimension], design: str = "default"
) -> list[dict[str, Any]]:
    """The first points of a search, one field changed at a time from ``start`` (the
    objective's defaults). ``design``: ``none`` (no point), ``default`` (``start`` itself),
    ``options`` (also every other option of each unordered choice), ``star`` (also the two
    ends of every range and ordered choice).

    Why: an unordered choice (layer type, aggregator) switches between models that a local
    optimiser cannot reach by small steps, and which option wins at the defaults says where to
    start climbing. The star adds the classic one-factor-at-a-time screen: good values often
    sit at the end of a declared range (strong input dropout, a high learning rate), where
    samplers and mutations rarely land, and each end tried once shows the optimiser which way
    to go. Empty when ``start`` does not cover the space."""
    if design == "none" or set(start) != set(space):
        return []
    points = [dict(start)]
    if design in ("options", "star"):
        points += one_field_changes(start, space, [n for n, d in space.items() if unordered(d)])
    if design == "star":
        points += one_field_changes(start, space, [n for n, d in space.items() if not unordered(d)])
    return points


def one_field_changes(
    centre: dict[str, Any], space: dict[str, Dimension], fields: list[str]
) -> list[dict[str, Any]]:
    """``centre`` with one of ``fields`` changed at a time, to each of its
    ``one_field_values``, field by field in the order given."""
    return [{**centre, n: v} for n in fields for v in one_field_values(space[n], centre[n])]


def one_field_values(dim: Dimension, centre: Any) -> list[Any]:
    """What a one-factor-at-a-time design tries for one field: every other option of an
    unordered choice, else the two ends of the range (or ordered choice) that differ from
    ``centre``."""
    if unordered(dim):
        return [v for v in dim.values if v != centre]
    values = list(dim.values) if isinstance(dim, Choice) else [dim.low, dim.high]
    return [v for v in dict.fromkeys([values[0], values[-1]]) if v != centre]


def unordered(dim: Dimension) -> bool:
    """An unordered choice (layer type, aggregator): its options are not neighbours."""
    return isinstance(dim, Choice) and not dim.ordered


def combine_main_effects(results: list[tuple[dict[str, Any], float]]) -> dict[str, Any] | None:
    """The point that takes, for every field, the value that beat the first result when that
    field alone was changed (``results``: (params, loss) of a one-field-at-a-time design, its
    centre first). None unless two or more fields improved (one is a point already tried).

    Why: the classic follow-up of a one-factor-at-a-time screen. Two changes that each helped
    (strong input dropout; a high learning rate) are often needed together, and a local
    optimiser that mutates one or two fields at a time rarely finds the pair under noise."""
    if not results:
        return None
    centre, centre_loss = results[0]
    winners = winning_changes(centre, centre_loss, results[1:])
    return {**centre, **dict(winners)} if len(winners) >= 2 else None


def winning_changes(
    base: dict[str, Any], base_loss: float, results: list[tuple[dict[str, Any], float]]
) -> list[tuple[str, Any]]:
    """(field, value) of each one-field change that beat ``base``, best first; per field only
    its better end."""
    best: dict[str, tuple[Any, float]] = {}
    for params, loss in results:
        changed = [k for k in base if params.get(k) != base[k]]
        if len(changed) == 1 and loss < base_loss:
            name = changed[0]
            if name not in best or loss < best[name][1]:
                best[name] = (params[name], loss)
    ranked = sorted(best.items(), key=lambda item: item[1][1])
    return [(name, value) for name, (value, _) in ranked]


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
