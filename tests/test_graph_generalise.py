"""bench/graph_generalise.py keeps every finished unit on disk: a re-run computes nothing
twice, a guard stops between units, and the report reads what is finished (partial cells
marked). A fake backend stands in for the tuner and gnn.train, so the test trains nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import graph_generalise as gg  # noqa: E402


class FakeBackend:
    """Deterministic scores; counts every call, as the real trainings would cost."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def search(self, graph: str, run_id: str, config: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(f"search {run_id}")
        best = {"layer": "appnp", "hidden": 64, "input_dropout": 0.8, "seed": config["seed"]}
        journal = [
            {"trial": i, "rung": 0, "status": "ok", "score": 0.5, "cpu_seconds": 3.0}
            for i in range(config["budget"])
        ]
        journal.append({"trial": 0, "rung": 1, "status": "ok", "score": 0.6, "cpu_seconds": 6.0})
        return {
            "best_config": best,
            "best_score": 0.6 + 0.01 * config["seed"],
            "final_ranking": [{"params": {"hidden": 128}, "status": "ok"}],
            "trials": config["budget"],
            "failed_trials": 0,
            "cpu": 3.0 * config["budget"] + 6.0,
            "journal": journal,
        }

    def val(self, files: list[str], config: dict[str, Any], seeds: list[int]) -> list[float]:
        self.calls.append(f"val {config['layer']}")
        base = {"appnp": 0.7, "gcn": 0.65}.get(config["layer"], 0.5)
        return [base + 0.001 * config.get("hidden", 64) / 64 for _ in files for _ in seeds]

    def val_nodes(self, files: list[str], config: dict[str, Any], seeds: list[int]) -> list[str]:
        """1,000 validation nodes, the first ones right: a 0.001 lead is one node (z about 1)."""
        self.calls.append(f"val_nodes {config['layer']}")
        right = round(1000 * self.val(files, config, seeds[:1])[0])
        self.calls.pop(-2)  # the val call made here is not a training of its own
        return ["1" * right + "0" * (1000 - right) for _ in files for _ in seeds]

    def test(self, files: list[str], config: dict[str, Any], seeds: list[int]) -> list[float]:
        self.calls.append(f"test {config['layer']}")
        score = (
            0.75 if config["layer"] != "appnp" else 0.8 if config.get("hidden", 64) == 64 else 0.81
        )
        score += 0.005 if config.get("ensemble", 1) > 1 else 0.0  # a seed ensemble's gain
        return [score for _ in files for _ in seeds]


#: The fake graph files do not exist, so selections are judged on the graph's own split here;
#: test_single_split_graphs_are_judged_on_redrawn_splits uses a real file.
OWN_SPLIT = ("--select-resplits", "0")


def runner(
    tmp_path: Path, *argv: str, files: list[str] | None = None
) -> tuple[gg.Runner, FakeBackend]:
    args = gg.parse_args(
        ["--work-dir", str(tmp_path), "--seeds", "3", "--search-cpu-minutes", "1", *argv]
    )
    backend = FakeBackend()
    store = gg.Store(tmp_path / "units")
    files_of = (lambda g: files) if files else (lambda g: [f"{g}.bin"])
    return gg.Runner(args, store, backend, files_of, log=lambda m: None), backend


def test_finished_units_are_not_recomputed(tmp_path: Path) -> None:
    first, backend = runner(tmp_path, *OWN_SPLIT)
    first.run(["csbm-0.5"], ["default", "random"])
    searches = [c for c in backend.calls if c.startswith("search")]
    assert len(searches) == 1 + 2 * 3  # the calibration, then 2 methods x 3 seeds
    # calibration: 3 CPU s per trial, final stage 5 x 2 x 6 s -> (60 - 60) / 3 -> floor 20
    assert first.budget("csbm-0.5") == 20
    again, backend2 = runner(tmp_path, *OWN_SPLIT)
    again.run(["csbm-0.5"], ["default", "random"])
    assert backend2.calls == [] and again.computed == []


