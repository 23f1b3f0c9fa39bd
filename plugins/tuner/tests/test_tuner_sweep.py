"""The greedy initial design (``initial_design: greedy``): screen each field around the
defaults, combine the changes that helped, switch options at the combination, then hand
over to the optimiser at the best point."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from autoglm import Choice, FloatRange, NodeModel
from autoglm_tuner import spaces
from autoglm_tuner.strategies import WAIT, NevergradStrategy, RandomStrategy
from autoglm_tuner.sweep import GreedySweep, combinations

from .test_tuner_design import MODELS, trials_in_order


class Cfg(NodeModel):
    layer: Annotated[str, Choice(["gcn", "appnp"])] = "gcn"
    hidden: Annotated[int, Choice([16, 32, 64], ordered=True)] = 32
    lr: Annotated[float, FloatRange(1e-3, 1e-1, log=True)] = 0.01
    dropout: Annotated[float, FloatRange(0.0, 0.8)] = 0.4
    k: Annotated[int, Choice([2, 10, 20], ordered=True)] = 10


SPACE = spaces.resolve_space(Cfg, None, objective="toy", fixed=set())
START = spaces.default_point(Cfg, SPACE, {})


def reads(params: dict[str, Any]) -> set[str]:
    """Like a GNN: only appnp reads k."""
    return set(SPACE) - ({"k"} if params["layer"] != "appnp" else set())


def loss(params: dict[str, Any]) -> float:
    """A high learning rate pays only with strong dropout; appnp is worse than gcn at the
    defaults but wins once both are set, and prefers a long propagation (k = 20)."""
    value = 1.0
    if params["lr"] == 0.1:
        value += -0.2 if params["dropout"] == 0.8 else -0.1
    if params["dropout"] == 0.8:
        value -= 0.1
    if params["layer"] == "appnp":
        value += -0.3 if params["lr"] == 0.1 and params["dropout"] == 0.8 else 0.05
        value -= 0.05 * (params["k"] == 20)
    return value


def drive(strategy, budget: int, workers: int = 2) -> list[list[dict[str, Any]]]:
    """The search loop in miniature: ask up to ``workers`` points (until WAIT), tell them."""
    batches: list[list[dict[str, Any]]] = []
    asked = 0
    while asked < budget:
        batch = []
        while len(batch) < workers and asked < budget:
            candidate = strategy.ask()
            if candidate is WAIT:
                break
            batch.append(candidate)
            asked += 1
        assert batch, "the design waited with nothing running"
        for candidate in batch:
            strategy.tell(candidate, loss(candidate.params))
        batches.append([c.params for c in batch])
    return batches


def asked_points(batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [point for batch in batches for point in batch]


def test_one_field_values_are_the_ends_or_the_other_options():
    assert spaces.one_field_values(SPACE["lr"], 0.01) == [1e-3, 1e-1]
    assert spaces.one_field_values(SPACE["lr"], 1e-3) == [1e-1]
    assert spaces.one_field_values(SPACE["hidden"], 32) == [16, 64]
    assert spaces.one_field_values(SPACE["layer"], "gcn") == ["appnp"]


def test_combinations_add_the_winners_best_first():
    base = {"a": 0, "b": 0, "c": 0}
    winners = [("b", 2), ("a", 1), ("c", 3)]
    assert combinations(base, winners) == [{"a": 1, "b": 2, "c": 0}, {"a": 1, "b": 2, "c": 3}]
    assert combinations(base, winners[:1]) == []


def test_greedy_design_screens_combines_then_switches():
    sweep = GreedySweep(RandomStrategy(SPACE, seed=0), SPACE, START, reads)
    points = asked_points(drive(sweep, budget=16))
    assert points[0] == START
    screen = points[1:7]  # both ends of each range the gcn centre reads; k is not read
    assert screen == [
        {**START, "hidden": 16},
        {**START, "hidden": 64},
        {**START, "lr": 1e-3},
        {**START, "lr": 1e-1},
        {**START, "dropout": 0.0},
        {**START, "dropout": 0.8},
    ]
    combined = {**START, "lr": 0.1, "dropout": 0.8}
    assert points[7] == combined  # the two winners together (they help more together)
    assert points[8] == {**combined, "layer": "appnp"}  # the switch at the combination wins...
    # ... and the field the new model reads is screened there, then combined (one winner)
    assert points[9:11] == [
        {**combined, "layer": "appnp", "k": 2},
        {**combined, "layer": "appnp", "k": 20},
    ]
    best = {**combined, "layer": "appnp", "k": 20}
    assert sweep.done and sweep.centre == best
    assert [stage for stage, _, _ in sweep.moves] == [
        "centre",
        "screen",
        "combine",
        "switch",
        "screen",
    ]
    assert math.isclose(sweep.centre_loss, loss(best))
    assert sweep.used == "greedy design, then random"


def test_greedy_design_waits_for_a_stage_before_the_next():
    sweep = GreedySweep(RandomStrategy(SPACE, seed=0), SPACE, START, reads)
    first = sweep.ask()
    assert first.params == START
    assert sweep.ask() is WAIT  # the screen is built around the centre's result
    sweep.tell(first, 1.0)
    screen = [sweep.ask() for _ in range(6)]
    assert sweep.ask() is WAIT
    for candidate in screen[:-1]:
        sweep.tell(candidate, 2.0)
    assert sweep.ask() is WAIT  # one still running
    sweep.fail(screen[-1])  # a failure answers too; nothing beat the centre
    switch = sweep.ask()
    assert switch.params == {**START, "layer": "appnp"}


def test_warm_start_points_run_first_and_the_best_is_the_centre():
    warm = {**START, "lr": 0.1, "dropout": 0.8}
    sweep = GreedySweep(RandomStrategy(SPACE, seed=0), SPACE, START, reads)
    sweep.suggest(warm)
    batches = drive(sweep, budget=4)
    assert batches[0] == [warm, START]
    assert batches[1][0] == {**warm, "hidden": 16}  # the screen is around the warm point


def test_optimiser_starts_from_the_design_best_and_learns_every_result():
    inner = NevergradStrategy("OnePlusOne", SPACE, budget=60, workers=1, seed=0, start=START)
    sweep = GreedySweep(inner, SPACE, START, reads)
    points = asked_points(drive(sweep, budget=12, workers=1))
    best = {**START, "lr": 0.1, "dropout": 0.8, "layer": "appnp", "k": 20}
    assert sweep.done and best in points
    assert len(inner.suggested_results) == 11  # every design result, the start included
    # a fresh (1+1) first asks its starting point: the design's best
    assert points[11] == best
    assert "then OnePlusOne" in sweep.used


def test_no_design_when_the_defaults_do_not_cover_the_space():
    partial = {k: v for k, v in START.items() if k != "lr"}
    inner = RandomStrategy(SPACE, seed=0)
    sweep = GreedySweep(inner, SPACE, partial, reads)
    assert sweep.done
    assert set(sweep.ask().params) == set(SPACE)


# ------------------------------------------------------------------ end to end (workers)


def test_greedy_search_runs_the_design_then_the_optimiser(run_search, autoglm_home):
    """toy.models: "quick" wins at the defaults; the design screens x (both ends lose), then
    switches to "slow" (worse at the defaults) and "broken" (fails: recorded, not fatal), and
    ends where it started. One optimiser per option then takes over from there."""
    out = run_search(
        {**MODELS, "budget": 30, "per_choice": "model", "initial_design": "greedy", "seed": 3}
    )
    trials = trials_in_order(autoglm_home)
    start = {"model": "quick", "x": 0.5, "depth": 0.5}
    assert [t["params"] for t in trials[:5]] == [
        start,
        {**start, "x": 0.0},
        {**start, "x": 1.0},
        {**start, "model": "slow"},
        {**start, "model": "broken"},
    ]
    assert trials[4]["status"] == "failed"
    assert out.optimizer_used.startswith("greedy design, then NGOpt -> ")
    assert out.optimizer_used.endswith("per model")
    after = [t["params"]["model"] for t in trials[5:]]
    assert len(trials) == out.trials == 30 and {"quick", "slow"} <= set(after)
    assert out.best_score >= 0.7
    assert out.design_moves == [{"stage": "centre", "params": start, "score": 0.7}]
    assert "design_moves" in Path(out.report_path).read_text(encoding="utf-8")
