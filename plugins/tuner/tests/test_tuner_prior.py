"""The space prior (prior.py): built from real journaled past searches, its seeds, the adaptive
prior share, the KL guard, and what a search's outputs and journal say about them."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from autoglm.space import Choice, FloatRange, IntRange, dimension_from_dict
from autoglm.store import RunStore
from autoglm_tuner.design import make_design
from autoglm_tuner.prior import (
    GUARD,
    PRIOR,
    SEED,
    PriorGuided,
    PriorSource,
    SpacePrior,
    build_prior,
    find_prior,
)
from autoglm_tuner.proposer import WARM, Proposer, minimise
from autoglm_tuner.spaces import sample
from autoglm_tuner.strategies import Candidate, RandomStrategy, make_strategy
from autoglm_tuner.warmstart import SUMMARY_KIND

PROFILE = {"nodes": 2708, "edges": 10556, "classes": 7}
NEAR = {"nodes": 2600, "edges": 10000, "classes": 7}
#: A small space with an optimum at x=0.8, n=7, kind=c (a toy to search in-process).
SPACE = {
    "x": FloatRange(0.0, 1.0),
    "lr": FloatRange(1e-4, 1e-1, log=True),
    "n": IntRange(0, 9),
    "kind": Choice(["a", "b", "c", "d"]),
}


def toy_loss(p: dict[str, Any], shift: float = 0.0) -> float:
    return (
        (p["x"] - 0.8 + shift) ** 2 * 4
        + (math.log10(p["lr"]) + 2 - shift) ** 2 / 4
        + abs(p["n"] - 7) / 3
        + (0.0 if p["kind"] == "c" else 1.0)
    )


def past_trials(loss, count: int, seed: int) -> list[tuple[dict[str, Any], float]]:
    rng = random.Random(seed)
    points = [sample(SPACE, rng) for _ in range(count)]
    return [(p, loss(p)) for p in points]


#: TPE's random startup trials (Optuna's default ``n_startup_trials``)
STARTUP = 10


def guided_search(prior: SpacePrior | None, seed: int, budget: int, loss, **kw: Any):
    inner = make_strategy("TPE", SPACE, budget=budget, workers=1, seed=seed)
    strategy = inner
    if prior is not None:
        settings = {"seeds": 3, "share": 0.3, "kl_threshold": 0.5, "patience": 15, **kw}
        strategy = PriorGuided(inner, prior, seed=seed, **settings)
    proposer = Proposer(strategy, SPACE, budget=budget, seed=seed, key=repr)
    return strategy, minimise(proposer, loss)


def test_prior_is_built_from_journaled_searches_and_seeds_are_their_top_30_percent(
    run_search, autoglm_home: Path
):
    first = run_search(
        {"optimizer": "random", "budget": 20, "seed": 1}, {"profile": PROFILE}, run_id="first"
    )
    assert first.prior == {"used": False}  # nothing to learn from yet
    summaries = RunStore(autoglm_home / "runs.sqlite").journal_search(SUMMARY_KIND, 1000)
    space = {n: dimension_from_dict(d) for n, d in summaries[0][2]["space"].items()}
    prior = find_prior(
        summaries,
        objective="toy.quadratic",
        metric="score",
        profile=NEAR,
        space=space,
        max_distance=0.25,
    )
    assert prior is not None and [s["run_id"] for s in prior.sources] == ["first"]
    ranked = sorted(first.leaderboard, key=lambda r: -r["score"])
    top = [row["params"] for row in ranked[:6]]  # 30% of 20
    assert len(prior.seeds) == 6 and all(seed in top for seed in prior.seeds)
    assert prior.seeds[0] == first.best_params
    # the best configurations' kind dominates the prior's distribution of kind
    kinds = space["kind"].values
    best_kind = kinds.index(first.best_params["kind"])
    assert max(prior.probs["kind"]) == prior.probs["kind"][best_kind]
    # far profiles or another metric give no prior
    assert (
        find_prior(
            summaries,
            objective="toy.quadratic",
            metric="loss",
            profile=NEAR,
            space=space,
            max_distance=0.25,
        )
        is None
    )


def test_a_search_with_a_prior_reports_it_and_journals_its_kl_guard_events(
    run_search, autoglm_home: Path
):
    run_search({"optimizer": "random", "budget": 20}, {"profile": PROFILE}, run_id="first")
    config = {"budget": 40, "seed": 3, "kl_threshold": 0.01, "kl_patience": 1, "workers": 1}
    out = run_search(config, {"profile": NEAR}, run_id="second")
    prior = out.prior
    assert prior["used"] and [s["run_id"] for s in prior["sources"]] == ["first"]
    # the start point first, then the 3 warm-start configs (the first search's 3 best) and
    # the seeds (10% of 40 is 4; the top 6 less the warm configs leaves 3), alternating with
    # TPE while the transferred points lead; the warm configs beat every other result so far
    # and are told to TPE, the seeds (4th-6th best) do not and are held back
    assert out.leaderboard and out.proposals[WARM] == prior["warm_asked"] == 3
    sources = [r["source"] for r in sorted(out.leaderboard, key=lambda r: r["trial"])]
    assert sources[:3] == ["initial design", WARM, "TPE (Optuna, multivariate)"]
    assert prior["warm_told"] == 3 and prior["seeds_asked"] == 3 == out.proposals[SEED]
    assert prior["seeds_told"] == 0 and prior["held_back"] == 3
    assert prior["kl_guard"] and out.proposals[GUARD] == prior["exploration_points"] > 0
    event = prior["kl_guard"][0]
    assert event["result"] >= 20 and event["kl_uniform"] > 0.01
    store = RunStore(autoglm_home / "runs.sqlite")
    assert store.journal_read("second", "search", "kl_guard") == prior["kl_guard"]
    assert 0 <= prior["final_share"] <= 0.3
    off = run_search({"budget": 6, "prior": "off"}, {"profile": NEAR}, run_id="third")
    assert off.prior == {"used": False} and SEED not in off.proposals
    # a resumed search rebuilds the same prior (from its journaled sources, not from the
    # search finished since) and replays every recorded trial instead of running it again
    again = run_search(config, {"profile": NEAR}, run_id="second")
    assert again.prior == prior and again.leaderboard == out.leaderboard
    assert len(store.journal_read("second", "search", "trial")) == 40
    assert store.journal_read("second", "search", "kl_guard") == prior["kl_guard"]


def test_prior_settings_are_validated(run_search):
    with pytest.raises(Exception, match="prior"):
        run_search({"prior": "sometimes"})
    with pytest.raises(Exception, match="kl_threshold"):
        run_search({"kl_threshold": -1})


def test_kl_guard_fires_on_a_collapsed_stream_and_not_on_a_diverse_one():
    prior = build_prior([PriorSource(past_trials(toy_loss, 60, 0))], SPACE)
    assert prior is not None

    def stream(points) -> tuple[PriorGuided, list[str]]:
        guided = PriorGuided(
            RandomStrategy(SPACE, 0),
            prior,
            seeds=0,
            share=0.0,
            seed=0,
            kl_threshold=0.5,
            patience=10,
        )
        sources = []
        for i, p in enumerate(points):
            guided.tell_unasked(p, 1.0 if i else 0.0)  # the best never improves
            sources.append(guided.ask().source)
        return guided, sources

    rng = random.Random(1)
    diverse, sources = stream([sample(SPACE, rng) for _ in range(60)])
    assert diverse.events == [] and GUARD not in sources
    point = {"x": 0.1, "lr": 1e-4, "n": 0, "kind": "a"}
    collapsed, sources = stream([{**point, "x": 0.1 + 0.001 * i} for i in range(60)])
    assert collapsed.events, "a stalled, collapsed search must be widened"
    first = collapsed.events[0]
    assert first["result"] == 20 and first["kl_uniform"] > 0.5 and first["kl_prior"] > 0.5
    # the asks after the firing are uniform points from the guard, then the strategy again
    assert sources[19:25] == [GUARD] * 5 + ["random"]


def test_a_misleading_prior_loses_its_share_and_its_points_are_held_back():
    """The worst 30% of past trials: its seeds and samples lose, so its share decays, none
    of its points is told to TPE, and TPE's random startup draws are the cold search's, one
    fewer per held-back point asked while the startup ran (each took a startup slot)."""
    worst = build_prior([PriorSource(past_trials(toy_loss, 60, 0))], SPACE, worst=True)
    strategy, trials = guided_search(worst, seed=0, budget=50, loss=toy_loss)
    assert strategy.share == 0.0 and strategy.auc() < 0.5
    sources = [s for _, _, s in trials]
    assert sources.count(PRIOR) <= 5  # decayed within the first prior draws
    assert strategy.admitted == {WARM: 0, SEED: 0, PRIOR: 0}
    _, cold = guided_search(None, seed=0, budget=50, loss=toy_loss)
    own = [p for p, _, s in trials if s.startswith("TPE")]
    startup = strategy.inner.study.sampler._n_startup_trials
    assert startup == STARTUP - len(strategy.slots) and strategy.slots
    assert own[:startup] == [p for p, _, _ in cold][:startup]


def test_a_good_prior_reaches_the_target_in_fewer_trials_than_a_cold_search():
    good = build_prior([PriorSource(past_trials(toy_loss, 60, s)) for s in (0, 1)], SPACE)
    target = 0.5

    def trials_to_target(prior: SpacePrior | None, seed: int) -> int:
        _, trials = guided_search(prior, seed, 40, toy_loss)
        return next((i + 1 for i, (_, loss, _) in enumerate(trials) if loss <= target), 41)

    cold = [trials_to_target(None, seed) for seed in range(4)]
    warm = [trials_to_target(good, seed) for seed in range(4)]
    assert sum(warm) < sum(cold), (warm, cold)
    strategy, _ = guided_search(good, 0, 40, toy_loss)
    assert strategy.share > 0  # a prior that helps keeps (some of) its share


def test_seeds_stop_once_the_prior_no_longer_leads():
    """A seed that loses to the best non-prior point stops the seeds even while the AUC
    (seeds against mostly poor points) still favours the prior."""
    good = build_prior([PriorSource(past_trials(toy_loss, 60, 0))], SPACE)
    guided = PriorGuided(
        RandomStrategy(SPACE, 0),
        good,
        seeds=3,
        share=0.0,
        seed=0,
        kl_threshold=None,
        patience=20,
    )
    guided.tell_unasked(good.seeds[0], -1.0)  # the start point beats every seed
    first = guided.ask()
    assert first.source == SEED  # the first seed is always asked
    guided.tell(first, 0.5)
    for poor in range(5):  # poor random points keep the AUC above 0.5
        guided.tell_unasked(sample(SPACE, random.Random(poor)), 10.0)
    assert guided.auc() > 0.5 and not guided.trusted
    assert SEED not in {guided.ask().source for _ in range(10)}


def test_a_zero_share_asks_only_the_seeds_alternating_with_the_optimiser():
    good = build_prior([PriorSource(past_trials(toy_loss, 60, 0))], SPACE)
    _, trials = guided_search(good, seed=0, budget=20, loss=toy_loss, share=0.0)
    sources = [s for _, _, s in trials]
    assert sources.count(SEED) == 3 and PRIOR not in sources
    first = sources.index(SEED)
    assert sources[first : first + 5 : 2] == [SEED] * 3  # a seed, an own point, a seed...
    assert trials[first][0] == good.seeds[0]


#: Six fields, four with two options: the shape of the graph benchmark's grid, where raw KL to
#: uniform of a fully collapsed window of 20 (Laplace floor) stays below 0.7 nats.
SMALL = {
    "layer": Choice(["gcn", "sage", "appnp", "gprgnn", "gcnii", "mlp"]),
    "hidden": Choice([32, 64]),
    "dropout": Choice([0.0, 0.5, 0.8]),
    "lr": Choice([0.01, 0.05]),
    "weight_decay": Choice([5e-4, 5e-3]),
    "k": Choice([2, 10]),
}


def test_entropy_loss_is_scale_free_and_fires_the_guard_on_a_small_discrete_space():
    uniform = SpacePrior(
        SMALL, {n: [1 / len(d.values)] * len(d.values) for n, d in SMALL.items()}, []
    )
    point = {"layer": "gcn", "hidden": 64, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4, "k": 2}
    to_prior, to_uniform, collapse = uniform.divergence([point] * 20)
    assert to_uniform < 0.7 and to_prior == pytest.approx(to_uniform)  # raw nats: no firing
    assert collapse == pytest.approx(1.0)  # every field fully collapsed
    rng = random.Random(0)
    spread = [uniform.divergence([sample(SMALL, rng) for _ in range(20)])[2] for _ in range(50)]
    assert max(spread) < 0.35  # random windows keep most of their entropy
    # a field no point counts for (inactive everywhere) is left out, not counted as uniform
    only_layer = uniform.divergence([point] * 20, active=lambda p: ["layer"])
    assert only_layer[2] == pytest.approx(1.0)

    guided = PriorGuided(
        RandomStrategy(SMALL, 0),
        build_prior([PriorSource([(point, 0.0)])], SMALL),
        seeds=0,
        share=0.0,
        seed=0,
        kl_threshold=0.5,
        patience=10,
    )
    for i in range(25):
        guided.tell_unasked(point, 1.0 if i else 0.0)  # stalled on one point
        guided.ask()
    (event,) = guided.events[:1]
    assert event["result"] == 20 and event["collapse"] == pytest.approx(1.0)
    assert event["kl_uniform"] < 0.7 and "kl_prior" in event


def test_search_defaults_are_seeds_only_with_an_entropy_loss_guard(run_search):
    from autoglm_tuner.config import SearchConfig

    fields = SearchConfig.model_fields
    assert fields["prior_share"].default == 0.0
    assert 0 < fields["kl_threshold"].default < 1
    with pytest.raises(Exception, match="kl_threshold"):
        run_search({"kl_threshold": 1.5})  # a share of entropy: at most 1


def test_profile_distance_counts_one_key_statistic_that_disagrees():
    from autoglm_tuner.warmstart import KEY_FIELD, near_searches, profile_distance

    base = {"nodes": 3000, "edges": 30000, "classes": 4, "degree": {"mean": 10.0}}
    high = {**base, "edge_homophily": 0.8, KEY_FIELD: ["edge_homophily"]}
    low = {**base, "edge_homophily": 0.2, KEY_FIELD: ["edge_homophily"]}
    unmarked = [{k: v for k, v in p.items() if k != KEY_FIELD} for p in (high, low)]
    # the mean dilutes the one decisive statistic over the ones that agree
    assert profile_distance(*unmarked) < 0.2
    # marked as key, its absolute difference (a share in [0, 1]) counts on its own
    assert profile_distance(high, low) == pytest.approx(0.6)
    assert profile_distance(high, unmarked[1]) == pytest.approx(0.6)  # one side marks it
    assert profile_distance(high, {**high, "edge_homophily": 0.78}) < 0.05
    # a key statistic outside [0, 1] differs relatively; the distance stays in [0, 1]
    sized = {**base, KEY_FIELD: ["nodes", "missing"]}
    assert profile_distance(sized, {**base, "nodes": 300000}) == pytest.approx(0.99)
    assert 0 <= profile_distance(high, {"nodes": 1, KEY_FIELD: ["nodes"]}) <= 1
    # the lookup the warm start and the prior share leaves the opposite graph out
    summary = {"objective": "o", "metric": "m", "profile": low}
    found = near_searches(
        [("r", "n", summary)], objective="o", metric="m", profile=high, max_distance=0.25
    )
    assert found == []


def _trial_rows(out: Any) -> list[dict[str, Any]]:
    return sorted(out.leaderboard, key=lambda r: r["trial"])


def test_a_misleading_prior_stops_after_its_first_loser_and_leaves_tpe_as_cold(
    run_search, autoglm_home: Path
):
    """Real journaled searches: a past search that *minimised* the score (its best trials are
    the worst for a maximising search) of a close task. Its first transferred point loses to
    the start point, so no other is asked, and its result is held back from TPE. It takes a
    random startup slot: TPE draws the cold search's first random points but not its last
    one, and its model starts at the same trial as in the cold search (not one later)."""
    run_search(
        {"optimizer": "random", "budget": 20, "mode": "min", "seed": 1},
        {"profile": PROFILE},
        run_id="misleading",
    )
    settings = {"budget": 16, "seed": 3, "workers": 1}
    guided = run_search(settings, {"profile": NEAR}, run_id="guided")
    cold = run_search(
        {**settings, "prior": "off", "warm_start": False}, {"profile": NEAR}, run_id="cold"
    )
    prior = guided.prior
    assert guided.warm_started_from == ["misleading"] and prior["used"]
    rows = _trial_rows(guided)
    assert [r["source"] for r in rows[:2]] == ["initial design", WARM]
    assert rows[1]["score"] < rows[0]["score"]  # the transferred point lost to the start
    assert prior["warm_asked"] == 1 and prior["seeds_asked"] == 0 and SEED not in guided.proposals
    assert prior["warm_told"] == 0 and prior["held_back"] == 1 and prior["startup_slots"] == 1
    tpe = [r["params"] for r in rows if r["source"].startswith("TPE")]
    cold_tpe = [r["params"] for r in _trial_rows(cold) if r["source"].startswith("TPE")]
    assert len(tpe) == len(cold_tpe) - 1
    # the start point and 8 random draws (the cold search's first 8 of 9) make the startup
    random_draws = STARTUP - 2
    assert tpe[:random_draws] == cold_tpe[:random_draws]
    assert tpe[random_draws] != cold_tpe[random_draws]  # a model proposal, not the 9th draw


def _counting_model_fits(strategy: Any) -> list[int]:
    """Counts TPE's model-based proposals (its fits; random startup draws do not fit)."""
    sampler = strategy.study.sampler
    fits, fit = [], sampler._sample

    def counted(*args: Any, **kwargs: Any) -> Any:
        fits.append(1)
        return fit(*args, **kwargs)

    sampler._sample = counted
    return fits


