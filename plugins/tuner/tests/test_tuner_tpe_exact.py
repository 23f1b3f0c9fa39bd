"""The default TPE's fast whole-history path proposes exactly Optuna's plain multivariate TPE
points: its fit is Optuna's estimator bit for bit, its scores pick Optuna's candidate (checked
against their error bounds, Optuna's own scoring deciding near ties), and a search of
hundreds of trials asks the same points as Optuna's sampler. Real Optuna, no stand-ins."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
from optuna.samplers._tpe.probability_distributions import _MixtureOfProductDistribution

from autoglm import Choice, FloatRange, IntRange
from autoglm_tuner.strategies import OptunaStrategy
from autoglm_tuner.tpe import BoundedTPESampler
from autoglm_tuner.tpe_fit import fit
from autoglm_tuner.tpe_scoring import best_candidate, log_mass, mixture_log_pdf, verified_best

D = optuna.distributions
#: every kind of field the strategy hands Optuna: unordered, ordered (an index), integer,
#: log and linear floats, a log integer and a stepped float
FIELDS = {
    "layer": D.CategoricalDistribution(["gcn", "gat", "sage", "gin", "appnp", "mlp"]),
    "hidden": D.IntDistribution(0, 4),
    "depth": D.IntDistribution(1, 4),
    "dropout": D.FloatDistribution(0.0, 0.8),
    "lr": D.FloatDistribution(1e-3, 0.05, log=True),
    "width": D.IntDistribution(8, 512, log=True),
    "alpha": D.FloatDistribution(0.05, 0.5, step=0.05),
}
PARAMETERS = optuna.samplers.TPESampler(multivariate=True)._parzen_estimator_parameters


def observations(count: int, seed: int) -> np.ndarray:
    """Rows in Optuna's internal representation, laid out as its estimator lays them out;
    the discrete fields tie a lot, and so does one float column (half its rows repeat)."""
    rng = np.random.default_rng(seed)
    columns = []
    for dist in FIELDS.values():
        if isinstance(dist, D.CategoricalDistribution):
            column = rng.integers(0, len(dist.choices), count).astype(float)
        elif isinstance(dist, D.IntDistribution):
            column = rng.integers(dist.low, dist.high + 1, count).astype(float)
        elif dist.step is not None:
            column = dist.low + dist.step * rng.integers(0, 10, count)
        elif dist.log:
            column = np.exp(rng.uniform(math.log(dist.low), math.log(dist.high), count))
        else:
            column = rng.uniform(dist.low, dist.high, count)
        columns.append(column)
    columns[3][count // 2 :] = columns[3][: count - count // 2]
    return np.array(columns).T


@pytest.mark.parametrize("count", [0, 1, 2, 3, 30, 700])
def test_fit_is_optunas_estimator_bit_for_bit(count):
    """Every array of the fitted mixture (weights, means, bandwidths, categorical weights)
    equals Optuna's ``_ParzenEstimator``'s, ties included, with and without order hints
    (a stable order: it sorts the tie-free columns and is refused for the others)."""
    rows = observations(count, seed=count)
    expected = _ParzenEstimator(
        {name: rows[:, i] for i, name in enumerate(FIELDS)}, FIELDS, PARAMETERS
    )._mixture_distribution
    hints = {i: np.argsort(rows[:, i], kind="stable") for i in range(len(FIELDS))}
    for got in (fit(rows, FIELDS, PARAMETERS), fit(rows, FIELDS, PARAMETERS, hints)):
        mixture = got.distribution
        assert np.array_equal(mixture.weights, expected.weights)
        for mine, theirs in zip(mixture.distributions, expected.distributions, strict=True):
            assert type(mine) is type(theirs)
            for field in theirs._fields:
                assert np.array_equal(getattr(mine, field), getattr(theirs, field)), field


def test_log_mass_matches_optunas_gauss_mass():
    """SciPy's vectorised log mass against Optuna's per-element one: both tails, around 0,
    narrow and wide intervals, and the far ones taken as the whole mass."""
    rng = np.random.default_rng(0)
    a = rng.uniform(-40, 10, 6000)
    b = a + np.exp(rng.uniform(-6, 4, 6000))
    a[:3], b[:3] = [-30.0, -9.0, 9.0], [30.0, 9.0, 40.0]
    mine, theirs = log_mass(a, b), _truncnorm._log_gauss_mass(a, b)
    assert np.all(np.abs(mine - theirs) <= 1e-12 * np.maximum(1.0, np.abs(theirs)))


@pytest.mark.parametrize("seed", range(4))
def test_scores_are_within_their_bounds_of_optunas(seed):
    """The matrix product's log densities against Optuna's ``log_pdf`` for candidates drawn
    from a fitted mixture: every one within the bound it reports, and the bound tight."""
    rows = observations(400, seed=seed)
    fitted = fit(rows, FIELDS, PARAMETERS)
    candidates = fitted.distribution.sample(np.random.RandomState(seed), 24)
    x = np.ascontiguousarray(candidates.T).T
    exact = fitted.distribution.log_pdf(x)
    orders = {i: fitted.order[:, j] for j, i in enumerate(fitted.numeric)}
    for kernel_orders in (None, orders):
        scored = mixture_log_pdf(fitted.distribution, x, kernel_orders)
        assert scored.error is not None and scored.error.max() < 1e-7
        assert np.all(np.abs(scored.log_pdf - exact) <= scored.error)


def test_verified_best_takes_the_clear_best_and_refuses_near_ties():
    x = np.array([[0.0], [1.0], [2.0], [1.0]])
    error = np.full(4, 1e-9)
    assert verified_best(np.array([0.0, 3.0, 1.0, 3.0]), error, x) == 1  # a point twice
    assert verified_best(np.array([0.0, 3.0, 3.0 - 1e-9, 0.0]), error, x) is None
    assert verified_best(np.array([0.0, np.nan, 1.0, 0.0]), error, x) is None


def test_a_near_tie_is_decided_by_optunas_scoring():
    """Candidates that differ only in a field both mixtures weigh evenly score exactly alike:
    the fast scores cannot prove a pick, so Optuna's own ``log_pdf`` picks (its argmax)."""
    from optuna.samplers._tpe.probability_distributions import (
        _BatchedCategoricalDistributions as Categorical,
    )

    def mixture(weights: list[float]) -> _MixtureOfProductDistribution:
        favoured = Categorical(np.array([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]]))
        even = Categorical(np.full((3, 2), 0.5))
        return _MixtureOfProductDistribution(np.array(weights), [favoured, even])

    below, above = mixture([0.6, 0.3, 0.1]), mixture([0.1, 0.8, 0.1])
    x = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    best, scores, fast = best_candidate(x, below, above)
    assert not fast
    assert best == int(np.argmax(below.log_pdf(x) - above.log_pdf(x))) == 1
    assert scores[1] == scores[2]
    assert verified_best(scores, np.zeros(3), x) is None


