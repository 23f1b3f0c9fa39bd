"""Unit tests of the tuner's parts that need no worker process: spaces, strategies, the
fidelity scheduler, rank correlation, warm-start matching and config validation."""

from __future__ import annotations

import math
import random
from typing import Annotated

import pytest
from core_helpers import assert_light_import

from autoglm import Choice, FloatRange, IntRange, NodeModel
from autoglm_tuner import spaces
from autoglm_tuner.config import FidelityConfig
from autoglm_tuner.fidelity import Scheduler, promotion_fraction, rungs, spearman
from autoglm_tuner.strategies import (
    GridStrategy,
    NevergradStrategy,
    check_optimizer_name,
)
from autoglm_tuner.warmstart import find_warm_start, profile_distance


class Cfg(NodeModel):
    layer: Annotated[str, Choice(["gcn", "gat", "sage"])] = "gcn"
    hidden: Annotated[int, Choice([16, 32, 64], ordered=True)] = 16
    depth: Annotated[int, IntRange(1, 4)] = 2
    lr: Annotated[float, FloatRange(1e-3, 1e-1, log=True)] = 0.01
    dropout: Annotated[float, FloatRange(0.0, 0.8)] = 0.5
    epochs: int = 100


SPACE = spaces.resolve_space(Cfg, None, objective="toy", fixed=set())


def test_plugin_import_stays_light():
    assert_light_import(
        "autoglm_tuner.plugin, autoglm_tuner.node, autoglm_tuner.config",
        ("torch", "dgl", "nevergrad", "numpy", "matplotlib"),
    )


def test_resolve_space_overrides_and_fixed_fields():
    space = spaces.resolve_space(
        Cfg,
        {"hidden": {"choice": [32, 64], "ordered": True}, "epochs": {"int": [10, 50]}},
        objective="toy",
        fixed={"layer", "dropout"},
    )
    assert list(space) == ["hidden", "depth", "lr", "epochs"]
    assert space["hidden"] == Choice([32, 64], ordered=True)
    assert space["epochs"] == IntRange(10, 50)


def test_space_only_searches_just_the_named_fields():
    space = spaces.resolve_space(
        Cfg, {"depth": {"int": [1, 2]}}, objective="toy", fixed=set(), only=True
    )
    assert space == {"depth": IntRange(1, 2)}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"widht": {"int": [1, 2]}}, "has no config field 'widht'"),
        ({"depth": [1, 2]}, "expected a mapping"),
        ({"depth": {"range": [1, 2]}}, "needs one of 'choice', 'int' or 'float'"),
        ({"lr": {"float": [0.0, 1.0], "log": True}}, "log scale needs low > 0"),
        ({"depth": {"int": [5, 1]}}, "low 5 is above high 1"),
    ],
)
def test_resolve_space_errors_name_the_field(overrides, message):
    with pytest.raises(spaces.SpaceError, match=message):
        spaces.resolve_space(Cfg, overrides, objective="toy", fixed=set())