@pytest.mark.parametrize("budget", [12, 20])
def test_a_losing_seed_takes_a_startup_slot_so_tpe_makes_as_many_model_proposals_as_cold(
    budget: int,
):
    """A misleading prior's seed replaces one of TPE's random startup draws instead of
    pushing the cold search one trial later: the guided search asks the same budget, and
    TPE makes as many model-based proposals as in the cold search (one fewer before)."""
    worst = build_prior([PriorSource(past_trials(toy_loss, 60, 1))], SPACE, worst=True)
    start = {"x": 0.5, "lr": 1e-2, "n": 5, "kind": "b"}

    def search(prior: SpacePrior | None) -> tuple[Any, list, list[int]]:
        inner = make_strategy("TPE", SPACE, budget=budget, workers=1, seed=3)
        fits = _counting_model_fits(inner)
        strategy = inner
        if prior is not None:
            strategy = PriorGuided(
                inner, prior, seeds=2, share=0.0, seed=3, kl_threshold=0.7, patience=20
            )
        design = make_design("default", start, SPACE)
        proposer = Proposer(strategy, SPACE, budget=budget, seed=3, key=repr, design=design)
        return strategy, minimise(proposer, toy_loss), fits

    guided, trials, fits = search(worst)
    _, cold, cold_fits = search(None)
    assert [s for _, _, s in trials][:2] == ["initial design", SEED]
    assert guided.describe()["startup_slots"] == 1 and guided.admitted[SEED] == 0
    assert len(trials) == len(cold) == budget
    assert len(fits) == len(cold_fits) == budget - STARTUP
    # the startup's random draws are the cold search's, without its last one
    draws = [p for p, _, s in trials[2:STARTUP]]
    assert draws == [p for p, _, _ in cold[1 : STARTUP - 1]]