SPACE = {
    "layer": Choice(["gcn", "gat", "sage", "gin", "appnp", "mlp"]),
    "hidden": Choice([16, 32, 64, 128, 256], ordered=True),
    "depth": IntRange(1, 4),
    "dropout": FloatRange(0.0, 0.8),
    "lr": FloatRange(1e-3, 0.05, log=True),
    "heads": Choice([1, 2, 4, 8], ordered=True),
    "alpha": FloatRange(0.05, 0.5),
}


def rugged(params: dict) -> float:
    """A loss with interactions and a hashed bumpy part, so the search wanders."""
    bump = (hash((params["layer"], params["hidden"], params["heads"])) % 97) / 97
    return (
        (math.log10(params["lr"]) + 2.0) ** 2
        + (params["dropout"] - 0.3) ** 2 * (2 if params["layer"] == "gat" else 1)
        + abs(params["depth"] - 3) / 4
        + 0.3 * bump
        + abs(params["alpha"] - 0.1) * (params["heads"] == 4)
    )


def test_the_default_tpe_proposes_plain_tpes_points_for_hundreds_of_trials():
    """The default (whole history up to 2,000 trials, fast path) against Optuna's own
    TPESampler, same seed, same told losses: the same 400 points, nearly every ask scored
    by the fast path (so it is the one being checked)."""
    searches = []
    for options in ({}, {"history": None}):
        strategy = OptunaStrategy("TPE", SPACE, seed=3, **options)
        points = []
        for _ in range(400):
            candidate = strategy.ask()
            points.append(candidate.params)
            strategy.tell(candidate, rugged(candidate.params))
        searches.append((strategy, points))
    (default, mine), (_, plain) = searches
    assert mine == plain
    scorings = default.study.sampler.scorings
    assert scorings["fast"] > 350 and sum(scorings.values()) == 400 - 10  # 10 startup trials


