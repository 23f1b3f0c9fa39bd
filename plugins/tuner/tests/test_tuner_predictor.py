"""The performance predictor: fitted on past searches' trials and profiles, it ranks untried
configurations of a new task before any training, and a screened search trains only the
best-ranked share of its optimiser's proposals."""

from __future__ import annotations

import random
import statistics

from autoglm_tuner import spaces
from autoglm_tuner.design import make_design
from autoglm_tuner.fidelity import spearman
from autoglm_tuner.predictor import PastSearch, Predictor
from autoglm_tuner.proposer import Proposer, minimise
from autoglm_tuner.strategies import make_strategy

from .test_tuner_proposer import SPACE, START, bowl, key


def task(shift: float):
    """A family of related tasks: the optimum's learning rate and dropout move with the
    profile's ``shift`` (as a graph's best settings move with its size)."""
    target = {"layer": "gat", "hidden": 128, "depth": 2, "lr": 10 ** (-3 + 2 * shift)}
    return {"shift": shift}, bowl({**target, "dropout": 0.8 * shift})


def past_searches(count: int = 8, trials: int = 80) -> list[PastSearch]:
    rng = random.Random(0)
    out = []
    for i in range(count):
        profile, loss = task(i / (count - 1))
        points = [spaces.sample(SPACE, rng) for _ in range(trials)]
        out.append(PastSearch(profile, [(p, loss(p)) for p in points]))
    return out


def test_predictor_ranks_configurations_of_a_task_it_was_not_fitted_on():
    predictor = Predictor(SPACE, past_searches())
    profile, loss = task(0.37)  # held out: between two fitted tasks
    rng = random.Random(1)
    points = [spaces.sample(SPACE, rng) for _ in range(200)]
    predicted = predictor.rank(points, profile)
    assert spearman(predicted, [loss(p) for p in points]) > 0.6


def test_without_past_searches_every_point_ranks_the_same():
    assert Predictor(SPACE, []).rank([START], {"shift": 0.5}) == [0.5]


def test_a_screened_search_trains_only_the_best_share_and_gets_there_sooner():
    predictor = Predictor(SPACE, past_searches())
    profile, loss = task(0.37)

    def best_after(seed: int, screen: bool, budget: int = 20) -> float:
        proposer = Proposer(
            make_strategy("random", SPACE, budget=budget, workers=1, seed=seed),
            SPACE,
            budget=budget,
            seed=seed,
            key=key,
            design=make_design("default", START, SPACE),
            screen=(lambda points: predictor.rank(points, profile)) if screen else None,
            keep=0.3,
        )
        trials = minimise(proposer, loss)
        if screen:
            assert proposer.screened_out == 2 * (budget - 1)  # 3 proposals per trial, 1 kept
        return min(value for _, value, _ in trials)

    screened = [best_after(seed, True) for seed in range(8)]
    plain = [best_after(seed, False) for seed in range(8)]
    assert statistics.mean(screened) < statistics.mean(plain)
    assert sum(s < p for s, p in zip(screened, plain, strict=True)) >= 6


def test_search_screens_with_the_trials_of_earlier_searches(run_search):
    profile = {"nodes": 100, "homophily": 0.5}
    first = run_search({"budget": 12, "seed": 0}, {"profile": profile}, run_id="a")
    assert first.screened_out == 0  # nothing to learn from yet
    second = run_search(
        {"budget": 12, "seed": 1, "screen": 0.3, "warm_start": False},
        {"profile": profile},
        run_id="b",
    )
    assert second.screened_out > 0 and second.trials == 12