def test_a_startup_slot_is_given_back_when_the_held_back_point_is_told():
    """A held-back point that TPE proposes during its startup is told then, and counts for
    the startup itself: its slot is given back, so the startup is not shortened twice."""
    point = {"x": 0.2, "lr": 1e-3, "n": 1, "kind": "a"}
    inner = make_strategy("TPE", SPACE, budget=20, workers=1, seed=0)
    guided = PriorGuided(
        inner, None, seeds=0, share=0.0, seed=0, kl_threshold=None, patience=20, warm=[point]
    )
    guided.tell_unasked({"x": 0.8, "lr": 1e-2, "n": 7, "kind": "c"}, 0.0)  # the start
    guided.tell(Candidate(point, None, WARM), 1.0)  # loses: held back, takes a slot
    assert inner.study.sampler._n_startup_trials == STARTUP - 1 and guided.slots
    asked = inner.ask()
    asked.params = dict(point)  # TPE proposes the held-back point itself
    assert guided.claim(asked)
    assert inner.study.sampler._n_startup_trials == STARTUP and not guided.slots


def test_a_held_back_point_is_told_when_the_optimiser_proposes_it():
    """The optimiser is told a held-back result when it proposes that point itself, as a
    cold search would have told it: the ask is claimed, not discarded as a repeat."""
    seed_point = {"x": 0.1, "lr": 1e-3, "n": 2, "kind": "a"}  # a warm-start config

    class Scripted(RandomStrategy):
        """Proposes the seed point on its second ask."""

        def __init__(self) -> None:
            super().__init__(SPACE, 0)
            self.asks, self.told, self.discarded = 0, [], 0

        def ask(self):
            self.asks += 1
            candidate = super().ask()
            if self.asks == 2:
                candidate.params = dict(seed_point)
            return candidate

        def tell(self, candidate, loss):
            self.told.append((candidate.params, loss))

        def discard(self, candidate):
            self.discarded += 1

    inner = Scripted()
    guided = PriorGuided(
        inner, None, seeds=0, share=0.0, seed=0, kl_threshold=None, patience=20, warm=[seed_point]
    )
    start = {"x": 0.5, "lr": 1e-2, "n": 5, "kind": "b"}
    proposer = Proposer(
        guided, SPACE, budget=5, seed=0, key=repr, design=make_design("default", start, SPACE)
    )
    trials = minimise(proposer, lambda p: 0.0 if p == start else 1.0)
    assert [s for _, _, s in trials][:2] == ["initial design", WARM]
    assert guided.held == {} and guided.admitted[WARM] == 0
    assert (seed_point, 1.0) in inner.told  # told once, when the optimiser proposed it
    assert inner.discarded == 0 and proposer.repeats == 0
    assert len(trials) == 5 and len({repr(sorted(p.items())) for p, _, _ in trials}) == 5
