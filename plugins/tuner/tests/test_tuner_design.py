"""Where a search starts and how it splits: the initial design around the objective's
defaults, optimisers that start from the best designed point, effective-config duplicates and
one optimiser per option of an unordered choice (``per_choice``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pytest

from autoglm import Choice, FloatRange, NodeModel
from autoglm.store import RunStore
from autoglm_tuner import spaces
from autoglm_tuner.arms import Arm, ChoiceArms
from autoglm_tuner.strategies import NevergradStrategy, RandomStrategy


class Cfg(NodeModel):
    layer: Annotated[str, Choice(["gcn", "gat", "sage"])] = "gcn"
    hidden: Annotated[int, Choice([16, 32, 64], ordered=True)] = 32
    lr: Annotated[float, FloatRange(1e-3, 1e-1, log=True)] = 0.01
    dropout: Annotated[float, FloatRange(0.0, 0.8)] = 0.5


SPACE = spaces.resolve_space(Cfg, None, objective="toy", fixed=set())
MODELS = {"objective": "toy.models", "metric": "score"}


def trials_in_order(home: Path, run_id: str = "run-1") -> list[dict]:
    records = RunStore(home / "runs.sqlite").journal_read(run_id, "search", "trial")
    return sorted((r for r in records if r["rung"] == 0), key=lambda r: r["trial"])


# ------------------------------------------------------------------------ initial design


def test_default_point_takes_base_values_and_skips_defaults_outside_the_range():
    narrowed = {**SPACE, "lr": FloatRange(0.05, 0.1, log=True)}
    assert spaces.default_point(Cfg, narrowed, {"hidden": 64}) == {
        "layer": "gcn",
        "hidden": 64,
        "dropout": 0.5,
    }


def test_start_points_change_one_field_at_a_time():
    start = spaces.default_point(Cfg, SPACE, {})
    assert spaces.start_points(start, SPACE, "default") == [start]
    options = spaces.start_points(start, SPACE, "options")
    assert options == [start, {**start, "layer": "gat"}, {**start, "layer": "sage"}]
    star = spaces.start_points(start, SPACE, "star")
    assert star[:3] == options
    assert star[3:] == [
        {**start, "hidden": 16},
        {**start, "hidden": 64},
        {**start, "lr": 1e-3},
        {**start, "lr": 1e-1},
        {**start, "dropout": 0.0},
        {**start, "dropout": 0.8},
    ]
    assert spaces.start_points(start, SPACE, "none") == []
    partial = {k: v for k, v in start.items() if k != "lr"}
    assert spaces.start_points(partial, SPACE, "star") == []


def test_main_effects_combine_the_single_changes_that_helped():
    centre = {"a": 0, "b": 0, "c": 0}
    results = [
        (centre, 1.0),
        ({**centre, "a": 1}, 0.5),  # helped
        ({**centre, "a": 2}, 0.2),  # helped more: a=2 is taken
        ({**centre, "b": 1}, 1.5),  # hurt: b stays
        ({**centre, "c": 1}, 0.9),  # helped
        ({**centre, "a": 1, "b": 1}, 0.0),  # two changes: not a main effect
    ]
    assert spaces.combine_main_effects(results) == {"a": 2, "b": 0, "c": 1}
    assert spaces.combine_main_effects(results[:3]) is None  # one field: a point already tried
    assert spaces.combine_main_effects([]) is None


def test_nevergrad_asks_the_combined_point_before_starting():
    start = spaces.default_point(Cfg, SPACE, {})
    strategy = NevergradStrategy("NGOpt", SPACE, budget=40, workers=1, seed=0, start=start)
    design = spaces.start_points(start, SPACE, "star")
    helped = {"layer": "sage", "lr": 0.1}
    for point in design:
        strategy.suggest(point)
    for _ in design:
        asked = strategy.ask()
        changed = {k: v for k, v in asked.params.items() if v != start[k]}
        strategy.tell(asked, 0.5 if changed.items() <= helped.items() and changed else 1.0)
    assert strategy.ask().params == {**start, **helped}


@pytest.mark.parametrize("name", ["OnePlusOne", "DiscreteLenglerOnePlusOne", "NGOpt"])
def test_nevergrad_starts_from_the_best_suggested_point(name):
    """The optimiser is built after the design is told, around its best point: a (1+1)
    mutates from there instead of from the defaults."""
    start = spaces.default_point(Cfg, SPACE, {})
    strategy = NevergradStrategy(name, SPACE, budget=40, workers=1, seed=0, start=start)
    best = {**start, "layer": "sage", "hidden": 64, "lr": 0.05}
    for point, loss in ((start, 1.0), (best, 0.0), ({**start, "layer": "gat"}, 2.0)):
        strategy.suggest(point)
        asked = strategy.ask()
        assert asked.params == point
        strategy.tell(asked, loss)
    # a fresh (1+1) first asks its starting point: the best designed one (a duplicate the
    # search tells without training), then mutates it
    assert strategy.ask().params == best


def test_floats_come_back_as_asked():
    start = spaces.default_point(Cfg, SPACE, {})
    strategy = NevergradStrategy("OnePlusOne", SPACE, budget=10, workers=1, seed=0, start=start)
    assert strategy.ask().params == start  # the log scale's 0.010000000000000002 rounds back


# ----------------------------------------------------------------------------- arms


def arms_of(values: list[str], budget: int) -> ChoiceArms:
    sub = {k: v for k, v in SPACE.items() if k != "layer"}
    arms = [Arm(value, RandomStrategy(sub, seed=i), list(sub)) for i, value in enumerate(values)]
    fill = spaces.default_point(Cfg, SPACE, {})
    return ChoiceArms("layer", arms, budget=budget, fill=fill)


def test_choice_arms_halve_the_options_round_by_round():
    strategy = arms_of(["gcn", "gat", "sage"], budget=30)
    assert strategy.rounds == 3 and strategy.per_round == 10
    losses = {"gcn": 0.3, "gat": 0.1, "sage": 0.2}
    asked = []
    for _ in range(40):
        candidate = strategy.ask()
        asked.append(candidate.params["layer"])
        strategy.tell(candidate, losses[candidate.params["layer"]])
        assert set(candidate.params) == set(SPACE)
    first = asked[:12]  # round 0: ceil(10 / 3) = 4 asks per option
    assert {layer: first.count(layer) for layer in losses} == {"gcn": 4, "gat": 4, "sage": 4}
    second = asked[12:22]  # round 1: the better two, 5 each
    assert {layer: second.count(layer) for layer in losses} == {"gcn": 0, "gat": 5, "sage": 5}
    assert set(asked[22:]) == {"gat"}  # the winner takes every ask after the last cut
    assert [h["kept"] for h in strategy.history] == [["gat", "sage"], ["gat"]]


def test_choice_arms_route_suggestions_and_drop_ignored_fields():
    strategy = arms_of(["gcn", "gat"], budget=10)
    start = spaces.default_point(Cfg, SPACE, {})
    strategy.suggest({**start, "layer": "gat", "lr": 0.05})
    strategy.suggest({**start, "layer": "gat", "lr": 0.05})  # the same point again: once
    first, second = strategy.ask(), strategy.ask()
    assert {first.params["layer"], second.params["layer"]} == {"gcn", "gat"}
    gat = first if first.params["layer"] == "gat" else second
    assert gat.params == {**start, "layer": "gat", "lr": 0.05}
    assert strategy.arms[1].strategy._suggestions == []


# ------------------------------------------------------------------ end to end (workers)


def test_per_choice_finds_the_option_that_is_poor_at_its_defaults(run_search, autoglm_home):
    """ "quick" wins at the defaults (0.7 against 0.5); one optimiser per option with the star
    design finds that "slow" goes beyond (its designed ends score 0.75), climbs there, and the
    halving drops "broken" (no result) and then "quick"."""
    out = run_search(
        {**MODELS, "budget": 40, "per_choice": "model", "initial_design": "star", "seed": 3}
    )
    assert out.optimizer_used.startswith("NGOpt -> ") and out.optimizer_used.endswith("per model")
    assert out.best_params["model"] == "slow" and out.best_score > 0.8
    trials = trials_in_order(autoglm_home)
    assert [t["params"]["model"] for t in trials[:3]] == ["quick", "slow", "broken"]
    assert {t["params"]["depth"] for t in trials if t["params"]["model"] != "slow"} == {0.5}
    broken = [t for t in trials if t["params"]["model"] == "broken"]
    assert broken and all(t["status"] == "failed" for t in broken)
    rounds = out.choice_rounds
    assert sorted(rounds[0]["kept"]) == ["quick", "slow"] and rounds[-1]["kept"] == ["slow"]
    first = rounds[0]["scores"]  # failures are told a penalty worse than any result
    assert first["broken"] > max(first["quick"], first["slow"])
    assert "choice_rounds" in Path(out.report_path).read_text(encoding="utf-8")


def test_points_that_compute_the_same_model_are_trained_once(run_search, autoglm_home):
    out = run_search(
        {**MODELS, "budget": 30, "optimizer": "random", "initial_design": "star", "seed": 0}
    )
    trials = trials_in_order(autoglm_home)
    effective = [
        json.dumps({k: v for k, v in t["params"].items() if k != "depth"}, sort_keys=True)
        if t["params"]["model"] != "slow"
        else json.dumps(t["params"], sort_keys=True)
        for t in trials
    ]
    assert len(effective) == len(set(effective)) == out.trials
    # the design asked "quick" with depth at both ends: the same model as the default, skipped
    quick_at_defaults = [
        t for t in trials if t["params"]["model"] == "quick" and t["params"]["x"] == 0.5
    ]
    assert len(quick_at_defaults) == 1


def test_per_choice_must_name_an_unordered_choice(run_search):
    with pytest.raises(ValueError, match="'per_choice': 'x' is not an unordered choice"):
        run_search({**MODELS, "per_choice": "x"})