def test_guard_stops_between_units_and_the_rest_resumes(tmp_path: Path) -> None:
    stopped, backend = runner(tmp_path, "--max-cpu-minutes", "0", *OWN_SPLIT)
    with pytest.raises(gg.Stop):
        stopped.run(["csbm-0.5"], ["default"])
    assert backend.calls == []  # not one unit started
    resumed, backend2 = runner(tmp_path, *OWN_SPLIT)
    resumed.run(["csbm-0.5"], ["default"])
    assert any(c.startswith("search") for c in backend2.calls)


def test_report_marks_partial_cells_and_compares_with_the_bar(tmp_path: Path) -> None:
    first, _ = runner(tmp_path, "--seeds", "1", *OWN_SPLIT)
    first.run(["csbm-0.5"], ["default"])
    args = gg.parse_args(
        ["--work-dir", str(tmp_path), "--seeds", "3", "--graphs", "csbm-0.5", *OWN_SPLIT]
    )
    text = gg.report(first.store, args, ["csbm-0.5"], ["default", "random"])
    assert text.startswith("## ")
    assert "**Partial**" in text and "| 1/3 (partial) |" in text
    assert "| csbm-0.5 | random | 0/3 | not run yet |" in text
    # the bar: APPNP at its defaults (best val of the defaults); the search's wider APPNP
    # leads it on validation by one node in 1,000: the guard keeps the default (a tie with
    # the bar), the plain ranking would have taken the wider one (1 point higher on test)
    assert "csbm-0.5, default (1 seed(s)): +select +0.00 (tie" in text
    assert "without the guard +1.00 (ahead" in text
    assert "| csbm-0.5 | default+select, no guard | 1/3 (partial) | layer=appnp, hidden=128" in text
    assert "CSBM sweep, default+select against the best default per level: 0.5: tie" in text
    # the guard's statistic, from the recorded per-node units: one node of 1,000 (z about 1)
    assert (
        "* csbm-0.5, default seed 0: lead +0.10, z 1.0; test of the top +1.00, of the guarded "
        "pick +0.00 (guard kept the default)"
    ) in text
    # the final models as the workflows train them: 5-member ensembles of the pick and the bar
    assert "### The workflows' final model: seed ensembles of 5" in text
    assert "* csbm-0.5, best default (layer=appnp): 80.50" in text
    assert "* csbm-0.5, default+select (1 seed(s)): 80.50, against the best default +0.00" in text


def test_single_split_graphs_are_judged_on_redrawn_splits(tmp_path: Path) -> None:
    """--select-resplits 2 (a real graph file): the selection's units sit in their own
    folders, its runs read the two re-drawn files while the bar keeps the graph's own split,
    and searches and tests are shared with the same-node selection."""
    from autoglm_gnn.graphs import save_graph
    from autoglm_gnn.synthetic import CSBMSpec, generate_csbm

    graph = tmp_path / "csbm-0.5.bin"
    save_graph(graph, generate_csbm(CSBMSpec(nodes=120, classes=3, features=8, seed=1)))
    seen: list[list[str]] = []
    resplit, backend = runner(
        tmp_path, "--seeds", "1", "--select-resplits", "2", files=[str(graph)]
    )
    real_val = backend.val
    backend.val = lambda files, config, seeds: seen.append(files) or real_val(files, config, seeds)
    resplit.run(["csbm-0.5"], ["default"])
    # the bar (the best default by the graph's own validation) reads the graph's own split,
    # the search's selection the two re-drawn ones
    own = [f for f in seen if f == [str(graph)]]
    redrawn = [f for f in seen if len(f) == 2 and all("resplit" in p for p in f)]
    assert own and redrawn and len(own) + len(redrawn) == len(seen)
    units = tmp_path / "units" / "csbm-0.5"
    assert list(units.glob("val-resplit2/*.json")) and list(units.glob("select-*-resplit2/*"))
    same, backend2 = runner(tmp_path, "--seeds", "1", *OWN_SPLIT, files=[str(graph)])
    same.run(["csbm-0.5"], ["default"])
    assert not any(c.startswith(("search", "test")) for c in backend2.calls)
    assert list(units.glob("val/*.json"))
