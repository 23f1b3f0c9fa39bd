"""Tabulated graph benchmark of the tuner (issue 12), in the manner of NAS-Bench-Graph: every
configuration of a discrete grid over gnn.train's own search space is trained once, for real,
on four graphs, and the tuner's strategies, performance predictor and warm start then run
against table look-ups over many paired seeds at no training cost.

Why a table: one real graph search costs about 20 CPU-minutes, so strategies cannot be
compared over 40 seeds on real training; the zero-cost benchmark (bench/tuner_zero_cost.py)
compares them over thousands of seeds, but on synthetic landscapes. The table keeps real
training's landscape (noise of one seed included) and costs one training per grid point.

Subcommands (each resumable: rows and searches are appended as they finish, and what is
already recorded is skipped):

* ``build``: trains every grid point on every graph (one seed, ``MAX_EPOCHS`` with the
  plugin's early stopping, one torch thread) and appends rows to
  bench/results/gnn_table/<graph>.csv (val/test accuracy, CPU seconds);
* ``search``: random, TPE (the default), NGOpt and GP through the tuner's proposer on each
  table, 40 paired seeds; the predictor's leave-one-graph-out study; the warm start / prior
  study when ``autoglm_tuner.prior`` exists; then writes bench/results/graph_table.md.

Usage (the build took 15 CPU-minutes, the searches 18; one process, one thread):
    nohup .venv/bin/python bench/graph_table.py build > bench/out/graph_table/build.log 2>&1 &
    nohup .venv/bin/python bench/graph_table.py search > bench/out/graph_table/search.log 2>&1 &
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
TABLES = REPO / "bench" / "results" / "gnn_table"
RESULTS = REPO / "bench" / "results"
OUT = REPO / "bench" / "out" / "graph_table"

#: The graphs: name -> how to make its graph file. Cora (public split), Actor (split 0 of the
#: 10 standard ones) and two CSBM graphs of gnn.synthetic (3,000 nodes, 4 classes, 32
#: features, signal 1.0): one homophilous, one heterophilous.
GRAPHS = ("cora", "actor", "csbm-0.8", "csbm-0.2")
CSBM_NODES = 3000

#: The grid: a discrete sub-space of configs/autognn-*.yaml's space that contains gnn.train's
#: defaults (hidden 64, dropouts 0.5, lr 0.01, weight decay 5e-4, k 10), so the untuned
#: defaults are rows of every table. ``dropout`` sets both dropout and input_dropout. ``k``
#: (propagation steps; GCNII's depth) is read only by the propagation models, as in gnn.train:
#: the space is a flat product whose effective points are the table's rows.
LAYERS = ("gcn", "sage", "appnp", "gprgnn", "gcnii", "mlp")
GRID: dict[str, tuple[Any, ...]] = {
    "layer": LAYERS,
    "hidden": (32, 64),
    "dropout": (0.0, 0.5, 0.8),
    "lr": (0.01, 0.05),
    "weight_decay": (5e-4, 5e-3),
    "k": (2, 10),
}
K_LAYERS = {"appnp", "gprgnn", "gcnii"}
#: gnn.train's defaults on the grid (the tuner's start point, the design ``default``).
DEFAULT = {"layer": "gcn", "hidden": 64, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4, "k": 10}
#: gnn.select's untuned defaults (DEFAULT_LAYERS), each at the defaults above.
DEFAULT_LAYERS = ("gcn", "appnp", "mlp", "gcnii")
#: Training length of every row: the tuner's lowest fidelity (configs: min 100 epochs), with
#: early stopping after 50 epochs without a better validation accuracy.
MAX_EPOCHS, PATIENCE, SEED = 100, 50, 0
FIELDS = ("layer", "hidden", "dropout", "lr", "weight_decay", "k")
COLUMNS = (*FIELDS, "val_acc", "test_acc", "val_loss", "best_epoch", "epochs", "cpu_s")


# --------------------------------------------------------------------------------- grid


def effective(params: dict[str, Any]) -> dict[str, Any]:
    """The fields that ``params['layer']`` reads (``k`` only for propagation models)."""
    point = {f: params[f] for f in FIELDS}
    if point["layer"] not in K_LAYERS:
        point["k"] = ""
    return point


def key(params: dict[str, Any]) -> str:
    """A row's identity: its effective fields, as the CSV writes them."""
    point = effective(params)
    return "|".join(f"{point[f]}" for f in FIELDS)


def grid_points() -> list[dict[str, Any]]:
    """Every distinct effective point of the grid, cheap layer types first."""
    seen, points = set(), []
    for values in itertools.product(*GRID.values()):
        point = effective(dict(zip(GRID, values, strict=True)))
        if key(point) not in seen:
            seen.add(key(point))
            points.append(point)
    return points


def table_space() -> dict[str, Any]:
    """The grid as a tuner space: an unordered layer type, ordered choices elsewhere."""
    from autoglm.space import Choice

    return {name: Choice(list(values), ordered=name != "layer") for name, values in GRID.items()}


def train_params(point: dict[str, Any]) -> dict[str, Any]:
    """The gnn.train config of a grid point (every other field at its default)."""
    config = {
        "layer": point["layer"],
        "hidden": point["hidden"],
        "dropout": point["dropout"],
        "input_dropout": point["dropout"],
        "lr": point["lr"],
        "weight_decay": point["weight_decay"],
        "max_epochs": MAX_EPOCHS,
        "patience": PATIENCE,
        "seed": SEED,
        "threads": 1,
        "report_test": True,
    }
    if point["layer"] in K_LAYERS:
        config["k"] = point["k"]
    return config


# --------------------------------------------------------------------------------- graphs


