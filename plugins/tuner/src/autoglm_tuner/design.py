"""The initial design: the first points of a search, around the objective's defaults, and its
one follow-up point. The only place where designs are made (the search, ``per_choice`` and
the benchmark all take their first points from here).

* ``none``: no design; the optimiser proposes from its first trial.
* ``default``: the start point (the objective's defaults, ``base_config`` applied).
* ``star``: also each field changed alone to the other options of an unordered choice, or to
  both ends of a range or ordered choice (the one-factor-at-a-time screen of experimental
  design), then one follow-up: the start with every change that helped combined.

With ``per_choice`` the design is made around each option of the split choice (its own
defaults for everything else), so every option's optimiser gets its own first points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from autoglm.space import Choice, Dimension
from autoglm_tuner.spaces import unordered

DesignName = Literal["none", "default", "star"]


@dataclass
class Design:
    """Groups of points: each a centre first, then its one-field changes."""

    groups: list[list[dict[str, Any]]]

    def points(self) -> list[dict[str, Any]]:
        return [point for group in self.groups for point in group]

    def follow_ups(self, loss: Callable[[dict[str, Any]], float | None]) -> list[dict[str, Any]]:
        """Per group, the centre with every single change that beat it combined (when two or
        more did; one is a point already tried). ``loss(point)``: its result, None if failed.

        Why: two changes that each helped (strong input dropout; a high learning rate) are
        often needed together, and a local optimiser that mutates one or two fields at a time
        rarely finds the pair."""
        out = []
        for centre, *changes in (g for g in self.groups if len(g) > 1):
            base = loss(centre)
            if base is None:
                continue
            better: dict[str, tuple[Any, float]] = {}
            for point in changes:
                value = loss(point)
                (name,) = [k for k in centre if point[k] != centre[k]]
                if value is not None and value < base and value < better.get(name, (0, base))[1]:
                    better[name] = (point[name], value)
            if len(better) >= 2:
                out.append({**centre, **{name: v for name, (v, _) in better.items()}})
        return out


def make_design(
    name: DesignName, start: dict[str, Any], space: dict[str, Dimension], choice: str | None = None
) -> Design:
    """The design ``name`` around ``start`` (a full point of ``space``); with ``choice`` (an
    unordered choice of the space) one group per option of it."""
    if name == "none":
        return Design([])
    centres = [start]
    if choice is not None:
        centres = [{**start, choice: value} for value in space[choice].values]  # type: ignore[union-attr]
    groups = []
    for centre in centres:
        group = [dict(centre)]
        if name == "star":
            fields = [n for n in space if n != choice]
            for n in fields:
                group += [{**centre, n: v} for v in one_field_values(space[n], centre[n])]
        groups.append(group)
    return Design(groups)


def one_field_values(dim: Dimension, centre: Any) -> list[Any]:
    """What a one-factor-at-a-time screen tries for one field: every other option of an
    unordered choice, else the two ends of the range (or ordered choice) that differ from
    ``centre``."""
    if unordered(dim):
        return [v for v in dim.values if v != centre]  # type: ignore[union-attr]
    values = list(dim.values) if isinstance(dim, Choice) else [dim.low, dim.high]
    return [v for v in dict.fromkeys([values[0], values[-1]]) if v != centre]
