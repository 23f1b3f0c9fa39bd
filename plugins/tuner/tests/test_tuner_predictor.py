"""The performance predictor: fitted on past searches' trials and profiles, it ranks untried
configurations of a new task before any training, and a screened search trains only the
best-ranked share of its optimiser's proposals."""

from __future__ import annotations

import random
import statistics

from autoglm_tuner import spaces
from autoglm_tuner.design import make_design
from autoglm_tuner.fidelity import spearman
from autoglm_tuner.predictor import (
    CHECK_AFTER,
    UNSCREENED_EVERY,
    PastSearch,
    Predictor,
    ScreenCheck,
)
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
        if screen:  # 3 proposals per screened trial, 1 kept; every 2nd trial unscreened
            screened = sum(1 for i in range(1, budget) if i % UNSCREENED_EVERY != 1)
            assert proposer.screened_out == 2 * screened
        return min(value for _, value, _ in trials)

    screened = [best_after(seed, True) for seed in range(8)]
    plain = [best_after(seed, False) for seed in range(8)]
    assert statistics.mean(screened) < statistics.mean(plain)
    assert sum(s < p for s, p in zip(screened, plain, strict=True)) >= 5  # half screened


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


def test_the_nearest_task_by_profile_distance_decides_with_key_statistics():
    """Two past tasks of the same size and opposite homophily (a key statistic) rank the
    configurations oppositely: a new task takes the ranking of the one whose homophily it
    shares, however close the other's size is."""
    keyed = {"key_statistics": ["homophily"]}
    high = {"nodes": 3000, "homophily": 0.8, **keyed}
    low = {"nodes": 3000, "homophily": 0.2, **keyed}
    rng = random.Random(0)
    points = [spaces.sample(SPACE, rng) for _ in range(120)]
    loss = bowl({"layer": "gat", "hidden": 128, "depth": 2, "lr": 0.01, "dropout": 0.2})
    past = [
        PastSearch(high, [(p, loss(p)) for p in points]),
        PastSearch(low, [(p, -loss(p)) for p in points]),
    ]
    predictor = Predictor(SPACE, past)
    fresh = [spaces.sample(SPACE, rng) for _ in range(100)]
    truth = [loss(p) for p in fresh]
    like_high = {"nodes": 2708, "homophily": 0.81, **keyed}
    like_low = {"nodes": 2708, "homophily": 0.22, **keyed}
    assert predictor.weights(like_high)[1] < 1e-6
    assert spearman(predictor.rank(fresh, like_high), truth) > 0.6
    assert spearman(predictor.rank(fresh, like_low), truth) < -0.6


def test_screen_check_stops_when_the_predicted_ranks_disagree_with_the_results():
    agree, disagree = ScreenCheck(), ScreenCheck()
    for i in range(12):
        agree.record(i / 11, float(i))
        disagree.record(i / 11, float(-i))
        if i + 1 < CHECK_AFTER:  # too few results to judge: screening goes on
            assert disagree.agrees()
    assert agree.agrees() and agree.stopped_at is None
    assert not disagree.agrees() and disagree.stopped_at == CHECK_AFTER
    assert disagree.describe()["rank_correlation"] == -1.0


def test_a_screened_search_stops_screening_when_the_predictor_ranks_wrongly(run_search):
    """Real journaled searches: the predictor learns from a search that *minimised* the
    score, so it ranks this task's configurations upside down; once a few trained trials show
    it, the search stops screening and trains what the optimiser proposes."""
    profile = {"nodes": 100, "homophily": 0.5}
    run_search(
        {"optimizer": "random", "budget": 40, "mode": "min", "seed": 0},
        {"profile": profile},
        run_id="upside-down",
    )
    budget = 20
    settings = {"budget": budget, "seed": 1, "screen": 0.3, "warm_start": False, "prior": "off"}
    out = run_search(settings, {"profile": profile}, run_id="screened")
    check = out.screening
    assert check["stopped_at"] is not None and check["stopped_at"] <= CHECK_AFTER + 2
    assert check["rank_correlation"] < 0.1 and not check["screening"]
    # screening (2 discarded per trial) only until the check stopped it
    assert 0 < out.screened_out <= 2 * check["stopped_at"] < 2 * (budget - 1)