def data_dir() -> Path:
    env = os.environ.get("AUTOGLM_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def graph_file(name: str) -> str:
    """The graph file of ``name`` under bench/out/ (made once; derived, never committed)."""
    from autoglm_gnn.graphs import save_graph

    work = OUT / "graphs"
    work.mkdir(parents=True, exist_ok=True)
    if name == "cora":
        from graph_sets import build

        return build("cora", data_dir(), work)[0]
    path = work / f"{name}.bin"
    if path.is_file():
        return str(path)
    if name == "actor":
        from autoglm_gnn.geomgcn import read_geomgcn

        save_graph(path, read_geomgcn(data_dir() / "geomgcn", "film", 0))
    elif name.startswith("csbm-"):
        from autoglm_gnn.synthetic import CSBMSpec, generate_csbm

        spec = CSBMSpec(nodes=CSBM_NODES, homophily=float(name[5:]), seed=0)
        save_graph(path, generate_csbm(spec))
    else:
        raise SystemExit(f"unknown graph {name!r}: expected one of {', '.join(GRAPHS)}")
    return str(path)


def profile_of(name: str) -> dict[str, Any]:
    """The graph's profile as the gnn loaders output it (what tuner.search is given)."""
    cache = OUT / f"profile-{name}.json"
    if cache.is_file():
        profile = json.loads(cache.read_text())
        if "key_statistics" in profile:  # else recorded before the profiler marked them
            return profile
    from autoglm_gnn.graphs import load_graph_file
    from autoglm_gnn.profiler import profile_graph

    profile = profile_graph(load_graph_file(graph_file(name)))
    cache.write_text(json.dumps(profile))
    return profile


# --------------------------------------------------------------------------------- tables


def table_path(name: str) -> Path:
    return TABLES / f"{name}.csv"


def read_table(name: str) -> dict[str, dict[str, Any]]:
    """The rows recorded for ``name``, by key, values typed."""
    path = table_path(name)
    if not path.is_file():
        return {}
    rows = {}
    with path.open() as f:
        for raw in csv.DictReader(f):
            row: dict[str, Any] = dict(raw)
            row["hidden"] = int(row["hidden"])
            row["k"] = int(row["k"]) if row["k"] else ""
            for field in ("dropout", "lr", "weight_decay", "val_acc", "test_acc", "val_loss"):
                row[field] = float(row[field])
            for field in ("best_epoch", "epochs"):
                row[field] = int(row[field])
            row["cpu_s"] = float(row["cpu_s"])
            rows[key(row)] = row
    return rows


def build(args: argparse.Namespace) -> None:
    """Train every grid point missing from each table and append its row."""
    import torch

    torch.set_num_threads(1)
    from autoglm_gnn.trainer import train_config

    TABLES.mkdir(parents=True, exist_ok=True)
    points = grid_points()
    for name in args.graphs.split(","):
        path = graph_file(name)
        profile_of(name)
        done = read_table(name)
        todo = [p for p in points if key(p) not in done]
        print(f"{name}: {len(done)} rows recorded, {len(todo)} to train", flush=True)
        new = not table_path(name).is_file()
        with table_path(name).open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            spent = 0.0
            for i, point in enumerate(todo, start=1):
                started = time.process_time()
                result = train_config(path, train_params(point))
                cpu = time.process_time() - started
                spent += cpu
                writer.writerow(
                    {
                        **point,
                        "val_acc": f"{result.val_acc:.4f}",
                        "test_acc": f"{result.test_acc:.4f}",
                        "val_loss": f"{result.val_loss:.4f}",
                        "best_epoch": result.best_epoch,
                        "epochs": result.epochs,
                        "cpu_s": f"{cpu:.3f}",
                    }
                )
                f.flush()
                if i % 12 == 0:
                    print(f"{name}: {i}/{len(todo)}, {spent:.0f} CPU s", flush=True)
        print(f"{name}: done, {spent:.0f} CPU s this run", flush=True)


# ------------------------------------------------------------------------------ searches

#: Strategies compared (TPE: the tuner's default optimiser) and the checkpoints read from one
#: search per seed (anytime, as in bench/tuner_zero_cost.py).
STRATEGIES = ("TPE", "random", "NGOpt", "GP")
DEFAULT_STRATEGY = "TPE"
CHECKPOINTS = (10, 20, 50, 100)
CACHE = OUT / "searches.jsonl"
#: In the cache keys of the warm-start, prior and their cold searches: bumped when the code
#: they run changes (v2: profile distance with key statistics, the guard's entropy-loss
#: trigger, prior share 0, and the TPE of 251f4bd for every arm, cold included; v4: warm
#: configs and seeds asked after the start point, told to TPE only when they beat every
#: other result, one search per budget; v5: a held-back warm config or seed takes one of
#: TPE's random startup slots instead of pushing the cold search one trial later).
STUDY_VERSION = "v5"
PRIOR_VERSION = "v5"
#: The cold baseline's key: cold searches are unchanged since v2 (a cold search proposes its
#: former points, tested; the recorded traces match a rerun).
COLD_VERSION = "v2"
#: The screened searches' version (v2: the predictor weighted by profile distance, with its
#: self-check; v3: every second trial unscreened). The strategy study's searches
#: (``search/``) are cold searches, which the transfer gate does not change (tested: a cold
#: search proposes its former points).
SEARCH_VERSION = "v3"
#: Budgets of the warm-start and prior studies below the largest (``--study-budget``): each
#: budget is its own search, since the seeds asked are a share of the budget.
STUDY_BUDGETS = (10, 20)
#: The prior share of the arm that draws prior samples besides the seeds (the old default).
SAMPLES_SHARE = 0.3


def search_default(field: str) -> Any:
    """tuner.search's default for a config field (the prior's settings are read here, so
    the benchmark measures what a search runs with)."""
    from autoglm_tuner.config import SearchConfig

    return SearchConfig.model_fields[field].default


TABLE: dict[str, dict[str, dict[str, Any]]] = {}


def table(name: str) -> dict[str, dict[str, Any]]:
    if name not in TABLE:
        TABLE[name] = read_table(name)
        if len(TABLE[name]) != len(grid_points()):
            raise SystemExit(f"{name}: {len(TABLE[name])} rows, expected {len(grid_points())}")
    return TABLE[name]


def full_point(row: dict[str, Any]) -> dict[str, Any]:
    """A row as a point of the tuner space (``k`` at its default where the layer ignores it)."""
    return {f: (DEFAULT[f] if row[f] == "" else row[f]) for f in FIELDS}


def run_search(
    graph: str,
    strategy_name: str,
    seed: int,
    budget: int,
    *,
    screen: Any = None,
    warm: list[dict[str, Any]] | None = None,
    prior: Any = None,
    kl_threshold: float | None = None,
    share: float | None = None,
) -> dict[str, Any]:
    """One search against the table: the tuner's proposer (design ``default``: gnn.train's
    defaults first, as tuner.search asks them) and strategy, the loss the table's negated
    validation accuracy; with ``prior`` the strategy is wrapped as tuner.search wraps it
    (prior.PriorGuided, the search config's defaults). Returns the keys evaluated in order,
    the search's CPU seconds and the KL guard's firings."""
    import warnings

    warnings.simplefilter("ignore")
    from autoglm_tuner.design import make_design
    from autoglm_tuner.proposer import Proposer
    from autoglm_tuner.strategies import make_strategy

    rows = table(graph)
    space = table_space()
    started = time.process_time()
    strategy = make_strategy(
        strategy_name, space, budget=budget, workers=1, seed=seed, start=dict(DEFAULT)
    )
    if prior is not None or warm:
        from autoglm_tuner.prior import PriorGuided, seed_count

        strategy = PriorGuided(
            strategy,
            prior,
            seeds=seed_count(budget, search_default("prior_seeds"), prior) if prior else 0,
            share=search_default("prior_share") if share is None else share,
            seed=seed,
            kl_threshold=kl_threshold,
            patience=search_default("kl_patience"),
            active=active,
            warm=warm,
        )
    proposer = Proposer(
        strategy,
        space,
        budget=budget,
        seed=seed,
        key=key,
        design=make_design("default", dict(DEFAULT), space),
        screen=screen,
        keep=0.3 if screen is not None else 1.0,
    )
    trace = []
    while (candidate := proposer.ask()) is not None:
        k = key(candidate.params)
        proposer.tell(candidate, -rows[k]["val_acc"])
        trace.append(k)
    events = getattr(strategy, "events", [])
    described = strategy.describe() if hasattr(strategy, "describe") else {}
    return {
        "trace": trace,
        "held": described.get("held_back", 0),
        "told": described.get("seeds_told", 0) + described.get("warm_told", 0),
        "asked": described.get("seeds_asked", 0) + described.get("warm_asked", 0),
        "screen_stopped": proposer.check.stopped_at if screen is not None else None,
        "cpu": time.process_time() - started,
        "guard": len(events),
        "events": events,
    }


def active(params: dict[str, Any]) -> list[str]:
    """The fields the point's layer reads (gnn.train's effective config)."""
    return [f for f in FIELDS if f != "k" or params["layer"] in K_LAYERS]


class Cache:
    """Searches recorded as JSON lines, keyed by their task, so a killed run resumes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        #: searches run by this process (not read from the record)
        self.computed = 0
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:  # the last line of an interrupted run
                    continue
                self.data[record["task"]] = record["value"]

    def get(self, task: str, compute: Any, *args: Any, **kwargs: Any) -> Any:
        """The recorded value of ``task``, else ``compute(*args, **kwargs)``, recorded."""
        if task not in self.data:
            self.data[task] = compute(*args, **kwargs)
            self.computed += 1
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps({"task": task, "value": self.data[task]}) + "\n")
        return self.data[task]


def curve(graph: str, trace: list[str]) -> list[str]:
    """The selected key after each evaluation: the best validation accuracy so far (ties:
    the first found, as the search keeps its first best)."""
    rows = table(graph)
    best, out = None, []
    for k in trace:
        if best is None or rows[k]["val_acc"] > rows[best]["val_acc"]:
            best = k
        out.append(best)
    return out


def at(graph: str, trace: list[str], budget: int) -> dict[str, Any]:
    """The row selected after ``budget`` evaluations (the last one if the search was shorter)."""
    chosen = curve(graph, trace[:budget])
    return table(graph)[chosen[-1]]


def reached(graph: str, trace: list[str], threshold: float, never: int) -> int:
    """Evaluations until the best validation accuracy so far is >= ``threshold``."""
    rows = table(graph)
    for i, k in enumerate(trace, start=1):
        if rows[k]["val_acc"] >= threshold - 1e-12:
            return i
    return never


def stats(graph: str) -> dict[str, Any]:
    """What the benchmark knows about a table: best rows, top-5% threshold, the defaults."""
    rows = table(graph)
    ranked = sorted(rows.values(), key=lambda r: (-r["val_acc"], r["val_loss"]))
    vals = sorted((r["val_acc"] for r in rows.values()), reverse=True)
    defaults = [rows[key({**DEFAULT, "layer": layer})] for layer in DEFAULT_LAYERS]
    best_default = max(defaults, key=lambda r: (r["val_acc"], -r["val_loss"]))
    return {
        "best_val": ranked[0],
        "best_test": max(rows.values(), key=lambda r: r["test_acc"]),
        "top5": vals[max(0, math.ceil(0.05 * len(vals)) - 1)],
        "default": rows[key(DEFAULT)],
        "defaults": defaults,
        "best_default": best_default,
        "cpu": sum(r["cpu_s"] for r in rows.values()),
    }


def seeds_of(args: argparse.Namespace, name: str) -> int:
    """Seeds of a strategy: GP + EI and NGOpt cost 10 and 4 CPU s per search of 100 here,
    so they run on the first seeds only (paired with the others on those)."""
    return {"GP": args.gp_seeds, "NGOpt": args.ngopt_seeds}.get(name, args.seeds)


def search_study(args: argparse.Namespace, cache: Cache) -> dict[tuple, list[list[str]]]:
    """Every strategy on every table, seeds 0.., one budget-``max`` search per seed."""
    runs: dict[tuple, list[list[str]]] = {}
    budget = max(CHECKPOINTS)
    for graph in args.graphs.split(","):
        for name in args.strategies.split(","):
            seeds = seeds_of(args, name)
            traces = []
            for seed in range(seeds):
                task = f"search/{graph}/{name}/{seed}/{budget}"
                traces.append(cache.get(task, run_search, graph, name, seed, budget))
            runs[(graph, name)] = traces
            cpu = statistics.fmean(t["cpu"] for t in traces)
            print(f"{graph} {name}: {seeds} searches, {cpu:.2f} CPU s each", flush=True)
    return runs


# ------------------------------------------------------------------------------ predictor


def past_searches(held_out: str, graphs: list[str], share: float = 1.0) -> list[Any]:
    """The other graphs' tables as past searches (profile + trials), as tuner.search's
    summaries give them to the predictor; ``share``: only each table's best share."""
    from autoglm_tuner.predictor import PastSearch

    past = []
    for graph in graphs:
        if graph == held_out:
            continue
        rows = sorted(table(graph).values(), key=lambda r: -r["val_acc"])
        rows = rows[: max(1, round(share * len(rows)))]
        past.append(PastSearch(profile_of(graph), [(full_point(r), -r["val_acc"]) for r in rows]))
    return past


def predictor_study(args: argparse.Namespace, cache: Cache, runs: dict) -> list[dict[str, Any]]:
    """Leave one graph out: the predictor fitted on the other three tables (with their
    profiles) ranks the held-out table (Spearman against its validation accuracy), and a
    search that trains only the best-ranked of every 3 proposals (``screen: 0.3``) is
    compared with the same strategy's unscreened search on the same seeds."""
    from autoglm_tuner.fidelity import spearman
    from autoglm_tuner.predictor import Predictor

    graphs = args.graphs.split(",")
    budget = max(CHECKPOINTS)
    out = []
    for graph in graphs:
        predictor = Predictor(table_space(), past_searches(graph, graphs))
        profile = profile_of(graph)
        rows = list(table(graph).values())
        screen = functools.partial(predictor.rank, profile=profile)
        rho = spearman(
            predictor.rank([full_point(r) for r in rows], profile), [-r["val_acc"] for r in rows]
        )
        for name in args.screen_strategies.split(","):
            screened = []
            for seed in range(args.screen_seeds):
                task = f"screen-{SEARCH_VERSION}/{graph}/{name}/{seed}/{budget}"
                screened.append(
                    cache.get(task, run_search, graph, name, seed, budget, screen=screen)
                )
            cold = runs[(graph, name)][: args.screen_seeds]
            out.append(
                {"graph": graph, "strategy": name, "rho": rho, "cold": cold, "screened": screened}
            )
            print(f"predictor {graph} {name}: rho {rho:.2f}", flush=True)
    return out


# ------------------------------------------------------------------------------ warm start


def study_budgets(args: argparse.Namespace) -> list[int]:
    """The warm-start and prior studies' budgets: ``STUDY_BUDGETS`` and ``--study-budget``."""
    return sorted({*STUDY_BUDGETS, args.study_budget})


def study_runs(
    args: argparse.Namespace,
    cache: Cache,
    prefix: str,
    graph: str,
    seeds: int,
    *,
    per_budget: bool = True,
    first: int = 0,
    **kwargs: Any,
) -> dict[int, list[dict[str, Any]]]:
    """TPE searches of ``graph`` (``run_search`` with ``kwargs``), cached under
    ``prefix/seed/budget``: budget -> searches. ``per_budget``: one search per seed and study
    budget (the prior's seeds are a share of the budget); else one search of the largest
    budget per seed, read at each budget (cold and warm-start searches: TPE ignores the
    budget and the warm configs do not depend on it, so a shorter search is its prefix).
    Seeds ``first`` to ``first + seeds - 1``."""
    budgets = study_budgets(args)
    if not per_budget:
        last = [
            cache.get(
                f"{prefix}/{seed}/{budgets[-1]}",
                run_search,
                graph,
                DEFAULT_STRATEGY,
                seed,
                budgets[-1],
                **kwargs,
            )
            for seed in range(first, first + seeds)
        ]
        return {b: [{**r, "trace": r["trace"][:b]} for r in last] for b in budgets}
    return {
        budget: [
            cache.get(
                f"{prefix}/{seed}/{budget}",
                run_search,
                graph,
                DEFAULT_STRATEGY,
                seed,
                budget,
                **kwargs,
            )
            for seed in range(first, first + seeds)
        ]
        for budget in budgets
    }


def warm_study(args: argparse.Namespace, cache: Cache) -> list[dict[str, Any]]:
    """The tuner's warm start (warmstart.find_warm_start): the other graphs' searches as
    summaries (profile and their 3 best configs), the tuner's defaults (3 configs, profile
    distance <= 0.25) and with no distance limit; TPE, same seeds as the cold searches."""
    from autoglm_tuner.warmstart import find_warm_start

    graphs = args.graphs.split(",")
    out = []
    for graph in graphs:
        summaries = []
        for other in graphs:
            if other == graph:
                continue
            best = sorted(table(other).values(), key=lambda r: (-r["val_acc"], r["val_loss"]))
            summaries.append(
                (
                    other,
                    "search",
                    {
                        "objective": "gnn.train",
                        "metric": "val_acc",
                        "profile": profile_of(other),
                        "top_configs": [full_point(r) for r in best[:3]],
                    },
                )
            )
        for limit_name, max_distance in (("tuner default (0.25)", 0.25), ("any distance", 1.0)):
            warm = find_warm_start(
                summaries,
                objective="gnn.train",
                metric="val_acc",
                profile=profile_of(graph),
                space=table_space(),
                max_distance=max_distance,
                limit=3,
            )
            if not warm.configs:
                print(f"warm {graph} {limit_name}: no search close enough", flush=True)
                continue
            traces = study_runs(
                args,
                cache,
                f"warm-{STUDY_VERSION}/{graph}/{max_distance}",
                graph,
                args.warm_seeds,
                per_budget=False,
                warm=warm.configs,
            )
            out.append(
                {
                    "graph": graph,
                    "limit": limit_name,
                    "label": f"warm start, {limit_name}",
                    "prefix": f"warm-{STUDY_VERSION}/{graph}/{max_distance}",
                    "kwargs": {"per_budget": False, "warm": warm.configs},
                    "sources": warm.sources,
                    "configs": warm.configs,
                    "traces": traces,
                }
            )
    return out


# --------------------------------------------------------------------------------- report


def pct(value: float) -> str:
    return f"{100 * value:.2f}"


def describe(row: dict[str, Any]) -> str:
    """``gprgnn h64 d0.5 lr0.01 wd0.0005 k10``: a row's configuration, short."""
    k = f" k{row['k']}" if row["k"] != "" else ""
    return (
        f"{row['layer']} h{row['hidden']} d{row['dropout']} lr{row['lr']} "
        f"wd{row['weight_decay']}{k}"
    )


def table_lines(args: argparse.Namespace) -> list[str]:
    lines = [
        "### The tables",
        "",
        "One row per distinct configuration (216 per graph); accuracies in %. *best by val*: "
        "the row a search would select after trying everything (ties: lower validation "
        "loss); *best default by val*: gnn.select's untuned defaults (GCN, APPNP, MLP, GCNII "
        "at gnn.train's defaults, all rows of the table) chosen by validation accuracy; "
        "*top 5%*: the validation accuracy of the 11th best row; CPU: seconds of one "
        "process to train all rows.",
        "",
        "| graph | nodes | edge homophily | best by val: config | val | test | best test in "
        "table | GCN default val / test | best default by val | val | test | top 5% val "
        "| CPU s (mean per row) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for graph in args.graphs.split(","):
        s, profile = stats(graph), profile_of(graph)
        b, d = s["best_val"], s["best_default"]
        lines.append(
            f"| {graph} | {profile['nodes']:,} | {profile['edge_homophily']:.2f} "
            f"| {describe(b)} | {pct(b['val_acc'])} | {pct(b['test_acc'])} "
            f"| {pct(s['best_test']['test_acc'])} "
            f"| {pct(s['default']['val_acc'])} / {pct(s['default']['test_acc'])} "
            f"| {d['layer']} | {pct(d['val_acc'])} | {pct(d['test_acc'])} | {pct(s['top5'])} "
            f"| {s['cpu']:.0f} ({s['cpu'] / len(table(graph)):.2f}) |"
        )
    per_layer = [
        "",
        "Best validation accuracy per layer type (its test accuracy in brackets):",
        "",
        "| graph | " + " | ".join(LAYERS) + " |",
        "|" + "---|" * (len(LAYERS) + 1),
    ]
    for graph in args.graphs.split(","):
        cells = []
        for layer in LAYERS:
            rows = [r for r in table(graph).values() if r["layer"] == layer]
            best = max(rows, key=lambda r: (r["val_acc"], -r["val_loss"]))
            cells.append(f"{pct(best['val_acc'])} ({pct(best['test_acc'])})")
        per_layer.append(f"| {graph} | " + " | ".join(cells) + " |")
    return [*lines, *per_layer, ""]


def search_lines(args: argparse.Namespace, runs: dict) -> tuple[list[str], dict[str, Any]]:
    """Regret and selected-test tables with paired verdicts of TPE against the others."""
    from tuner_zero_cost import verdict

    graphs, names = args.graphs.split(","), args.strategies.split(",")
    main_names = [n for n in names if n != "GP"]
    summary: dict[str, Any] = {"worse": [], "better": [], "checked": 0}
    lines = [
        "### Strategies: validation regret ("
        + ", ".join(f"{n} {seeds_of(args, n)} seeds" for n in main_names)
        + ")",
        "",
        "Mean **validation regret** (percentage points) of the best configuration so far: the "
        "table's best validation accuracy minus the best one the search has evaluated. Each "
        "search asks gnn.train's defaults (GCN) first, then its strategy, through the tuner's "
        "proposer (distinct effective points; a GCN with another `k` is the same point), and "
        "is read at each budget (one search of 100 per seed). Means over each strategy's own "
        f"seeds; verdicts: `{DEFAULT_STRATEGY}` against each strategy on the seeds both ran "
        "(0..n-1), Wilcoxon signed-rank, two-sided, p < 0.05.",
        "",
        "| graph | budget | " + " | ".join(main_names) + f" | {DEFAULT_STRATEGY} against |",
        "|" + "---|" * (len(main_names) + 3),
    ]
    for graph in graphs:
        best = stats(graph)["best_val"]["val_acc"]
        for b in CHECKPOINTS:
            regrets = {
                n: [best - at(graph, r["trace"], b)["val_acc"] for r in runs[(graph, n)]]
                for n in main_names
            }
            cells = [f"{100 * statistics.fmean(regrets[n]):.2f}" for n in main_names]
            verdicts = []
            for n in main_names:
                if n == DEFAULT_STRATEGY:
                    continue
                shared = min(len(regrets[n]), len(regrets[DEFAULT_STRATEGY]))
                v = verdict(regrets[DEFAULT_STRATEGY][:shared], regrets[n][:shared])
                verdicts.append(f"vs {n}: {v}")
                summary["checked"] += 1
                if v.startswith("WORSE"):
                    summary["worse"].append(f"{graph}/{b} vs {n}")
                elif v.startswith("better"):
                    summary["better"].append(f"{graph}/{b} vs {n}")
            lines.append(
                f"| {graph} | {b} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |"
            )
    lines += [
        "",
        "### Test accuracy of the configuration selected by validation",
        "",
        "Mean test accuracy (%) over the seeds of the row each search selects (best validation "
        "so far) at each budget, beside the table's references: the best untuned default by "
        "validation, and the row selected after evaluating the whole table (*all 216*). "
        f"Verdict: `{DEFAULT_STRATEGY}`'s selected test accuracy against the best default's "
        "(one-sample Wilcoxon of the paired differences, p < 0.05).",
        "",
        "| graph | budget | " + " | ".join(main_names) + " | best default by val | all 216 "
        f"| {DEFAULT_STRATEGY} vs best default |",
        "|" + "---|" * (len(main_names) + 5),
    ]
    from tuner_zero_cost import wilcoxon

    for graph in graphs:
        s = stats(graph)
        default_test = s["best_default"]["test_acc"]
        for b in CHECKPOINTS:
            tests = {
                n: [at(graph, r["trace"], b)["test_acc"] for r in runs[(graph, n)]]
                for n in main_names
            }
            cells = [pct(statistics.fmean(tests[n])) for n in main_names]
            mine = tests[DEFAULT_STRATEGY]
            p = wilcoxon(mine, [default_test] * len(mine))
            sign = statistics.fmean(mine) - default_test
            v = "=" if p >= 0.05 else ("higher" if sign > 0 else "LOWER")
            lines.append(
                f"| {graph} | {b} | " + " | ".join(cells) + f" | {pct(default_test)} "
                f"| {pct(s['best_val']['test_acc'])} | {v} ({100 * sign:+.2f}, p={p:.2g}) |"
            )
    lines += [
        "",
        "### Evaluations to reach the table's top 5% (validation)",
        "",
        "Median over the seeds (never reached within 100 counts as 101; share reached in "
        "brackets).",
        "",
        "| graph | " + " | ".join(main_names) + " |",
        "|" + "---|" * (len(main_names) + 1),
    ]
    for graph in graphs:
        top5 = stats(graph)["top5"]
        cells = []
        for n in main_names:
            found = [reached(graph, r["trace"], top5, 101) for r in runs[(graph, n)]]
            cells.append(
                f"{statistics.median(found):g} ({sum(x <= 100 for x in found) / len(found):.0%})"
            )
        lines.append(f"| {graph} | " + " | ".join(cells) + " |")
    lines.append("")
    if "GP" in names:
        gp_names = ["GP", *[n for n in main_names]]
        lines += [
            f"### GP + EI (Optuna's GPSampler): seeds 0-{args.gp_seeds - 1}",
            "",
            "Mean validation regret (pp) on the GP's seeds; the other strategies on the same "
            "seeds. Verdict: GP against TPE (too few seeds for much power where GP has fewer).",
            "",
            "| graph | budget | " + " | ".join(gp_names) + " | GP vs TPE |",
            "|" + "---|" * (len(gp_names) + 3),
        ]
        for graph in graphs:
            best = stats(graph)["best_val"]["val_acc"]
            for b in CHECKPOINTS:
                regrets = {
                    n: [
                        best - at(graph, r["trace"], b)["val_acc"]
                        for r in runs[(graph, n)][: args.gp_seeds]
                    ]
                    for n in gp_names
                }
                cells = [f"{100 * statistics.fmean(regrets[n]):.2f}" for n in gp_names]
                v = verdict(regrets["GP"], regrets["TPE"])
                lines.append(f"| {graph} | {b} | " + " | ".join(cells) + f" | {v} |")
        lines.append("")
    cost = []
    for n in names:
        found = [r for g in graphs for r in runs[(g, n)]]
        ms = 1000 * statistics.fmean(r["cpu"] / len(r["trace"]) for r in found)
        cost.append(f"| {n} | {ms:.2f} | {statistics.fmean(r['cpu'] for r in found):.2f} |")
    lines += [
        "### Cost of the search itself",
        "",
        "CPU of the proposer and strategy per trial (table look-ups cost microseconds), mean "
        "over all its searches:",
        "",
        "| strategy | ms per trial | CPU s per search of 100 |",
        "|---|---|---|",
        *cost,
        "",
    ]
    return lines, summary


def predictor_lines(study: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Spearman on the held-out table and trials saved by ``screen: 0.3``."""
    from tuner_zero_cost import verdict

    if not study:
        return [], []
    seeds = len(study[0]["screened"])
    notes: list[str] = []
    lines = [
        "### Performance predictor (`screen: 0.3`), leave one graph out",
        "",
        "The predictor (predictor.py: per past search, nearest neighbours over the "
        "configuration; the searches weighted by their profile distance, key statistics "
        "included, so the nearest task decides) is fitted on the three other tables (all 216 "
        "rows each, loss = minus validation accuracy, "
        "each with its graph's profile as gnn's loaders output it) and ranks the held-out "
        "table: Spearman of its predicted rank against the true validation accuracy (all 216 "
        "rows). Screened searches train only the best-ranked of every 3 proposals (every second "
        "trial takes the strategy's own proposal, unscreened); compared "
        f"with the same strategy's unscreened search on the same {seeds} seeds: median "
        "evaluations to the table's top 5% (101 = never), median evaluations to reach the cold "
        "search's final (budget-100) best validation accuracy (the cold search's own count, "
        "then the screened one's; 101 = never) and the median of the per-seed saving, mean "
        "validation regret at 20 evaluations. Verdict: screened against cold on evaluations to "
        "the top 5% (paired Wilcoxon, p < 0.05; fewer is better). *Check stopped*: share of "
        "the screened searches whose self-check (Spearman of predicted ranks against the "
        "trained trials' losses below 0.1 from the 6th result on) stopped screening, and the "
        "median result at which it first did.",
        "",
        "| held-out graph | Spearman | strategy | to top 5%: cold | screened | to cold's final: "
        "cold | screened | saved (median) | regret at 20: cold | screened | screened vs cold "
        "| check stopped |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in study:
        graph = entry["graph"]
        s = stats(graph)
        top5, best = s["top5"], s["best_val"]["val_acc"]
        cold, screened = entry["cold"], entry["screened"]
        cold_top = [reached(graph, r["trace"], top5, 101) for r in cold]
        scr_top = [reached(graph, r["trace"], top5, 101) for r in screened]
        finals = [at(graph, r["trace"], 100)["val_acc"] for r in cold]
        cold_final = [reached(graph, r["trace"], f, 101) for r, f in zip(cold, finals, strict=True)]
        scr_final = [
            reached(graph, r["trace"], f, 101) for r, f in zip(screened, finals, strict=True)
        ]
        saved = [c - x for c, x in zip(cold_final, scr_final, strict=True)]
        reg_cold = [best - at(graph, r["trace"], 20)["val_acc"] for r in cold]
        reg_scr = [best - at(graph, r["trace"], 20)["val_acc"] for r in screened]
        v = verdict([float(x) for x in scr_top], [float(x) for x in cold_top])
        rho = entry["rho"]
        stops = [r["screen_stopped"] for r in screened if r.get("screen_stopped") is not None]
        stopped = f"{len(stops) / len(screened):.0%}" + (
            f" (at {statistics.median(stops):g})" if stops else ""
        )
        lines.append(
            f"| {graph} | {rho:.2f} | {entry['strategy']} | {statistics.median(cold_top):g} "
            f"| {statistics.median(scr_top):g} | {statistics.median(cold_final):g} "
            f"| {statistics.median(scr_final):g} | {statistics.median(saved):g} "
            f"| {100 * statistics.fmean(reg_cold):.2f} | {100 * statistics.fmean(reg_scr):.2f} "
            f"| {v} | {stopped} |"
        )
        notes.append(
            f"{graph}/{entry['strategy']}: rho {rho:.2f}, saved {statistics.median(saved):g}, {v}"
        )
    return [*lines, ""], notes


def warm_against_cold(
    graph: str, cold: dict[int, list[dict]], warm: dict[int, list[dict]]
) -> dict[str, Any]:
    """Paired figures of searches that started from earlier searches (``warm``: budget ->
    searches) against cold ones on the same seeds, each budget its own search: evaluations
    to the cold search's final best (largest budget), mean regret and a verdict per budget,
    and the transferred points asked, told to TPE and held back (largest budget, means)."""
    from tuner_zero_cost import verdict

    best = stats(graph)["best_val"]["val_acc"]
    budgets = sorted(warm)
    last = budgets[-1]
    seeds = len(warm[last])
    cold_t = [r["trace"] for r in cold[last][:seeds]]
    warm_t = [r["trace"] for r in warm[last]]
    finals = [at(graph, t, last)["val_acc"] for t in cold_t]
    never = last + 1
    cold_f = [reached(graph, t, f, never) for t, f in zip(cold_t, finals, strict=True)]
    warm_f = [reached(graph, t, f, never) for t, f in zip(warm_t, finals, strict=True)]
    cells, verdicts = [], {}
    for b in budgets:
        reg = {
            which: [best - at(graph, r["trace"], b)["val_acc"] for r in found[b][:seeds]]
            for which, found in (("cold", cold), ("warm", warm))
        }
        cells += [f"{100 * statistics.fmean(reg[w]):.2f}" for w in ("cold", "warm")]
        verdicts[b] = verdict(reg["warm"], reg["cold"])
    mean = lambda field: statistics.fmean(r.get(field, 0) for r in warm[last])  # noqa: E731
    return {
        "cold_to_final": statistics.median(cold_f),
        "warm_to_final": statistics.median(warm_f),
        "saved": statistics.median(c - w for c, w in zip(cold_f, warm_f, strict=True)),
        "reached": sum(w <= last for w in warm_f) / len(warm_f),
        "cells": " | ".join(cells),
        "verdicts": verdicts,
        "verdict_cells": " | ".join(verdicts[b] for b in budgets),
        "transfer": f"{mean('asked'):.2f} / {mean('told'):.2f} / {mean('held'):.2f}",
    }


def budget_header(budgets: list[int], what: str) -> tuple[str, str]:
    """The regret and verdict column headers of the warm-start and prior tables."""
    regrets = " | ".join(f"regret at {b}: cold | {what}" for b in budgets)
    verdicts = " | ".join(f"{what} vs cold at {b}" for b in budgets)
    return regrets, verdicts


def transfer_text(budgets: list[int], what: str, seeds: int) -> str:
    """How the transferred points are used and compared (shared by both tables)."""
    last = budgets[-1]
    return (
        "They are asked after the start point (gnn.train's defaults), alternating with TPE's "
        "points while the transferred points lead (their best is the search's best), and "
        "each is told to TPE only if it beats every other result so far; a loser is held "
        "back (told only if TPE proposes that point itself) and takes one of TPE's 10 random "
        "startup slots, so TPE's model starts at the same trial as in the cold search (from "
        "v5; before, the loser pushed the cold search one trial later). Against the cold TPE "
        "search on "
        f"the same {seeds} seeds; each budget ({', '.join(map(str, budgets))}) is its own "
        f"search. *To cold's final*: median evaluations to reach the cold budget-{last} "
        f"search's best validation accuracy (cold's own count, then the {what} one's; "
        f"{last + 1} = never) and the median per-seed saving. Regret: mean validation regret "
        f"(pp). Verdicts: {what} against cold at each budget (paired Wilcoxon, p < 0.05; "
        f"`better` = lower regret). *Asked / told / held*: transferred points per budget-{last} "
        "search (means)."
    )


def warm_lines(study: list[dict[str, Any]], runs: dict) -> tuple[list[str], list[str]]:
    """The tuner's warm start against the cold TPE search on the same seeds."""
    if not study:
        return [], []
    notes: list[str] = []
    budgets = sorted(study[0]["traces"])
    seeds = len(study[0]["traces"][budgets[-1]])
    regrets, verdicts = budget_header(budgets, "warm")
    lines = [
        "### Warm start (warmstart.py), leave one graph out",
        "",
        "Summaries of earlier searches made from the other three tables (profile, 3 best "
        "configurations), looked up as tuner.search does (`warm_start_configs: 3`; profile "
        "distance at most 0.25, the default, and with no limit; rows only where a search was "
        "close enough). " + transfer_text(budgets, "warm", seeds),
        "",
        "| graph | limit | warm configs from (distance) | to cold's final: cold | warm | saved "
        f"| {regrets} | {verdicts} | asked / told / held |",
        "|" + "---|" * (7 + 3 * len(budgets)),
    ]
    for entry in study:
        graph = entry["graph"]
        f = warm_against_cold(graph, runs[(graph, DEFAULT_STRATEGY)], entry["traces"])
        sources = ", ".join(f"{s['run_id']} ({s['distance']:.2f})" for s in entry["sources"])
        lines.append(
            f"| {graph} | {entry['limit']} | {sources} | {f['cold_to_final']:g} "
            f"| {f['warm_to_final']:g} | {f['saved']:g} | {f['cells']} | {f['verdict_cells']} "
            f"| {f['transfer']} |"
        )
        notes += [f"{graph}/{entry['limit']}/{b}: {v}" for b, v in f["verdicts"].items()]
    return [*lines, ""], notes


def plot(args: argparse.Namespace, runs: dict) -> None:
    """Mean validation regret of the best so far against evaluations, one panel per graph."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graphs = args.graphs.split(",")
    fig, axes = plt.subplots(1, len(graphs), figsize=(4 * len(graphs), 3.4), squeeze=False)
    for axis, graph in zip(axes[0], graphs, strict=True):
        best = stats(graph)["best_val"]["val_acc"]
        for name in args.strategies.split(","):
            found = runs[(graph, name)]
            rows = table(graph)
            chosen = [curve(graph, r["trace"]) for r in found]
            xs = list(range(1, max(CHECKPOINTS) + 1))
            ys = [
                100
                * statistics.fmean(best - rows[c[min(b, len(c)) - 1]]["val_acc"] for c in chosen)
                for b in xs
            ]
            axis.plot(xs, ys, label=f"{name} ({len(found)} seeds)")
        axis.set_xscale("log")
        axis.set_title(graph, fontsize=9)
        axis.set_xlabel("evaluations")
        axis.set_ylabel("mean val regret (pp)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "graph_table.png", dpi=90)
    plt.close(fig)


def tuner_state() -> str:
    """The commit the searches ran on, and whether the tuner's sources differed from it."""
    import subprocess

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", *argv], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--short", "--", "plugins/tuner/src")
    return commit + (" (with uncommitted tuner changes)" if changed else "")


def search(args: argparse.Namespace) -> None:
    """Every study on the tables, then the report."""
    import torch

    torch.set_num_threads(1)
    cache = Cache(CACHE)
    started = time.process_time()
    runs = search_study(args, cache)
    predictor = predictor_study(args, cache, runs) if args.screen_seeds else []
    cold = cold_study(args, cache) if args.warm or args.prior else {}
    warm = warm_study(args, cache) if args.warm else []
    prior = prior_study(args, cache, runs) if args.prior else []
    extra = [*distance_lines(), *guard_window_lines(cache)] if args.prior else []
    if cold:
        extra = [*fresh_lines(args, cache, warm + prior, cold), *extra]
    state_path = OUT / "state.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    if cache.computed or "tuner" not in state:  # the sources the recorded searches ran on
        seen = [t for t in state.get("tuner", "").split(", ") if t]
        state["tuner"] = ", ".join(seen + [t for t in [tuner_state()] if t not in seen])
    state["cpu"] = state.get("cpu", 0.0) + time.process_time() - started
    state_path.write_text(json.dumps(state))
    write_report(args, runs, predictor, warm, prior, state, cold, extra)


def cold_study(args: argparse.Namespace, cache: Cache) -> dict[tuple, list[dict[str, Any]]]:
    """Cold TPE searches at the study budget on the current sources: the paired baseline
    of the warm-start and prior studies (the strategy study's searches may predate a
    strategy change). Keyed as ``runs``: (graph, strategy) -> traces."""
    seeds = max(args.warm_seeds, args.prior_seeds)
    out = {}
    for graph in args.graphs.split(","):
        out[(graph, DEFAULT_STRATEGY)] = study_runs(
            args, cache, f"cold-{COLD_VERSION}/{graph}", graph, seeds, per_budget=False
        )
        print(f"cold {graph}: done", flush=True)
    return out


def mean_regret(graph: str, runs: list[dict[str, Any]], budget: int) -> float:
    """Mean validation regret (pp) of ``runs``' best within ``budget`` evaluations."""
    best = stats(graph)["best_val"]["val_acc"]
    return statistics.fmean(100 * (best - at(graph, r["trace"], budget)["val_acc"]) for r in runs)


#: First seed of the fresh-seed check: past the strategy study's 40 cold seeds.
FRESH_FROM = 40


def fresh_lines(
    args: argparse.Namespace, cache: Cache, studies: list[dict[str, Any]], cold: dict
) -> list[str]:
    """Each warm-start or prior condition significantly worse than cold at some budget,
    rerun with its cold search on ``--fresh-seeds`` other seeds (from ``FRESH_FROM``). Why:
    the paired verdicts compare against the cold searches of seeds 0..n-1; when those are
    lucky (far better than cold TPE's mean on other seeds), a guided search that leaves
    their trajectory reads worse although it costs nothing. The same verdicts on fresh
    seeds tell the two apart."""
    flagged = []
    for entry in studies:
        graph = entry["graph"]
        verdicts = warm_against_cold(graph, cold[(graph, DEFAULT_STRATEGY)], entry["traces"])
        if any(v.startswith("WORSE") for v in verdicts["verdicts"].values()):
            flagged.append(entry)
    if not flagged or not args.fresh_seeds:
        return []
    seeds, last = args.fresh_seeds, FRESH_FROM + args.fresh_seeds - 1
    lines = [
        f"### Conditions worse than cold, rerun on seeds {FRESH_FROM}-{last}",
        "",
        "Every warm-start or prior condition above that is significantly worse than cold at "
        f"some budget, rerun against cold TPE on {seeds} other seeds ({FRESH_FROM}-{last}), "
        "same code, same budgets. Why: the verdicts above pair each search with the cold "
        "search of the same seed; if those cold searches are lucky, any guided search that "
        "leaves their trajectory reads worse. Mean validation regret (pp), cold's on the "
        "study's seeds and on the fresh ones, and the paired verdict on the fresh seeds.",
        "",
        "| graph | condition | budget | cold, study seeds | cold, fresh seeds | guided, fresh "
        "seeds | guided vs cold, fresh seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in flagged:
        graph = entry["graph"]
        fresh_cold = study_runs(
            args,
            cache,
            f"cold-{COLD_VERSION}/{graph}",
            graph,
            seeds,
            per_budget=False,
            first=FRESH_FROM,
        )
        fresh = study_runs(
            args, cache, entry["prefix"], graph, seeds, first=FRESH_FROM, **entry["kwargs"]
        )
        f = warm_against_cold(graph, fresh_cold, fresh)
        study_cold = cold[(graph, DEFAULT_STRATEGY)]
        for b in sorted(fresh):
            n = len(entry["traces"][b])
            means = [mean_regret(graph, r, b) for r in (study_cold[b][:n], fresh_cold[b], fresh[b])]
            lines.append(
                f"| {graph} | {entry['label']} | {b} | "
                + " | ".join(f"{m:.2f}" for m in means)
                + f" | {f['verdicts'][b]} |"
            )
        print(f"fresh seeds {graph} {entry['label']}: done", flush=True)
    return [*lines, ""]


def distance_lines() -> list[str]:
    """Profile distances between the graphs: the old mean relative difference (the
    profiles without their key statistics) and the current one (profile_distance)."""
    from autoglm_tuner.warmstart import KEY_FIELD, profile_distance

    limit = search_default("warm_start_max_distance")
    lines = [
        "### Profile distances (warmstart.profile_distance)",
        "",
        "Between the graphs' profiles as gnn's loaders output them. *Mean only*: the mean "
        "relative difference over all shared statistics (the former distance; the profiles "
        "without their `key_statistics`); *current*: the larger of that mean and the largest "
        "difference of a key statistic (gnn's profile marks edge and node homophily; absolute "
        f"difference for statistics in [0, 1]). Searches within {limit} (the "
        "`warm_start_max_distance` default) are what the warm start and the prior learn from.",
        "",
        "| pair | mean only | current | within the default limit (current) |",
        "|---|---|---|---|",
    ]
    for i, a in enumerate(GRAPHS):
        for b in GRAPHS[i + 1 :]:
            pa, pb = profile_of(a), profile_of(b)
            strip = lambda p: {k: v for k, v in p.items() if k != KEY_FIELD}  # noqa: E731
            old, new = profile_distance(strip(pa), strip(pb)), profile_distance(pa, pb)
            lines.append(
                f"| {a} - {b} | {old:.2f} | {new:.2f} | {'yes' if new <= limit else 'no'} |"
            )
    return [*lines, ""]


def guard_window_lines(cache: Cache) -> list[str]:
    """The KL guard's trigger (share of entropy lost, prior.SpacePrior.divergence) over
    windows of ``prior.WINDOW`` results of the strategy study's recorded searches: how
    collapsed healthy (random) and local (NGOpt) searches get on this grid."""
    from autoglm_tuner.prior import WINDOW, SpacePrior

    space = table_space()
    uniform = SpacePrior(
        space, {n: [1 / len(d.values)] * len(d.values) for n, d in space.items()}, []
    )
    lines = [
        "### The KL guard's trigger on this grid",
        "",
        f"Share of entropy lost (the guard's trigger, 0 = uniform, 1 = collapsed) of windows "
        f"of {WINDOW} consecutive evaluations of the strategy study's budget-100 searches (all "
        f"graphs and seeds); a window of {WINDOW} copies of one point scores 1. The default "
        f"threshold is {search_default('kl_threshold')}.",
        "",
        "| strategy | evaluations | windows | median | 90th percentile | max | above threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    threshold = search_default("kl_threshold")
    for name in ("random", DEFAULT_STRATEGY, "NGOpt"):
        for lo in (0, 20, 40, 80):
            values = []
            for graph in GRAPHS:
                rows = table(graph)
                for seed in range(40):
                    found = cache.data.get(f"search/{graph}/{name}/{seed}/100")
                    if found and len(found["trace"]) >= lo + WINDOW:
                        window = [full_point(rows[k]) for k in found["trace"][lo : lo + WINDOW]]
                        values.append(uniform.divergence(window, active)[2])
            if not values:
                continue
            values.sort()
            q90 = values[min(len(values) - 1, int(0.9 * len(values)))]
            above = sum(v > threshold for v in values) / len(values)
            lines.append(
                f"| {name} | {lo + 1}-{lo + WINDOW} | {len(values)} | "
                f"{statistics.median(values):.2f} | {q90:.2f} | {values[-1]:.2f} | {above:.0%} |"
            )
    return [*lines, ""]


def prior_study(args: argparse.Namespace, cache: Cache, runs: dict) -> list[dict[str, Any]]:
    """Leave one graph out: a space prior (prior.build_prior) from the other tables' best
    30% of rows, each source weighted by its profile distance, guiding TPE as tuner.search
    does (seeds first, a share of prior samples, the KL guard); against cold TPE on the same
    seeds. Misleading priors: the other tables' *worst* 30% (with and without the KL guard),
    and on the heterophilous graphs a prior from the homophilous ones only."""
    from autoglm_tuner.prior import PriorSource, build_prior
    from autoglm_tuner.warmstart import profile_distance

    graphs = args.graphs.split(",")
    homophilous = [g for g in graphs if profile_of(g)["edge_homophily"] >= 0.5]
    out = []
    for graph in graphs:
        profile = profile_of(graph)

        def sources(names: list[str], graph: str = graph, profile: dict = profile) -> list:
            return [
                PriorSource(
                    [(full_point(r), -r["val_acc"]) for r in table(other).values()],
                    round(profile_distance(profile, profile_of(other)), 4),
                    other,
                )
                for other in names
                if other != graph
            ]

        others = [g for g in graphs if g != graph]
        threshold = search_default("kl_threshold")
        near = [
            g
            for g in others
            if profile_distance(profile, profile_of(g)) <= search_default("warm_start_max_distance")
        ]
        share = search_default("prior_share")
        conditions = [
            ("others' best 30%", others, False, threshold, 1.0, share),
            (
                f"others' best 30%, prior share {SAMPLES_SHARE}",
                others,
                False,
                threshold,
                1.0,
                SAMPLES_SHARE,
            ),
            ("others' worst 30%", others, True, threshold, 1.0, share),
        ]
        if near:
            names = ", ".join(near)
            conditions.append((f"tuner lookup: {names}", near, False, threshold, 0.25, share))
        if graph not in homophilous:
            names = ", ".join(homophilous)
            conditions.append((f"homophilous {names}", homophilous, False, threshold, 1.0, share))
        for label, names, worst, guard, limit, share_of in conditions:
            prior = build_prior(
                sources(names), table_space(), max_distance=limit, active=active, worst=worst
            )
            traces = study_runs(
                args,
                cache,
                f"prior-{PRIOR_VERSION}/{graph}/{label}",
                graph,
                args.prior_seeds,
                prior=prior,
                kl_threshold=guard,
                share=share_of,
            )
            fired = [e for r in traces[args.study_budget] for e in r.get("events", [])]
            out.append(
                {
                    "graph": graph,
                    "label": label,
                    "prefix": f"prior-{PRIOR_VERSION}/{graph}/{label}",
                    "kwargs": {"prior": prior, "kl_threshold": guard, "share": share_of},
                    "sources": prior.sources,
                    "traces": traces,
                    "events": fired,
                }
            )
            print(f"prior {graph} {label}: done", flush=True)
    return out


def prior_lines(study: list[dict[str, Any]], runs: dict) -> tuple[list[str], list[str]]:
    """Prior-guided against cold TPE: trials to the cold search's final score, verdicts."""
    if not study:
        return [], []
    budgets = sorted(study[0]["traces"])
    seeds = len(study[0]["traces"][budgets[-1]])
    notes: list[str] = []
    regrets, verdicts = budget_header(budgets, "guided")
    lines = [
        "### Space prior and KL guard (prior.py), leave one graph out",
        "",
        "The prior is built with `prior.build_prior` from the other tables (each table one "
        "past search with all its rows; the best 30%, or the worst 30% for a misleading "
        "prior), each source weighted by its profile distance; *others* use `max_distance` 1 "
        "(every other table counts), *tuner lookup* the search's default 0.25 (rows only "
        "where a graph is that close). It guides TPE as tuner.search does with its defaults: "
        f"seeds {search_default('prior_seeds'):.0%} of the budget (at least 1), prior share "
        f"{search_default('prior_share')} (or {SAMPLES_SHARE} where the row says so: prior "
        "samples besides the seeds, gated like them, their share decaying with the evidence), "
        f"KL guard when the last 20 results lost {search_default('kl_threshold')} of their "
        f"entropy after {search_default('kl_patience')} results without improvement. "
        + transfer_text(budgets, "guided", seeds)
        + " Guard: KL guard firings per search (mean). Cache keys "
        f"`cold-{COLD_VERSION}`, `prior-{PRIOR_VERSION}`.",
        "",
        "| graph | prior | to cold's final: cold | guided | saved "
        f"| {regrets} | {verdicts} | asked / told / held | guard |",
        "|" + "---|" * (7 + 3 * len(budgets)),
    ]
    for entry in study:
        graph = entry["graph"]
        f = warm_against_cold(graph, runs[(graph, DEFAULT_STRATEGY)], entry["traces"])
        guard = statistics.fmean(r.get("guard", 0) for r in entry["traces"][budgets[-1]])
        lines.append(
            f"| {graph} | {entry['label']} | {f['cold_to_final']:g} | {f['warm_to_final']:g} "
            f"| {f['saved']:g} | {f['cells']} | {f['verdict_cells']} | {f['transfer']} "
            f"| {guard:.2f} |"
        )
        notes += [f"{graph}/{entry['label']}/{b}: {v}" for b, v in f["verdicts"].items()]
    return [*lines, ""], notes


def write_report(
    args: argparse.Namespace,
    runs: dict,
    predictor: list[dict[str, Any]],
    warm: list[dict[str, Any]],
    prior: list[dict[str, Any]],
    state: dict[str, Any],
    cold: dict[tuple, list[dict[str, Any]]] | None = None,
    extra: list[str] | None = None,
) -> None:
    import platform

    graphs = args.graphs.split(",")
    build_cpu = sum(stats(g)["cpu"] for g in graphs)
    search_part, summary = search_lines(args, runs)
    predictor_part, _ = predictor_lines(predictor)
    warm_part, warm_notes = warm_lines(warm, cold or runs)
    prior_part, prior_notes = prior_lines(prior, cold or runs)
    worse = [n for n in warm_notes + prior_notes if "WORSE" in n]
    prior_part += extra or []
    grid = ", ".join(f"{name} {list(values)}" for name, values in GRID.items())
    lines = [
        "## Tuner on tabulated graph benchmarks (`bench/graph_table.py`)",
        "",
        "Issue 12's measurements on real graph training at zero search cost, in the manner of "
        "NAS-Bench-Graph: every configuration of a discrete grid over gnn.train's own search "
        "space (configs/autognn-*.yaml) was trained once, for real, on four graphs, and the "
        "tuner's strategies, predictor, warm start and space prior then searched those "
        "tables (the objective is a look-up of the row's validation accuracy) over many "
        "paired seeds.",
        "",
        f"* **Grid** ({len(grid_points())} distinct configurations per graph): {grid}. "
        "`dropout` sets both dropout and input dropout; `k` (propagation steps, GCNII's "
        "depth) is read only by APPNP, GPR-GNN and GCNII, so GCN, GraphSAGE and MLP have 24 "
        "rows each and the others 48. Every other field at gnn.train's default (alpha 0.1, "
        "2 layers). The grid holds gnn.train's defaults (GCN, hidden 64, dropouts 0.5, lr "
        "0.01, weight decay 5e-4, k 10), so the untuned defaults are rows of every table.",
        f"* **Training**: one seed ({SEED}) per row, at most {MAX_EPOCHS} epochs (the tuner's "
        f"lowest fidelity in the workflows) with gnn.train's early stopping after {PATIENCE} "
        "epochs without a better validation accuracy, the epoch with the best validation "
        "accuracy kept; test accuracy of that model only. One torch thread. The defaults here "
        "are therefore the 100-epoch ones, not gnn.train's 200 (bench/results/gnn_defaults.md).",
        "* **Graphs**: Cora (public split), Actor (Geom-GCN split 0 of 10, 60/20/20), and two "
        f"gnn.synthetic CSBM graphs ({CSBM_NODES:,} nodes, 4 classes, 32 features, signal "
        "1.0, seed 0; 20 training nodes per class, 30% validation, the rest test) at edge "
        "homophily 0.8 and 0.2. Tables: `bench/results/gnn_table/<graph>.csv` (one row per "
        "configuration: val/test accuracy, validation loss, best epoch, epochs run, CPU s).",
        f"* **Machine**: {platform.machine()}, Python {sys.version.split()[0]}, 2 CPU cores "
        "shared with other engineers' jobs; one process at a time. Costs are CPU (process) "
        f"seconds, not wall time: building the four tables took {build_cpu:.0f} CPU s "
        f"({build_cpu / 60:.1f} CPU-min); the searches, predictor, warm-start and prior "
        f"studies {state.get('cpu', 0.0):.0f} CPU s. The searches ran on the tuner sources of "
        f"commit {state.get('tuner', '?')}.",
        "",
        "Commands:",
        "",
        "```",
        "nohup .venv/bin/python bench/graph_table.py build "
        "> bench/out/graph_table/build.log 2>&1 &",
        f"nohup .venv/bin/python bench/graph_table.py search --seeds {args.seeds} "
        f"--ngopt-seeds {args.ngopt_seeds} --gp-seeds {args.gp_seeds} "
        f"--screen-seeds {args.screen_seeds} --warm-seeds {args.warm_seeds} "
        f"--study-budget {args.study_budget} --fresh-seeds {args.fresh_seeds}"
        + (f" --prior-seeds {args.prior_seeds} " if args.prior else " --no-prior ")
        + "> bench/out/graph_table/search.log 2>&1 &",
        "```",
        "",
        *table_lines(args),
        *search_part,
        *predictor_part,
        *warm_part,
        *prior_part,
        "### Verdict",
        "",
        f"* `{DEFAULT_STRATEGY}` (the default) significantly worse than another strategy on "
        f"validation regret: {', '.join(summary['worse']) or 'never'} "
        f"({summary['checked']} paired comparisons); significantly better: "
        f"{', '.join(summary['better']) or 'never'}.",
        "* Warm start and space prior significantly worse than cold at some budget: "
        + (", ".join(worse) if worse else "never")
        + f" ({len(warm_notes) + len(prior_notes)} paired comparisons).",
        *args.verdict,
        "",
        "![mean validation regret of the best so far](graph_table.png)",
        "",
    ]
    (RESULTS / "graph_table.md").write_text("\n".join(lines))
    plot(args, runs)
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train the grid on every graph (resumable)")
    b.add_argument("--graphs", default=",".join(GRAPHS))
    s = sub.add_parser("search", help="strategies, predictor, warm start on the tables")
    s.add_argument("--graphs", default=",".join(GRAPHS))
    s.add_argument("--strategies", default=",".join(STRATEGIES))
    s.add_argument("--seeds", type=int, default=40)
    s.add_argument("--gp-seeds", type=int, default=3, help="GP + EI: ~10 CPU s per search")
    s.add_argument("--screen-seeds", type=int, default=40, help="0: no predictor study")
    s.add_argument("--screen-strategies", default="random")
    s.add_argument("--no-warm", dest="warm", action="store_false")
    s.add_argument("--no-prior", dest="prior", action="store_false", help="skip prior.py's")
    s.add_argument("--prior-seeds", type=int, default=20)
    s.add_argument("--warm-seeds", type=int, default=20)
    s.add_argument("--ngopt-seeds", type=int, default=10)
    s.add_argument("--study-budget", type=int, default=50, help="warm start and prior")
    s.add_argument(
        "--fresh-seeds", type=int, default=40, help="rerun conditions worse than cold (0: no)"
    )
    s.add_argument("--verdict", action="append", default=[], help="a verdict line to add")
    args = parser.parse_args()
    if args.command == "build":
        build(args)
    else:
        search(args)


if __name__ == "__main__":
    main()
