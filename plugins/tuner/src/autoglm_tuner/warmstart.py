"""Warm start: learn from earlier searches on similar tasks (meta-learning over past runs).

Every finished search journals a ``search_summary`` record: the objective, the metric, the task
profile it was given (graph statistics) and its best configurations. A new search with a
profile looks these up across all runs in the store, keeps those of the same objective and
metric whose profile is close, and asks their best configurations first. Profile distance
(:func:`profile_distance`) lies in [0, 1]: the mean relative difference over the statistics
both profiles share, unless one of the statistics a profile marks as key (``key_statistics``)
disagrees more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autoglm.space import Dimension
from autoglm_tuner.spaces import in_space

SUMMARY_KIND = "search_summary"
WARM_START_KIND = "warm_start"


def flatten(profile: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"degree": {"mean": 3.9}}`` -> ``{"degree.mean": 3.9}``; lists are left out."""
    flat: dict[str, Any] = {}
    for key, value in profile.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, bool | int | float | str) or value is None:
            flat[name] = value
    return flat


#: Reserved profile field: the dotted names of the statistics that decide what transfers
#: (e.g. a graph profile's homophily). Domain-free: the tuner only reads the names.
KEY_FIELD = "key_statistics"


def profile_distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Distance in [0, 1] of two task profiles; 1.0 when they share no statistic.

    The larger of (1) the mean over shared statistics of ``|x-y| / max(|x|,|y|)`` (0/1 for
    non-numbers), scale free, and (2) the largest difference of a *key* statistic (named in
    either profile's ``key_statistics``): absolute for values in [0, 1] (a rate, a share),
    else relative. Why: the mean dilutes one decisive disagreement over the many statistics
    that agree (sizes, degrees); two graphs of opposite homophily and equal size came out
    0.05 apart, so their searches transferred wrong rankings to each other."""
    fa, fb = flatten(a), flatten(b)
    shared = sorted(set(fa) & set(fb))
    if not shared:
        return 1.0
    diffs = {key: _difference(fa[key], fb[key]) for key in shared}
    keys = {k for p in (a, b) for k in p.get(KEY_FIELD) or () if isinstance(k, str)}
    key_diffs = [_key_difference(fa[k], fb[k]) for k in keys if k in diffs]
    return max([sum(diffs.values()) / len(diffs), *key_diffs])


def _difference(x: Any, y: Any) -> float:
    """One statistic's disagreement in [0, 1] (see :func:`profile_distance`)."""
    if not (_number(x) and _number(y)):
        return 0.0 if x == y else 1.0
    scale = max(abs(x), abs(y))
    return 0.0 if scale == 0 else min(1.0, abs(x - y) / scale)


def _key_difference(x: Any, y: Any) -> float:
    """A key statistic's disagreement: absolute for two values in [0, 1], else relative."""
    if _number(x) and _number(y) and 0 <= x <= 1 and 0 <= y <= 1:
        return abs(x - y)
    return _difference(x, y)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class WarmStart:
    configs: list[dict[str, Any]]
    sources: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"configs": self.configs, "sources": self.sources}


def near_searches(
    summaries: list[tuple[str, str, Any]],
    *,
    objective: str,
    metric: str,
    profile: dict[str, Any],
    max_distance: float,
    exclude: tuple[str, str] | None = None,
) -> list[tuple[float, str, str, dict[str, Any]]]:
    """(distance, run_id, node_id, summary) of the earlier searches of ``objective`` and
    ``metric`` whose profile lies within ``max_distance``, nearest first (ties: journal order).
    The one lookup behind the warm start and the space prior (prior.py)."""
    near: list[tuple[float, int, str, str, dict[str, Any]]] = []
    for order, (run_id, node_id, summary) in enumerate(summaries):
        if (run_id, node_id) == exclude or not isinstance(summary, dict):
            continue
        if summary.get("objective") != objective or summary.get("metric") != metric:
            continue
        distance = profile_distance(profile, summary.get("profile") or {})
        if distance <= max_distance:
            near.append((distance, order, run_id, node_id, summary))
    near.sort(key=lambda item: (item[0], item[1]))
    return [(distance, run_id, node_id, summary) for distance, _, run_id, node_id, summary in near]


def find_warm_start(
    summaries: list[tuple[str, str, Any]],
    *,
    objective: str,
    metric: str,
    profile: dict[str, Any],
    space: dict[str, Dimension],
    max_distance: float,
    limit: int,
    exclude: tuple[str, str] | None = None,
) -> WarmStart:
    """Best configs of the nearest earlier searches, nearest first, valid in ``space``."""
    near = near_searches(
        summaries,
        objective=objective,
        metric=metric,
        profile=profile,
        max_distance=max_distance,
        exclude=exclude,
    )
    # Round-robin over neighbours: the best valid config of each close task before the
    # second-bests, so one task does not crowd out the others.
    valid = [
        (distance, run_id, [c for c in summary.get("top_configs", []) if in_space(space, c)])
        for distance, run_id, _node_id, summary in near
    ]
    configs: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    for rank in range(max((len(tops) for *_, tops in valid), default=0)):
        for distance, run_id, tops in valid:
            if len(configs) < limit and rank < len(tops) and tops[rank] not in configs:
                configs.append(dict(tops[rank]))
                sources.append({"run_id": run_id, "distance": round(distance, 4)})
    return WarmStart(configs, sources)