def test_random_samples_stay_in_space_and_are_seeded():
    draws = [spaces.sample(SPACE, random.Random(3)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = random.Random(0)
    points = [spaces.sample(SPACE, rng) for _ in range(300)]
    assert all(spaces.in_space(SPACE, p) for p in points)
    assert {p["layer"] for p in points} == {"gcn", "gat", "sage"}
    # log-uniform: about a third of the draws below 1e-2 ... 1e-1 decade boundaries
    low = sum(p["lr"] < 1e-2 for p in points) / len(points)
    assert 0.4 < low < 0.6


def test_contains_rejects_wrong_types_and_out_of_range():
    assert not spaces.contains(Choice([1, 2]), True)
    assert not spaces.contains(IntRange(1, 4), 2.5)
    assert not spaces.contains(FloatRange(0.0, 1.0), 1.5)
    assert spaces.contains(IntRange(1, 4), 4)


def test_grid_enumerates_every_point_once_in_seeded_order():
    grid = GridStrategy(SPACE, seed=1, points=2, budget=10_000)
    assert grid.size == 3 * 3 * 2 * 2 * 2
    asked = []
    while (candidate := grid.ask()) is not None:
        asked.append(candidate.params)
    assert len(asked) == grid.size
    assert len({tuple(sorted(p.items())) for p in asked}) == grid.size
    other = GridStrategy(SPACE, seed=2, points=2, budget=5)
    assert len([other.ask() for _ in range(5)]) == 5 and other.ask() is None


def test_ngopt_names_the_optimiser_it_picked():
    strategy = NevergradStrategy("NGOpt", SPACE, budget=30, workers=2, seed=0)
    assert strategy.used == "NGOpt -> DiscreteLenglerOnePlusOne"


def test_nevergrad_strategy_is_seeded_and_starts_from_told_results():
    def asks(seed):
        strategy = NevergradStrategy("TwoPointsDE", SPACE, budget=20, workers=1, seed=seed)
        out = []
        for _ in range(6):
            candidate = strategy.ask()
            strategy.tell(candidate, candidate.params["lr"])
            out.append(candidate.params)
        return out

    assert asks(0) == asks(0)
    assert asks(0) != asks(1)
    assert all(spaces.in_space(SPACE, p) for p in asks(0))
    strategy = NevergradStrategy("NGOpt", SPACE, budget=20, workers=1, seed=0)
    warm = {"layer": "sage", "hidden": 32, "depth": 4, "lr": 0.05, "dropout": 0.25}
    strategy.tell_unasked(warm, 0.0)
    got = strategy.ask().params
    assert {k: got[k] for k in ("layer", "hidden", "depth")} == {
        "layer": "sage",
        "hidden": 32,
        "depth": 4,
    }
    assert got["lr"] == pytest.approx(0.05) and got["dropout"] == pytest.approx(0.25)


def test_unknown_optimizer_names_close_matches():
    check_optimizer_name("CMA")
    check_optimizer_name("grid")
    with pytest.raises(ValueError, match="did you mean .*TwoPointsDE"):
        check_optimizer_name("TwoPointDE")


def test_rungs_are_geometric_from_min_to_max():
    assert rungs(None) == [None]
    assert rungs(FidelityConfig(field="max_epochs", min=50, max=200, eta=4)) == [50, 200]
    assert rungs(FidelityConfig(field="max_epochs", min=20, max=200, eta=3)) == [20, 43, 93, 200]
    assert rungs(FidelityConfig(field="max_epochs", min=200, max=200)) == [200]
    with pytest.raises(ValueError, match="must not exceed"):
        FidelityConfig(field="max_epochs", min=300, max=200)


def test_successive_halving_promotes_exactly_the_top_fraction():
    fidelity = FidelityConfig(field="max_epochs", min=10, max=90, eta=9, top_fraction=0.3)
    scheduler = Scheduler(2, promotion_fraction(fidelity, 2), synchronous=True)
    losses = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 1.0]
    for trial, loss in enumerate(losses[:6]):
        scheduler.record(trial, 0, loss)
    assert scheduler.promotions(10, final=False) == []  # rung not complete: nothing yet
    for trial, loss in enumerate(losses[6:], start=6):
        scheduler.record(trial, 0, loss)
    scheduler.record(10, 0, None)  # a failed trial is never promoted
    jobs = scheduler.promotions(2, final=True) + scheduler.promotions(2, final=True)
    assert jobs == [(1, 1), (5, 1), (3, 1)]  # ceil(0.3 * 10) = 3 best, best first
    assert scheduler.promotions(2, final=True) == []


def test_asha_promotes_early_from_partial_rungs():
    scheduler = Scheduler(3, 0.5, synchronous=False)
    for trial, loss in enumerate([0.4, 0.2, 0.9, 0.1]):
        scheduler.record(trial, 0, loss)
    assert scheduler.promotions(10) == [(3, 1), (1, 1)]
    scheduler.record(3, 1, 0.05)
    scheduler.record(1, 1, 0.3)
    assert scheduler.promotions(10) == [(3, 2)]


def test_spearman_matches_known_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(22.5))
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_profile_distance_is_scale_free_and_bounded():
    cora = {"nodes": 2708, "edges": 10556, "features": 1433, "classes": 7, "homophily": 0.81}
    close = {"nodes": 2500, "edges": 10000, "features": 1433, "classes": 7, "homophily": 0.8}
    far = {"nodes": 100000, "edges": 5e6, "features": 100, "classes": 40, "homophily": 0.2}
    assert profile_distance(cora, cora) == 0
    assert profile_distance(cora, close) < 0.05 < 0.5 < profile_distance(cora, far) <= 1
    assert profile_distance(cora, {"other": 1}) == 1.0
    assert profile_distance({"a": {"b": 1.0}}, {"a": {"b": 2.0}}) == 0.5


def test_find_warm_start_prefers_near_tasks_and_skips_invalid_configs():
    good = {"layer": "gat", "hidden": 64, "depth": 2, "lr": 0.01, "dropout": 0.5}
    second = {**good, "layer": "sage"}
    invalid = {**good, "hidden": 999}
    summaries = [
        (
            "far",
            "s",
            {"objective": "toy", "metric": "acc", "profile": {"n": 10.0}, "top_configs": [second]},
        ),
        (
            "near",
            "s",
            {
                "objective": "toy",
                "metric": "acc",
                "profile": {"n": 100.0},
                "top_configs": [invalid, good],
            },
        ),
        (
            "other",
            "s",
            {"objective": "other", "metric": "acc", "profile": {"n": 100.0}, "top_configs": [good]},
        ),
        (
            "me",
            "s",
            {"objective": "toy", "metric": "acc", "profile": {"n": 100.0}, "top_configs": [second]},
        ),
    ]
    warm = find_warm_start(
        summaries,
        objective="toy",
        metric="acc",
        profile={"n": 101.0},
        space=SPACE,
        max_distance=0.25,
        limit=3,
        exclude=("me", "s"),
    )
    assert warm.configs == [good]
    assert warm.sources[0]["run_id"] == "near"
    wide = find_warm_start(
        summaries,
        objective="toy",
        metric="acc",
        profile={"n": 101.0},
        space=SPACE,
        max_distance=1.0,
        limit=3,
        exclude=("me", "s"),
    )
    assert wide.configs == [good, second]
    assert math.isclose(wide.sources[1]["distance"], 0.901, abs_tol=1e-3)


def test_unresolved_references_in_objective_inputs_are_refused():
    from autoglm_tuner.config import SearchInputs

    assert SearchInputs(objective_inputs={"x": 1}).trial_inputs() == {"x": 1}
    with pytest.raises(ValueError, match="unresolved reference '\\$graph.path'"):
        SearchInputs(objective_inputs={"graph": "$graph.path"}).trial_inputs()
