"""The tabulated graph benchmark (bench/graph_table.py): its grid holds the untuned defaults,
the committed tables are complete, and a search against a table asks the defaults first and
never repeats a configuration. No training: look-ups only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("graph_table", REPO / "bench" / "graph_table.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["graph_table"] = module
    spec.loader.exec_module(module)
    return module


def test_grid_holds_the_defaults(bench):
    points = bench.grid_points()
    keys = {bench.key(p) for p in points}
    assert len(keys) == len(points) == 216
    for layer in bench.DEFAULT_LAYERS:
        assert bench.key({**bench.DEFAULT, "layer": layer}) in keys
    # k is read by propagation models only: a GCN with another k is the same row
    assert bench.key({**bench.DEFAULT, "k": 2}) == bench.key(bench.DEFAULT)


@pytest.mark.parametrize("graph", ["cora", "actor", "csbm-0.8", "csbm-0.2"])
def test_tables_are_complete(bench, graph):
    if not bench.table_path(graph).is_file():
        pytest.skip(f"{graph} table not built")
    rows = bench.read_table(graph)
    assert set(rows) == {bench.key(p) for p in bench.grid_points()}
    assert all(0.0 <= r["val_acc"] <= 1.0 and 0.0 <= r["test_acc"] <= 1.0 for r in rows.values())


def test_search_asks_the_default_first_and_never_repeats(bench):
    if not bench.table_path("csbm-0.8").is_file():
        pytest.skip("csbm-0.8 table not built")
    run = bench.run_search("csbm-0.8", "random", 0, 30)
    assert run["trace"][0] == bench.key(bench.DEFAULT)
    assert len(run["trace"]) == len(set(run["trace"])) == 30


def test_a_prior_from_the_worst_rows_of_the_other_tables_leaves_tpe_as_cold(bench):
    """The misleading prior of the benchmark's prior study: its seeds (asked after the start
    point, alternating with TPE) lose, so none is told to TPE; each takes one of TPE's random
    startup slots, so TPE draws the cold search's first random points, one fewer per seed,
    and its model starts at the same trial as in the cold search."""
    from autoglm_tuner.prior import PriorSource, build_prior

    if not all(bench.table_path(g).is_file() for g in bench.GRAPHS):
        pytest.skip("tables not built")
    others = [g for g in bench.GRAPHS if g != "cora"]
    sources = [
        PriorSource([(bench.full_point(r), -r["val_acc"]) for r in bench.table(g).values()])
        for g in others
    ]
    worst = build_prior(sources, bench.table_space(), active=bench.active, worst=True)
    guided = bench.run_search("cora", "TPE", 0, 20, prior=worst, kl_threshold=0.7)
    cold = bench.run_search("cora", "TPE", 0, 20)
    assert guided["asked"] >= 1 and guided["told"] == 0
    seeds = {1 + 2 * i for i in range(guided["asked"])}
    own = [k for i, k in enumerate(guided["trace"]) if i not in seeds]
    # the start point and TPE's random startup draws: 10 in the cold search
    draws = 10 - 1 - guided["asked"]
    assert own[: 1 + draws] == cold["trace"][: 1 + draws]
    assert len(guided["trace"]) == len(cold["trace"]) == 20
