"""End-to-end tests of ``tuner.search`` with real worker processes on the toy objectives
(tests/toy_plugins): any node's space, Nevergrad and the baselines, failures, timeouts,
fidelity, warm start and the report files."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.store import RunStore

#: Fixing y and lr leaves a space whose grid holds the optimum (x=1, kind=b, size=4).
NARROW = {
    "base_config": {"y": 2, "lr": 0.01},
    "space": {
        "x": {"float": [0.0, 2.0]},
        "kind": {"choice": ["a", "b", "c"]},
        "size": {"choice": [1, 4], "ordered": True},
    },
}


def scores(outputs) -> list[tuple[int, dict, float | None]]:
    return [(row["trial"], row["params"], row["score"]) for row in outputs.leaderboard]


def test_the_default_strategy_searches_a_non_gnn_space(run_search, autoglm_home: Path):
    out = run_search({"budget": 24, "seed": 1})
    assert out.strategy == "TPE (Optuna, multivariate), with initial design"
    assert out.trials == 24 and out.evaluations == 24 and out.failed_trials == 0
    ranked = [row["score"] for row in out.leaderboard]
    assert ranked == sorted(ranked, reverse=True)
    assert out.best_score == ranked[0] == max(s for *_, s in scores(out))
    # clearly better than a typical point of the space (the median trial)
    assert out.best_score > sorted(ranked)[len(ranked) // 2] + 1.0
    assert out.best_config == {**out.best_params}
    assert Path(out.plot_path).stat().st_size > 10_000
    html = Path(out.report_path).read_text()
    assert '<img src="search.png"' in html and "TPE (Optuna, multivariate)" in html
    lines = out.leaderboard_text.splitlines()
    assert lines[0].split()[:5] == ["rank", "trial", "score", "fidelity", "status"]
    assert lines[12] == "(24 trials, 0 failed; showing the best 10)"
    assert len(lines) == 13 or lines[13].startswith("same in every row shown: ")
    journal = RunStore(autoglm_home / "runs.sqlite").journal_read("run-1", "search", "trial")
    assert len(journal) == 24 and all(r["status"] == "ok" for r in journal)


@pytest.mark.parametrize("optimizer", ["TwoPointsDE", "CMA", "PortfolioDiscreteOnePlusOne", "BO"])
def test_other_nevergrad_optimizers_run_by_name(run_search, optimizer):
    out = run_search({"optimizer": optimizer, "budget": 6, **NARROW})
    assert out.optimizer_used.split(" -> ")[0] == optimizer
    assert out.trials == 6
    for row in out.leaderboard:
        assert 0.0 <= row["params"]["x"] <= 2.0 and row["params"]["size"] in (1, 4)


def test_seeded_search_is_reproducible(run_search):
    config = {"budget": 10, "seed": 7, "warm_start": False}
    first, again = run_search(config, run_id="a"), run_search(config, run_id="b")
    other = run_search({**config, "seed": 8}, run_id="c")
    assert scores(first) == scores(again)
    assert [p for _, p, _ in scores(first)] != [p for _, p, _ in scores(other)]


def test_crashing_trials_are_recorded_and_the_search_goes_on(run_search):
    out = run_search(
        {
            "optimizer": "random",
            "budget": 9,
            "seed": 0,
            "base_config": {**NARROW["base_config"], "raise_on_kind": "c", "exit_on_kind": "a"},
            "space": NARROW["space"],
        }
    )
    by_kind: dict[str, set[str]] = {}
    for row in out.leaderboard:
        by_kind.setdefault(row["params"]["kind"], set()).add(row["error"] or row["status"])
    assert by_kind["b"] == {"ok"}
    assert by_kind["c"] == {"RuntimeError: toy failure for kind c"}
    assert by_kind["a"] == {"worker process died (exit code 7) while running the trial"}
    assert out.trials == 9
    assert out.failed_trials == 9 - sum(r["params"]["kind"] == "b" for r in out.leaderboard)
    assert out.best_params["kind"] == "b"


def test_timed_out_trials_are_killed_and_recorded(run_search):
    out = run_search(
        {
            "optimizer": "random",
            "budget": 6,
            "seed": 3,
            "trial_timeout": 4.0,
            "base_config": {**NARROW["base_config"], "hang_on_kind": "a"},
            "space": {**NARROW["space"], "kind": {"choice": ["a", "b"]}},
        }
    )
    statuses = {row["params"]["kind"]: set() for row in out.leaderboard}
    for row in out.leaderboard:
        statuses[row["params"]["kind"]].add(row["status"])
    assert statuses == {"a": {"timeout"}, "b": {"ok"}}
    hung = [row for row in out.leaderboard if row["status"] == "timeout"]
    assert all("trial_timeout=4 s" in row["error"] and row["seconds"] >= 4.0 for row in hung)


def test_grid_baseline_covers_its_grid_and_finds_the_grid_optimum(run_search):
    out = run_search({"optimizer": "grid", "budget": 100, "grid_points": 3, **NARROW})
    assert out.optimizer_used == "grid"
    assert out.trials == 3 * 3 * 2
    points = {tuple(sorted(row["params"].items())) for row in out.leaderboard}
    assert len(points) == 18
    assert out.best_params == {"x": 1.0, "kind": "b", "size": 4}
    assert out.best_score == pytest.approx(-0.1)


def test_random_baseline_is_seeded_and_in_space(run_search):
    first = run_search({"optimizer": "random", "budget": 8, **NARROW}, run_id="a")
    again = run_search({"optimizer": "random", "budget": 8, **NARROW}, run_id="b")
    assert scores(first) == scores(again)
    assert first.trials == 8
    assert all(0 <= row["params"]["x"] <= 2 for row in first.leaderboard)


def test_successive_halving_trains_only_the_top_fraction_fully(run_search):
    fidelity = {"field": "max_epochs", "min": 10, "max": 100, "eta": 10, "top_fraction": 0.3}
    out = run_search({"optimizer": "random", "budget": 10, "fidelity": fidelity, **NARROW})
    full = [row for row in out.leaderboard if row["fidelity"] == 100]
    short = [row for row in out.leaderboard if row["fidelity"] == 10]
    assert len(full) == 3 and len(short) == 7 and out.evaluations == 13
    # the promoted trials are the three best short runs (the toy ranks the same at any epochs)
    assert min(r["score"] + 1.0 - 0.1 for r in full) > max(r["score"] for r in short)
    assert out.rank_correlation == pytest.approx(1.0)
    assert out.best_config["max_epochs"] == 100
    assert out.leaderboard[0]["fidelity"] == 100


def test_asha_schedule_promotes_while_searching(run_search):
    fidelity = {
        "field": "max_epochs",
        "min": 10,
        "max": 100,
        "eta": 10,
        "top_fraction": 0.5,
        "schedule": "asha",
    }
    out = run_search({"optimizer": "random", "budget": 8, "fidelity": fidelity, **NARROW})
    full = [row for row in out.leaderboard if row["fidelity"] == 100]
    assert len(full) >= 4 and out.evaluations == 8 + len(full)


def test_warm_start_reuses_best_configs_of_similar_tasks(run_search):
    profile = {"nodes": 2708, "edges": 10556, "classes": 7}
    first = run_search({"budget": 6, "seed": 0}, {"profile": profile}, run_id="first")
    assert first.warm_started_from == []
    near = {"nodes": 2600, "edges": 10000, "classes": 7}
    second = run_search({"budget": 6, "seed": 5}, {"profile": near}, run_id="second")
    assert second.warm_started_from == ["first"]
    # the start point first (the objective's defaults), then the earlier search's best
    warm_rows = [row for row in second.leaderboard if row["warm"]]
    assert warm_rows and warm_rows[0]["trial"] == 1
    trial1 = next(row for row in second.leaderboard if row["trial"] == 1)
    assert trial1["params"]["kind"] == first.best_params["kind"]
    assert trial1["params"]["x"] == pytest.approx(first.best_params["x"])
    far = {"nodes": 10, "edges": 9e6, "classes": 400}
    third = run_search({"budget": 4, "seed": 5}, {"profile": far}, run_id="third")
    assert third.warm_started_from == [] and not any(r["warm"] for r in third.leaderboard)


def test_each_trial_gets_its_own_artifacts_folder(run_search):
    out = run_search(
        {"objective": "toy.artefact", "metric": "value", "optimizer": "grid", "grid_points": 4}
    )
    paths = {row["params"]["width"]: Path(row["outputs"]["path"]) for row in out.leaderboard}
    assert sorted(paths) == [1, 2, 3, 4] and out.best_params == {"width": 4}
    assert len({path.parent for path in paths.values()}) == 4
    assert all(path.read_text() == str(width) for width, path in paths.items())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"objective": "toy.nope"}, "'objective': unknown node type 'toy.nope'"),
        ({"metric": "val_acc"}, "'metric': 'toy.quadratic' has no output 'val_acc'"),
        ({"base_config": {"colour": 1}}, "'base_config': 'toy.quadratic' has no config field"),
        (
            {"fidelity": {"field": "x", "min": 1, "max": 2}, "space": {"x": {"float": [0, 1]}}},
            "also in 'space'",
        ),
        ({"space": {"size": {"choice": ["big"]}}}, "not a valid 'toy.quadratic' config"),
        ({"optimizer": "Nope"}, "'optimizer': 'Nope' is neither"),
    ],
)
def test_bad_config_fails_at_init_naming_the_field(run_search, overrides, message):
    with pytest.raises(ValueError, match=message):
        run_search(overrides)


#: toy.noisy declares nothing: the search is told which outputs are timings.
NOISY_GRID = {
    "objective": "toy.noisy",
    "optimizer": "grid",
    "budget": 5,
    "noise_outputs": ["seconds"],
}


def test_without_final_stage_the_lucky_seed_wins(run_search):
    out = run_search(NOISY_GRID)
    assert out.best_params["arm"] in ("lucky", "twin") and out.best_score == 0.9
    assert out.final_ranking == []


def test_final_stage_selects_by_mean_over_seeds_and_journals_it(run_search, autoglm_home):
    # the top two single-seed scores are lucky and its twin (identical outputs): the final
    # stage keeps one of them and re-evaluates the next distinct model, solid, instead
    config = {**NOISY_GRID, "final_top_k": 2, "final_seeds": 2}
    out = run_search(config)
    assert out.best_params == {"arm": "solid"}
    assert out.best_config == {"arm": "solid"}
    assert out.best_score == pytest.approx(0.8)
    ranking = [(r["params"]["arm"], r["seeds"], r["scores"]) for r in out.final_ranking]
    lucky = ranking[1][0]
    assert lucky in ("lucky", "twin")
    assert ranking == [
        ("solid", [0, 1, 2], [0.8, 0.8, 0.8]),
        (lucky, [0, 1, 2], [0.9, 0.5, 0.5]),
    ]
    assert out.final_ranking[1]["mean"] == pytest.approx(19 / 30)
    assert "mean 0.8 over seeds [0, 1, 2]" in out.leaderboard_text
    store = RunStore(autoglm_home / "runs.sqlite")
    final = store.journal_read("run-1", "search", "final")
    assert sorted((r["params"]["arm"], r["seed"], r["score"]) for r in final) == sorted(
        [(lucky, 1, 0.5), (lucky, 2, 0.5), ("solid", 1, 0.8), ("solid", 2, 0.8)]
    )
    # the leaderboard still lists the search's own (seed 0) evaluations
    assert out.leaderboard[0]["params"]["arm"] in ("lucky", "twin")
    # a resumed search replays the recorded final runs instead of training them again
    again = run_search(config)
    assert again.best_params == {"arm": "solid"}
    assert len(store.journal_read("run-1", "search", "final")) == 4


def test_final_stage_needs_a_seed_field(run_search):
    with pytest.raises(Exception, match="seed_field"):
        run_search({"final_top_k": 2, "budget": 3, "optimizer": "random"})


def test_a_small_space_is_exhausted_and_the_outputs_say_so(run_search):
    space = {"kind": {"choice": ["a", "b", "c"]}, "size": {"choice": [1, 4], "ordered": True}}
    out = run_search({"budget": 10, "space": space, "space_only": True, "warm_start": False})
    assert out.trials == 6 and len({str(r["params"]) for r in out.leaderboard}) == 6
    assert out.stop_reason == "space exhausted: all 6 distinct points evaluated"
    assert out.best_params == {"kind": "b", "size": 4}


def test_optimizer_used_names_what_proposed_the_selected_point(run_search):
    only_design = run_search({"budget": 1, "warm_start": False})
    assert only_design.optimizer_used == "initial design"
    assert only_design.strategy.startswith("TPE")
    assert only_design.stop_reason == "budget spent: 1 distinct trial"
    searched = run_search({"budget": 16, "warm_start": False, "seed": 2}, run_id="run-2")
    sources = {row["source"] for row in searched.leaderboard}
    assert searched.optimizer_used in sources and sum(searched.proposals.values()) == 16
    assert searched.leaderboard[0]["source"] == searched.optimizer_used
