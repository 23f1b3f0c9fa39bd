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
from autoglm_tuner.design import Design, make_design
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


def test_default_point_takes_base_values_and_fills_the_middle_outside_the_range():
    narrowed = {**SPACE, "lr": FloatRange(0.05, 0.2, log=True)}
    point, filled = spaces.default_point(Cfg, narrowed, {"hidden": 64})
    assert point == {"layer": "gcn", "hidden": 64, "lr": pytest.approx(0.1), "dropout": 0.5}
    assert filled == ["lr"]


def test_designs_change_one_field_at_a_time_in_one_place():
    start, _ = spaces.default_point(Cfg, SPACE, {})
    assert make_design("none", start, SPACE).points() == []
    assert make_design("default", start, SPACE).points() == [start]
    star = make_design("star", start, SPACE).points()
    assert star == [
        start,
        {**start, "layer": "gat"},
        {**start, "layer": "sage"},
        {**start, "hidden": 16},
        {**start, "hidden": 64},
        {**start, "lr": 1e-3},
        {**start, "lr": 1e-1},
        {**start, "dropout": 0.0},
        {**start, "dropout": 0.8},
    ]
    per_option = make_design("default", start, SPACE, choice="layer").points()
    assert per_option == [{**start, "layer": v} for v in ("gcn", "gat", "sage")]


def test_follow_up_combines_the_single_changes_that_helped():
    centre = {"a": 0, "b": 0, "c": 0}
    losses = {
        (0, 0, 0): 1.0,
        (1, 0, 0): 0.5,  # helped
        (2, 0, 0): 0.2,  # helped more: a=2 is taken
        (0, 1, 0): 1.5,  # hurt: b stays
        (0, 0, 1): 0.9,  # helped
    }
    points = [{"a": a, "b": b, "c": c} for a, b, c in losses]
    design = Design([points])

    def loss(p):
        return losses[(p["a"], p["b"], p["c"])]

    assert design.follow_ups(loss) == [{"a": 2, "b": 0, "c": 1}]
    assert Design([points[:3]]).follow_ups(loss) == []  # one field: a point already tried
    assert Design([[centre]]).follow_ups(loss) == []


@pytest.mark.parametrize("name", ["OnePlusOne", "DiscreteLenglerOnePlusOne", "NGOpt"])
def test_nevergrad_starts_from_the_best_result_told_before_its_first_ask(name):
    """The optimiser is built after the design is told, around its best point: a (1+1)
    mutates from there instead of from the defaults."""
    start, _ = spaces.default_point(Cfg, SPACE, {})
    strategy = NevergradStrategy(name, SPACE, budget=40, workers=1, seed=0, start=start)
    best = {**start, "layer": "sage", "hidden": 64, "lr": 0.05}
    for point, loss in ((start, 1.0), (best, 0.0), ({**start, "layer": "gat"}, 2.0)):
        strategy.tell_unasked(point, loss)
    # a fresh (1+1) first asks its starting point: the best told one (which the proposer
    # discards, never telling it again), then mutates it
    assert strategy.ask().params == best


def test_floats_come_back_as_asked():
    start, _ = spaces.default_point(Cfg, SPACE, {})
    strategy = NevergradStrategy("OnePlusOne", SPACE, budget=10, workers=1, seed=0, start=start)
    assert strategy.ask().params == start  # the log scale's 0.010000000000000002 rounds back


# ----------------------------------------------------------------------------- arms


def arms_of(values: list[str], budget: int) -> ChoiceArms:
    sub = {k: v for k, v in SPACE.items() if k != "layer"}
    arms = [Arm(value, RandomStrategy(sub, seed=i), list(sub)) for i, value in enumerate(values)]
    fill, _ = spaces.default_point(Cfg, SPACE, {})
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


def test_choice_arms_route_results_to_the_option_and_drop_ignored_fields():
    strategy = arms_of(["gcn", "gat"], budget=10)
    start, _ = spaces.default_point(Cfg, SPACE, {})
    strategy.tell_unasked({**start, "layer": "gat", "lr": 0.05}, 0.25)
    assert strategy.arms[1].losses == [0.25] and strategy.arms[0].losses == []


# ------------------------------------------------------------------ end to end (workers)


def test_per_choice_finds_the_option_that_is_poor_at_its_defaults(run_search, autoglm_home):
    """ "quick" wins at the defaults (0.7 against 0.5); one optimiser per option with the star
    design finds that "slow" goes beyond (its designed ends score 0.75), climbs there, and the
    halving drops "broken" (no result) and then "quick"."""
    out = run_search(
        {
            **MODELS,
            "optimizer": "NGOpt",
            "budget": 40,
            "per_choice": "model",
            "initial_design": "star",
            "seed": 3,
        }
    )
    assert out.strategy.startswith("NGOpt -> ") and "per model" in out.strategy
    assert out.best_params["model"] == "slow" and out.best_score > 0.8
    trials = trials_in_order(autoglm_home)
    centres = [t["params"]["model"] for t in trials if t["source"] == "initial design"]
    assert list(dict.fromkeys(centres)) == ["quick", "slow", "broken"]  # a star per option
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