def test_two_workers_trials_in_flight_take_the_fast_path_to_the_same_points():
    """Two workers: every ask is made while the other worker's trial is still running, which
    Optuna's constant liar (its default) fits as a bad trial. The fast path fits it too, and
    proposes Optuna's points; it ran for every ask past the startup."""
    samplers = [BoundedTPESampler(history=10**9, multivariate=True, seed=5)]
    samplers.append(optuna.samplers.TPESampler(multivariate=True, seed=5))
    distributions = {"x": D.FloatDistribution(-3, 3), "k": D.IntDistribution(0, 9)}
    proposals = []
    for sampler in samplers:
        study = optuna.create_study(sampler=sampler)
        running = study.ask(distributions)
        points = []
        for _ in range(60):
            trial = study.ask(distributions)
            points.append(trial.params)
            x, k = running.params["x"], running.params["k"]
            study.tell(running, (x - 1) ** 2 + abs(k - 6))
            running = trial
        proposals.append(points)
    assert proposals[0] == proposals[1]
    # trials 1-10 are the random startup (10 told), trial 11 on are TPE's: one in flight
    assert samplers[0].whole_history_asks == 60 - 10


def test_past_whole_trials_the_fit_is_bounded_to_history():
    """``whole`` sets where the whole-history fit ends and ``history`` what is fitted after
    it: plain TPE's points up to the 60th complete trial, then a bounded fit of 30."""
    searches = []
    for sampler in (
        BoundedTPESampler(history=30, whole=60, multivariate=True, seed=2),
        optuna.samplers.TPESampler(multivariate=True, seed=2),
    ):
        study = optuna.create_study(sampler=sampler)
        distributions = {"x": D.FloatDistribution(-3, 3), "k": D.IntDistribution(0, 9)}
        points = []
        for _ in range(90):
            trial = study.ask(distributions)
            points.append(trial.params)
            study.tell(trial, (trial.params["x"] - 1) ** 2 + abs(trial.params["k"] - 6))
        searches.append((sampler, points))
    (bounded, mine), (_, plain) = searches
    assert mine[:61] == plain[:61] and mine != plain
    assert bounded.whole_history_asks == 61 - 10  # asks with 10 to 60 complete trials
    assert bounded._draw is not None  # the last asks drew their above set
    with pytest.raises(ValueError, match="less than history"):
        BoundedTPESampler(history=30, whole=20)


def test_a_maximised_study_is_never_fitted_on_its_worst_trials():
    """The kept ranking puts the smallest values first; in a maximised study past ``whole``
    that would call the worst trials the best. Such a study is fitted on all its trials
    (Optuna's path), and its search climbs."""
    sampler = BoundedTPESampler(history=30, whole=30, multivariate=True, seed=4)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    distributions = {"x": D.FloatDistribution(-3, 3)}
    for _ in range(80):
        trial = study.ask(distributions)
        study.tell(trial, -((trial.params["x"] - 2) ** 2))
    every = study.get_trials(deepcopy=False)
    assert len(sampler.bounded(every)) == 80 and sampler._draw is None
    assert sampler.whole_history_asks == 0
    late = [t.params["x"] for t in every[40:]]
    assert study.best_value > -0.01 and sum(abs(x - 2) < 0.5 for x in late) > 20  # random: about 7
