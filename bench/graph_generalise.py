"""Graph search beyond Cora (issue 17), resumable across sessions: the search as the workflows
run it, random search and Optuna's multivariate TPE at equal budget, the final selection with
the untuned defaults (gnn.select's rule), and the best untuned default by validation, on Cora,
Actor (10 splits) and CSBM graphs at several homophily levels.

The whole benchmark costs many CPU-hours on 2 shared cores, more than one session has, so it
is cut into *units*, each kept in its own JSON file under the units folder and never
recomputed. The units are small (configurations, accuracies, per-node validation results) and
are committed (default bench/results/graph_generalise_units/), so a fresh clone resumes where the
last session stopped; the search journals and graph files stay in the work directory
(default bench/out/graph_generalise/):

* ``<graph>/calibrate.json``: a short random search that prices one trial, from which the
  search budget (trials) is set so that a search costs about ``--search-cpu-minutes`` (the
  tuner has no CPU budget, only a trial count);
* ``<graph>/val/<config>.json``: one configuration's validation accuracies (seeds 50..,
  the first ``--select-splits`` splits): shared by every selection that has it as candidate;
* ``<graph>/test/<config>.json``: one configuration's test accuracies (seeds 100.., every
  split);
* ``<graph>/defaults.json``: the best untuned default by validation (GCN, APPNP, MLP, GCNII);
* ``<graph>/search/<method>-s<seed>-b<budget>-<hash>.json``: one finished search;
* ``<graph>/select/<same name>.json``: its final selection (finalists + defaults);
* ``partial/<run id>.json.gz``: the journal of a search that ``--stop-at`` or SIGTERM cut
  off, removed when the search finishes (``search_carry``).

A search interrupted mid-way resumes from its SQLite journal (``<work>/home/runs.sqlite``,
same run id), or, in a fresh clone, from its carried journal: the tuner replays the recorded
trials and trains only the rest. ``--stop-at`` (UTC) and
``--max-cpu-minutes`` stop a run cleanly: between units, and ``--stop-at`` also mid-search
(the search's workers are closed; the journal keeps every finished trial). The report
(bench/results/graph_generalise.md) is written from whatever units are finished;
``--report-only`` writes it without training anything.

Usage (2 shared cores: one heavy process, one torch thread):
    nohup nice -n 15 .venv/bin/python bench/graph_generalise.py --graphs actor,cora,csbm \\
        --stop-at 20:35 > bench/out/gg_run.log 2>&1 &
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from graph_search import FIDELITY  # noqa: E402  (the workflows' fidelity schedule)
from graph_sets import (  # noqa: E402
    build,
    defaults_tag,
    graph_names,
    select_folder,
    short_hash,
)

WORK = REPO / "bench" / "out" / "graph_generalise"
UNITS = REPO / "bench" / "results" / "graph_generalise_units"
RESULTS = REPO / "bench" / "results" / "graph_generalise.md"

#: The space used beyond Cora (configs/autognn-*.yaml, docs/gnn.md): the Cora space's
#: homophilous models (GCN, GraphSAGE, APPNP) plus what heterophily needs (GPR-GNN's learnt
#: propagation weights, GCNII's initial residual, the MLP that ignores edges, jumping
#: knowledge for the stacks), and a teleport range up to 0.9 (on Actor the node's own
#: features should weigh most). GAT is left out: 3-6x the cost of a GCN trial and never ahead
#: of GCN/APPNP on these graphs at the defaults (bench/results/gnn_models.md).
SPACE: dict[str, Any] = {
    "layer": {"choice": ["gcn", "sage", "appnp", "gprgnn", "gcnii", "mlp"]},
    "hidden": {"choice": [32, 64, 128, 256], "ordered": True},
    "input_dropout": {"float": [0.0, 0.9]},
    "dropout": {"float": [0.0, 0.8]},
    "lr": {"float": [1e-3, 5e-2], "log": True},
    "weight_decay": {"float": [1e-5, 1e-2], "log": True},
    "k": {"choice": [2, 4, 8, 10, 16], "ordered": True},
    "alpha": {"float": [0.05, 0.9]},
    "jk": {"choice": ["none", "cat", "max"]},
}
#: Optuna's plain multivariate TPE (whole history), registered under this name in the process
#: that runs the searches. The tuner's own ``TPE`` bounds its history past 100 trials
#: (autoglm_tuner/tpe.py), and this benchmark's budgets are several hundred trials, so the
#: baseline is Optuna's sampler itself, as its users run it.
PLAIN_TPE = "optuna-TPE"

#: Methods. ``default`` is the search as configs/autognn-*.yaml run it: the tuner's default
#: optimiser (TPE: Optuna's points, whole history up to 2,000 trials) per layer type with the
#: star design. The baselines run as their users run them, from their own first point.
METHODS: dict[str, dict[str, Any]] = {
    "default": {"optimizer": "TPE", "per_choice": "layer", "initial_design": "star"},
    "random": {"optimizer": "random", "initial_design": "none"},
    "TPE": {"optimizer": PLAIN_TPE, "initial_design": "none"},
}
#: The calibration search: random sampling prices the space evenly.
CALIBRATION_SEED = 1000


class Stop(BaseException):
    """A guard (--stop-at, --max-cpu-minutes, SIGTERM) says stop. A BaseException, so that no
    ``except Exception`` inside a search records it as a failed trial and carries on."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--graphs", default="actor,cora,csbm", help="cora, actor, csbm(-H), in run order")
    add("--methods", default=",".join(METHODS))
    add("--seeds", type=int, default=3, help="search seeds (0..n-1)")
    add("--search-cpu-minutes", type=float, default=20.0, help="the budget a search is sized to")
    add("--budget", default="auto", help="trials per search: 'auto' (calibrated) or a number")
    add("--calibration-trials", type=int, default=24)
    add("--retrains", type=int, default=5, help="test seeds (single graphs)")
    add("--split-retrains", type=int, default=1, help="test seeds per split (Actor)")
    add("--select-top", type=int, default=5, help="finalists to gnn.select")
    add("--select-seeds", type=int, default=3)
    add("--select-splits", type=int, default=3, help="splits scored (Actor)")
    add(
        "--select-resplits",
        type=int,
        default=3,
        help="single-split graphs: judge the selection on this many re-drawn splits of the "
        "labelled nodes (gnn.select's resplits, as configs/autognn-cora.yaml; 0: the graph's "
        "own split)",
    )
    add("--final-top-k", type=int, default=5)
    add("--final-seeds", type=int, default=2)
    add(
        "--final-ensemble",
        type=int,
        default=5,
        help="the workflows' final model: gnn.evaluate's ensemble (1: single models only)",
    )
    add("--workers", type=int, default=1, help="trial workers (1: one heavy process)")
    add("--trial-timeout", type=float, default=1800.0, help="wall s (a loaded, niced CPU)")
    add("--data-dir", default=os.environ.get("AUTOGLM_DATA_DIR"))
    add("--work-dir", default=str(WORK), help="search journals and graph files (resumable)")
    add("--units-dir", default=str(UNITS), help="finished units (committed)")
    add("--out", default=str(RESULTS))
    add("--max-cpu-minutes", type=float, default=None, help="stop between units past this")
    add("--stop-at", default=None, help="HH:MM UTC: stop cleanly (mid-search too)")
    add("--report-only", action="store_true", help="write the report from finished units")
    return parser.parse_known_args(argv)[0]


# ------------------------------------------------------------------------------ the units


class Store:
    """One JSON file per finished unit. Written atomically (temporary file, then rename), so
    a run killed mid-write leaves either the whole unit or nothing."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> Any | None:
        path = self.path(key)
        return json.loads(path.read_text())["value"] if path.is_file() else None

    def put(self, key: str, value: Any, cpu: float) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "value": value, "cpu": cpu, "finished": now_utc().isoformat()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, separators=(",", ":")) + "\n")
        os.replace(tmp, path)

    def glob(self, pattern: str) -> list[Any]:
        return [json.loads(p.read_text())["value"] for p in sorted(self.root.glob(pattern))]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def config_key(config: dict[str, Any]) -> dict[str, Any]:
    """What decides a training run's result apart from its seed: the full gnn.train config
    without the fields its layer ignores (so equal models share a val/test unit)."""
    from autoglm_gnn.config import TrainConfig, ignored_fields

    cfg = TrainConfig.model_validate(config).model_dump()
    skip = ignored_fields(cfg["layer"]) | {"seed", "report_test", "save_checkpoint", "threads"}
    if cfg["ensemble"] == 1:
        skip.add("ensemble")  # single models keep the unit names they had before the field
    return {k: v for k, v in cfg.items() if k not in skip}


def run_key(config: dict[str, Any], files: int, seeds: list[int]) -> str:
    """A val or test unit's name: the model, how many graph files, which seeds."""
    return short_hash([config_key(config), files, seeds])


def ensembled(config: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """``config`` as the workflows' final model: --final-ensemble members."""
    return {**config, "ensemble": args.final_ensemble}


def resplits_of(graph: str, args: argparse.Namespace) -> int:
    """How many re-drawn splits judge ``graph``'s selections (0: its own splits): only a
    single-split graph is re-split; Actor's selection already reads 3 of its splits."""
    return args.select_resplits if split_count(graph) == 1 else 0


def resplit_suffix(count: int) -> str:
    """Appended to the folders of units judged on ``count`` re-drawn splits ("" for none)."""
    return f"-resplit{count}" if count else ""


def split_count(graph: str) -> int:
    """Graph files of ``graph`` (Actor: one per split), without building them."""
    from graph_sets import ACTOR_SPLITS

    return ACTOR_SPLITS if graph == "actor" else 1


def test_seeds(args: argparse.Namespace, files: int) -> list[int]:
    """Fresh test seeds 100..: --split-retrains per split on multi-split graphs, else
    --retrains."""
    return list(range(100, 100 + (args.split_retrains if files > 1 else args.retrains)))


def cpu_spent() -> float:
    """CPU seconds of this process and its finished children (the search workers, once a
    search has closed its pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Backend:
    """The real work: tuner searches (graph_search.Bench) and gnn.train runs. The tests swap
    in a fake with the same three methods."""

    def __init__(self, args: argparse.Namespace, home: Path) -> None:
        self.args = args
        self.home = home
        from autoglm_tuner.strategies import OptunaStrategy, register_strategy

        register_strategy(
            PLAIN_TPE,
            lambda space, budget, workers, seed: OptunaStrategy(
                "TPE", space, seed=seed, history=None
            ),
        )

    def search(self, graph: str, run_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """One tuner.search, resumed from its journal when ``run_id`` ran before: in this work
        folder, or in another clone that was stopped mid-search (``search_carry``)."""
        import graph_search
        from search_carry import SearchCarry

        from autoglm.store import RunStore

        carry = SearchCarry(
            Path(self.args.units_dir) / "partial", RunStore(self.home / "runs.sqlite")
        )
        if restored := carry.restore(run_id):
            print(f"[{run_id}] resumed from {restored} carried journal entries", flush=True)
        try:
            run = graph_search.Bench(self.args, self.home, graph).search(run_id, config)
        except Stop:
            kept = carry.save(run_id)
            print(f"[{run_id}] stopped: {kept} journal entries carried", flush=True)
            raise
        carry.drop(run_id)
        out = run["out"]
        journal = [
            {k: r.get(k) for k in ("trial", "rung", "status", "score", "cpu_seconds")}
            for r in run["journal"]
        ]
        keep = ("best_config", "best_score", "final_ranking", "trials", "failed_trials")
        return {
            **{k: out[k] for k in keep},
            "evaluations": out.get("evaluations"),
            "strategy": out.get("strategy"),
            "stop_reason": out.get("stop_reason"),
            "cpu": run["cpu"],
            "final_cpu": sum(r.get("cpu_seconds") or 0.0 for r in run["final"]),
            "journal": journal,
        }

    def val(self, files: list[str], config: dict[str, Any], seeds: list[int]) -> list[float]:
        """Validation accuracy on every file and seed, graph-major (gnn.select's order)."""
        from autoglm_gnn.trainer import train_config

        return [
            train_config(path, {**config, "seed": s, "report_test": False}).val_acc
            for path in files
            for s in seeds
        ]

    def val_nodes(self, files: list[str], config: dict[str, Any], seeds: list[int]) -> list[str]:
        """Per run (graph-major, as ``val``), "1"/"0" per validation node: gnn.select's guard
        compares candidates node by node."""
        from autoglm_gnn.trainer import train_config

        return [
            train_config(path, {**config, "seed": s, "report_test": False}).val_correct
            for path in files
            for s in seeds
        ]

    def test(self, files: list[str], config: dict[str, Any], seeds: list[int]) -> list[float]:
        """Test accuracy of ``config`` retrained on every file with every seed."""
        from autoglm_gnn.trainer import train_config

        return [
            train_config(path, {**config, "seed": s, "report_test": True}).test_acc
            for path in files
            for s in seeds
        ]


class Runner:
    """Runs the units of one benchmark in order, skipping those already on disk, and stops
    between units when a guard says so."""

    def __init__(
        self,
        args: argparse.Namespace,
        store: Store,
        backend: Any,
        files_of: Callable[[str], list[str]],
        log: Callable[[str], None] = print,
    ) -> None:
        self.args = args
        self.store = store
        self.backend = backend
        self.files_of = files_of
        self.log = log
        self.cpu_at_start = cpu_spent()
        self.computed: list[str] = []
        self._selection_files: dict[tuple[str, bool], list[str]] = {}

    # ------------------------------------------------------------------ guards and units

    def check(self) -> None:
        """Raise Stop when past --stop-at or --max-cpu-minutes (checked between units)."""
        limit = self.args.max_cpu_minutes
        spent = cpu_spent() - self.cpu_at_start
        if limit is not None and spent >= 60 * limit:
            raise Stop(f"{spent / 60:.1f} CPU-min spent (limit {limit:g})")
        deadline = stop_time(self.args.stop_at)
        if deadline is not None and now_utc() >= deadline:
            raise Stop(f"past --stop-at {self.args.stop_at} UTC")

    def unit(
        self, key: str, compute: Callable[[], Any], cpu_of: Callable[[Any], float] | None = None
    ):
        """The unit's value: read from disk, or computed (guards first) and written."""
        value = self.store.get(key)
        if value is not None:
            return value
        self.check()
        started = time.process_time()
        value = compute()
        cpu = cpu_of(value) if cpu_of else time.process_time() - started
        self.store.put(key, value, cpu)
        self.computed.append(key)
        self.log(f"[unit] {key} done, {cpu / 60:.2f} CPU-min")
        return value

    # ---------------------------------------------------------------------- the pieces

    def budget(self, graph: str) -> int:
        """Trials per search on ``graph``: --budget, or priced by the calibration search."""
        if self.args.budget != "auto":
            return int(self.args.budget)
        files = self.files_of(graph)
        settings = {
            "optimizer": "random",
            "initial_design": "none",
            "budget": self.args.calibration_trials,
            "seed": CALIBRATION_SEED,
            "space": SPACE,
            "fidelity": FIDELITY,
            "final_top_k": 0,
        }
        run_id = f"{graph}-calibrate-{short_hash(settings)}"
        found = self.unit(
            f"{graph}/calibrate",
            lambda: self.backend.search(files[0], run_id, settings),
            cpu_of=lambda v: v["cpu"],
        )
        return calibrated_budget(found, self.args)

    def resplits(self, graph: str, own_split: bool = False) -> int:
        """Re-drawn splits a selection of ``graph`` is judged on (0: its own splits; always
        0 for the bar, the best default by the graph's own validation)."""
        return 0 if own_split else resplits_of(graph, self.args)

    def selection_files(self, graph: str, own_split: bool = False) -> list[str]:
        """The graph files the selection scores: the first --select-splits splits, or the
        re-drawn splits of a single-split graph (written beside its graph file)."""
        key = (graph, own_split)
        if key in self._selection_files:  # resplit_files hashes the graph file: once per run
            return self._selection_files[key]
        files = self.files_of(graph)
        count = self.resplits(graph, own_split)
        if count:
            from autoglm_gnn.graphs import resplit_files

            chosen = resplit_files(files[0], count, Path(files[0]).parent / "resplits")
        else:
            chosen = files[: self.args.select_splits]
        self._selection_files[key] = chosen
        return chosen

    def selection_runs(
        self, graph: str, config: dict[str, Any], kind: str, own_split: bool = False
    ) -> list[Any]:
        """A unit over the selection's splits and seeds (50..): ``kind`` "val" holds the
        validation accuracies, "valn" the per-node results ("1"/"0" strings) of the same
        runs."""
        files = self.selection_files(graph, own_split)
        seeds = list(range(50, 50 + self.args.select_seeds))
        field, compute = {
            "val": ("val_accs", self.backend.val),
            "valn": ("correct", self.backend.val_nodes),
        }[kind]
        return self.unit(
            f"{graph}/{kind}{resplit_suffix(self.resplits(graph, own_split))}/"
            f"{run_key(config, len(files), seeds)}",
            lambda: {"config": config, field: compute(files, config, seeds)},
        )[field]

    def val(self, graph: str, config: dict[str, Any], own_split: bool = False) -> list[float]:
        return self.selection_runs(graph, config, "val", own_split)

    def val_nodes(self, graph: str, config: dict[str, Any], own_split: bool = False) -> list[str]:
        return self.selection_runs(graph, config, "valn", own_split)

    def test(self, graph: str, config: dict[str, Any]) -> list[float]:
        files = self.files_of(graph)
        seeds = test_seeds(self.args, len(files))
        key = run_key(config, len(files), seeds)
        return self.unit(
            f"{graph}/test/{key}",
            lambda: {"config": config, "test_accs": self.backend.test(files, config, seeds)},
        )["test_accs"]

    def choose(
        self,
        graph: str,
        candidates: list[dict[str, Any]],
        defaults: int,
        own_split: bool = False,
        first_seeds: int | None = None,
    ) -> dict:
        """gnn.select's rule over recorded val units: rank by mean validation (ties to the
        earlier candidate: the defaults lead), then its guard: a search candidate ranked above
        the best default replaces it only with a significant lead node by node. Per-node
        results are trained only for the rows the guard reads (in rank order, until one
        passes), so old selections re-judge cheaply. ``first_seeds`` judges with only the
        first that many recorded seeds of each split (a cheaper selection, from the same
        units)."""
        from autoglm_gnn.selection import guarded_choice, seed_fractions, select

        files = self.selection_files(graph, own_split)
        seeds = list(range(50, 50 + self.args.select_seeds))
        used = seeds[:first_seeds] if first_seeds else seeds
        done = {}
        for index, config in enumerate(candidates):
            for position, score in enumerate(self.val(graph, config, own_split)):
                done[(index, position // len(seeds), seeds[position % len(seeds)])] = (score, "")
        ranking = select(files, candidates, used, done=done)

        def with_nodes(row: dict[str, Any]) -> dict[str, Any]:
            correct = self.val_nodes(graph, row["config"], own_split)
            per_graph = [correct[i : i + len(used)] for i in range(0, len(correct), len(seeds))]
            return {**row, "node_scores": [x for runs in per_graph for x in seed_fractions(runs)]}

        best = ranking[0]
        incumbent = next((r for r in ranking if r["index"] < defaults), None)
        if incumbent is not None and best is not incumbent:
            judged = with_nodes(incumbent)
            best = incumbent
            for row in ranking[: ranking.index(incumbent)]:
                if guarded_choice([with_nodes(row), judged], defaults)["index"] == row["index"]:
                    best = row
                    break
        return {
            "config": best["config"],
            "val": best["val_mean"],
            "index": best["index"],
            "chose_default": best["index"] < defaults,
            "unguarded": {"config": ranking[0]["config"], "val": ranking[0]["val_mean"]},
            "candidates": [
                {"index": r["index"], "config": r["config"], "val": r["val_mean"]} for r in ranking
            ],
        }

    def defaults(self, graph: str) -> dict[str, Any]:
        """The bar: the best untuned default by validation, and its test accuracy."""
        from autoglm_gnn.selection import default_candidates, distinct

        def compute():
            candidates = distinct(default_candidates())
            picked = self.choose(graph, candidates, len(candidates), own_split=True)
            return {**picked, "test_accs": self.test(graph, picked["config"])}

        return self.unit(f"{graph}/defaults-{defaults_tag()}", compute, cpu_of=lambda v: 0.0)

    def search(self, graph: str, method: str, seed: int, budget: int) -> dict[str, Any]:
        """One search of ``method``; then its selection and the tests of both picks."""
        from autoglm_gnn.selection import search_candidates

        settings = {
            "budget": budget,
            **METHODS[method],
            "seed": seed,
            "space": SPACE,
            "fidelity": FIDELITY,
            "final_top_k": self.args.final_top_k,
            "final_seeds": self.args.final_seeds,
            "workers": self.args.workers,
        }
        name = f"{method}-s{seed}-b{budget}-{short_hash(settings)}"
        files = self.files_of(graph)
        found = self.unit(
            f"{graph}/search/{name}",
            lambda: {
                "method": method,
                "seed": seed,
                "budget": budget,
                "settings": settings,
                **self.backend.search(files[0], f"{graph}-{name}", settings),
            },
            cpu_of=lambda v: v["cpu"],
        )
        search_test = self.test(graph, found["best_config"])

        def selection():
            candidates, defaults = search_candidates(
                found["best_config"], found["final_ranking"], self.args.select_top
            )
            picked = self.choose(graph, candidates, defaults)
            return {"method": method, "seed": seed, "budget": budget, **picked}

        folder = select_folder() + resplit_suffix(self.resplits(graph))
        picked = self.unit(f"{graph}/{folder}/{name}", selection, cpu_of=lambda v: 0.0)
        select_test = self.test(graph, picked["config"])
        unguarded_test = self.test(graph, picked["unguarded"]["config"])
        return {
            "search": found,
            "search_test": search_test,
            "select": picked,
            "test": select_test,
            "unguarded_test": unguarded_test,
            "ensemble_test": self.ensemble_test(graph, picked["config"]),
        }

    def ensemble_test(self, graph: str, config: dict[str, Any]) -> list[float] | None:
        """Test accuracy of ``config`` as the workflows' final model: a seed ensemble of
        --final-ensemble members per retrain (None when that is 1)."""
        if self.args.final_ensemble <= 1:
            return None
        return self.test(graph, ensembled(config, self.args))

    def run(self, graphs: list[str], methods: list[str]) -> None:
        """Graph by graph in the order given: the defaults, then seed by seed every method
        (so paired comparisons fill in evenly)."""
        for graph in graphs:
            bar = self.defaults(graph)
            self.ensemble_test(graph, bar["config"])
            budget = self.budget(graph)
            self.log(f"[{graph}] budget {budget} trials per search")
            for seed in range(self.args.seeds):
                for method in methods:
                    self.search(graph, method, seed, budget)


def calibrated_budget(calibration: dict[str, Any], args: argparse.Namespace) -> int:
    """Trials that cost about --search-cpu-minutes: the calibration's CPU per trial
    (promotions included), after the final stage's full-fidelity retrains; a multiple of 10."""
    journal = calibration["journal"]
    top = max(r["rung"] for r in journal)
    full = [r["cpu_seconds"] or 0.0 for r in journal if r["rung"] == top and r["status"] == "ok"]
    per_full = statistics.fmean(full) if full else 0.0
    per_trial = calibration["cpu"] / max(1, calibration["trials"])
    target = 60 * args.search_cpu_minutes - args.final_top_k * args.final_seeds * per_full
    return int(min(10_000, max(20, 10 * round(target / per_trial / 10))))


def stop_time(spec: str | None) -> dt.datetime | None:
    """--stop-at HH:MM (UTC) as today's datetime (tomorrow's if already past by hours)."""
    if not spec:
        return None
    hour, minute = (int(x) for x in spec.split(":"))
    now = now_utc()
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now - dt.timedelta(hours=12) else at + dt.timedelta(days=1)


# ------------------------------------------------------------------------------ the report


def pct(values: list[float]) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.fmean(values):.2f} ± {100 * statistics.pstdev(values):.2f}"


def describe(config: dict[str, Any]) -> str:
    """The searched fields that the selected layer type reads, short."""
    from autoglm_gnn.config import effective_config

    used = effective_config(config)
    keys = [k for k in SPACE if k in config and k in used]
    return ", ".join(
        f"{k}={config[k]:.3g}" if isinstance(config[k], float) else f"{k}={config[k]}" for k in keys
    )


def collect(store: Store, graph: str, args: argparse.Namespace) -> dict[str, Any]:
    """Finished units of one graph: the defaults' bar and, per method, the seeds whose search,
    selection and tests are all on disk."""
    bar = store.get(f"{graph}/defaults-{defaults_tag()}")
    files = split_count(graph)

    def tested(config: dict[str, Any]) -> list[float] | None:
        found = store.get(f"{graph}/test/{run_key(config, files, test_seeds(args, files))}")
        return found["test_accs"] if found else None

    methods: dict[str, list[dict[str, Any]]] = {}
    folder = select_folder() + resplit_suffix(resplits_of(graph, args))
    made = store.glob(f"{graph}/{folder}/*.json")
    selections = {(s["method"], s["seed"], s["budget"]): s for s in made}
    for found in store.glob(f"{graph}/search/*.json"):
        picked = selections.get((found["method"], found["seed"], found["budget"]))
        row = {"search": found, "search_test": tested(found["best_config"])}
        if picked is not None:
            row |= {
                "select": picked,
                "test": tested(picked["config"]),
                "unguarded_test": tested(picked["unguarded"]["config"]),
                "ensemble_test": tested(ensembled(picked["config"], args)),
            }
        methods.setdefault(found["method"], []).append(row)
    for rows in methods.values():
        rows.sort(key=lambda r: r["search"]["seed"])
    calibration = store.get(f"{graph}/calibrate")
    bar_ensemble = tested(ensembled(bar["config"], args)) if bar else None
    return {
        "bar": bar,
        "bar_ensemble": bar_ensemble,
        "methods": methods,
        "calibration": calibration,
    }


def paired(a: list[float], b: list[float]) -> str:
    """Mean difference and paired tests (t and Wilcoxon signed-rank, two-sided) over seeds."""
    from scipy import stats

    diffs = [x - y for x, y in zip(a, b, strict=True)]
    per_seed = ", ".join(f"{100 * d:+.2f}" for d in diffs)
    text = f"{100 * statistics.fmean(diffs):+.2f} (per seed {per_seed})"
    if len(diffs) < 3:
        return text + "; fewer than 3 seeds: no test"
    if all(d == 0 for d in diffs):
        return text + "; identical"
    t = stats.ttest_rel(a, b).pvalue
    w = stats.wilcoxon(a, b).pvalue
    worse = statistics.fmean(diffs) < 0 and t < 0.05
    better = statistics.fmean(diffs) > 0 and t < 0.05
    verdict = (
        "significantly worse"
        if worse
        else "significantly better"
        if better
        else "not significantly different"
    )
    return text + f"; paired t p={t:.2g}, Wilcoxon p={w:.2g}: {verdict}"


def against_bar(tests: list[list[float]], bar: list[float]) -> str:
    """Test accuracy of each seed's pick against the best default's: ahead, tied (within one
    standard error of the difference) or behind, on the mean over seeds."""
    means = [statistics.fmean(t) for t in tests]
    diff = statistics.fmean(means) - statistics.fmean(bar)
    runs = [x for t in tests for x in t]
    se = (
        (statistics.pvariance(runs) / len(runs) + statistics.pvariance(bar) / len(bar)) ** 0.5
        if len(runs) > 1 and len(bar) > 1
        else 0.0
    )
    verdict = "ahead" if diff > se else "tie" if diff >= -se else "behind"
    per_seed = ", ".join(f"{100 * (m - statistics.fmean(bar)):+.2f}" for m in means)
    return f"{100 * diff:+.2f} ({verdict}; s.e. {100 * se:.2f}; per seed {per_seed})"


TARGETS = {"cora": 0.845, "actor": 0.375}


def node_lead(
    store: Store, graph: str, args: argparse.Namespace, challenger: dict, incumbent: dict
) -> tuple[float, float] | None:
    """gnn.select's guard statistic from the recorded per-node units: the challenger's mean
    per-node lead over the incumbent and its standard error (None if a unit is missing),
    on the splits ``args`` judges selections on (re-drawn ones for a single-split graph when
    --select-resplits is set)."""
    from autoglm_gnn.selection import paired_lead, seed_fractions

    resplits = resplits_of(graph, args)
    files = resplits or min(split_count(graph), args.select_splits)
    folder = f"valn{resplit_suffix(resplits)}"
    seeds = list(range(50, 50 + args.select_seeds))
    scores = []
    for config in (challenger, incumbent):
        unit = store.get(f"{graph}/{folder}/{run_key(config, files, seeds)}")
        if unit is None:
            return None
        runs = unit["correct"]
        per_file = [runs[i : i + len(seeds)] for i in range(0, len(runs), len(seeds))]
        scores.append([x for chunk in per_file for x in seed_fractions(chunk)])
    return paired_lead(*scores)


def top_lead(
    store: Store, graph: str, args: argparse.Namespace, picked: dict[str, Any]
) -> tuple[float, float] | None:
    """The guard's statistic for a selection's top against the best default of the same
    ranking: (lead in points, z); None when the top is a default or a unit is missing."""
    from autoglm_gnn.selection import default_candidates

    defaults = default_candidates()
    ranking = picked["candidates"]
    incumbent = next((r for r in ranking if r["config"] in defaults), None)
    if incumbent is None or ranking[0]["config"] in defaults:
        return None
    found = node_lead(store, graph, args, ranking[0]["config"], incumbent["config"])
    if found is None:
        return None
    lead, error = found
    return 100 * lead, lead / max(error, 1e-12)


def guard_section(
    store: Store,
    data: dict[str, Any],
    args: argparse.Namespace,
    graphs: list[str],
    methods: list[str],
) -> list[str]:
    """Per selection: the top of the ranking's validation lead over the best default node by
    node (what the guard judges), and how that pick and the guarded one tested."""
    lines = [
        "",
        "### The guard, selection by selection",
        "",
        "The top of each selection's ranking against the best default: its mean validation lead "
        "node by node (points) and z = lead / standard error (the guard needs z > 2); then the "
        "test accuracy of that top and of the guarded pick, minus the best default's.",
        "",
    ]
    for graph in graphs:
        d = data[graph]
        if not d["bar"]:
            continue
        bar = statistics.fmean(d["bar"]["test_accs"])
        for method in methods:
            for r in d["methods"].get(method, []):
                if r.get("unguarded_test") is None or r.get("test") is None:
                    continue
                top = r["select"]["unguarded"]["config"]
                if (found := top_lead(store, graph, args, r["select"])) is None:
                    judged = "the top is a default (nothing to judge)"
                else:
                    judged = f"lead {found[0]:+.2f}, z {found[1]:.1f}"
                kept = (
                    " (guard kept the default)"
                    if r["select"]["config"] != top and r["select"]["chose_default"]
                    else ""
                )
                lines.append(
                    f"* {graph}, {method} seed {r['search']['seed']}: {judged}; test of the top "
                    f"{100 * (statistics.fmean(r['unguarded_test']) - bar):+.2f}, of the guarded "
                    f"pick {100 * (statistics.fmean(r['test']) - bar):+.2f}{kept}"
                )
    return lines


def ensemble_section(
    data: dict[str, Any], args: argparse.Namespace, graphs: list[str], methods: list[str]
) -> list[str]:
    """The final model as the workflows train it (gnn.evaluate's ensemble): each +select pick
    and the best default retrained as seed ensembles, compared with each other and the
    targets."""
    size = args.final_ensemble
    if size <= 1:
        return []
    lines = [
        "",
        f"### The workflows' final model: seed ensembles of {size} (gnn.evaluate's ensemble)",
        "",
        f"Each retrain of the selected config trains {size} members from derived seeds and "
        "predicts their mean probabilities; same test seeds and splits as above. Against the "
        "best default trained the same way.",
        "",
    ]
    for graph in graphs:
        d = data[graph]
        bar = d.get("bar_ensemble")
        if bar is None:
            continue
        lines.append(f"* {graph}, best default ({describe(d['bar']['config'])}): {pct(bar)}")
        target = TARGETS.get(graph)
        for method in methods:
            done = [r for r in d["methods"].get(method, []) if r.get("ensemble_test")]
            if not done:
                continue
            tests = [r["ensemble_test"] for r in done]
            mean = statistics.fmean(statistics.fmean(t) for t in tests)
            line = (
                f"* {graph}, {method}+select ({len(done)} seed(s)): {100 * mean:.2f}, against "
                f"the best default {against_bar(tests, bar)}"
            )
            if target is not None:
                met = "met" if mean >= target else "not met"
                line += f"; target {100 * target:.1f}: {met}"
            lines.append(line)
    return lines


def report(store: Store, args: argparse.Namespace, graphs: list[str], methods: list[str]) -> str:
    data = {g: collect(store, g, args) for g in graphs}
    lines = [
        "## Graph search beyond Cora: Cora, Actor, CSBM (issue 17)",
        "",
        f"`python bench/graph_generalise.py --graphs {args.graphs}` (resumable: every finished "
        "unit is kept under bench/results/graph_generalise_units/ and never recomputed; last "
        "written "
        f"{now_utc():%Y-%m-%d %H:%M} UTC). Budget: about {args.search_cpu_minutes:g} CPU-minutes "
        "per search; the tuner counts trials, not CPU, so a short random search on each graph "
        f"({args.calibration_trials} trials) prices a trial and sets the trial budget, equal for "
        "every method on that graph. Methods: **default** = the search as configs/autognn-*.yaml "
        "run it (the tuner's default optimiser, TPE, one optimiser per layer type: Optuna's own "
        "points, its bounded fit starting past 2,000 trials; star design around gnn.train's "
        "defaults); **random** = uniform sampling; "
        "**TPE** = Optuna's multivariate TPE, plain (whole history), from its own first point. "
        "Every method runs the same tuner.search loop: space below, ASHA fidelity 100 -> 200 "
        f"epochs (30% promoted), {args.workers} worker, final stage {args.final_top_k} "
        f"finalists x {args.final_seeds} seeds, searched on the graph's first split. "
        f"**+select**: the search's best and its next {args.select_top} finalists plus the "
        f"untuned defaults (GCN, APPNP, MLP, GCNII) on seeds 50-{49 + args.select_seeds} x the "
        f"first {args.select_splits} splits (Actor) or x {args.select_resplits} re-drawn splits "
        "of the labelled nodes (single-split graphs: gnn.select's resplits; "
        "configs/autognn-cora.yaml runs 1 seed per re-drawn split, which graph_resplit "
        "compares, with the same-node selection), best mean "
        "validation, ties to the defaults, and a search candidate replaces the best default "
        "only when it leads it by more than 2 standard errors of the paired per-node "
        "difference on the validation nodes (gnn.select's rule, guard_z 2); **+select, no "
        "guard**: the top of the same ranking. **best default**: the same "
        "selection over the defaults alone. "
        f"Test: seeds 100+ ({args.retrains} per single graph; Actor: {args.split_retrains} per "
        "split on all 10 splits), mean ± population sd over runs (one seed), else mean ± sd of "
        "the per-seed means over search seeds. CPU: CPU-minutes of the trials (the search's "
        "workers) per search, mean over seeds; the 2 cores were shared with other work, so wall "
        "time is not reported. Space: "
        + "; ".join(f"`{k}` {json.dumps(v)}" for k, v in SPACE.items())
        + ".",
        "",
    ]
    expected = args.seeds
    partial = False
    rows = []
    for graph in graphs:
        d = data[graph]
        bar = d["bar"]
        if not bar and not d["methods"]:
            partial = True
            rows.append(f"| {graph} | all | 0/{expected} | not started | | | | |")
            continue
        if bar:
            rows.append(
                f"| {graph} | best default | - | {describe(bar['config'])} | "
                f"{100 * bar['val']:.2f} | {pct(bar['test_accs'])} | - | - |"
            )
        for method in methods:
            runs = d["methods"].get(method, [])
            done = [
                r
                for r in runs
                if all(r.get(k) is not None for k in ("test", "search_test", "unguarded_test"))
            ]
            if len(done) < expected:
                partial = True
            if not done:
                state = f"{len(runs)} search(es) done, selection or tests not yet" if runs else ""
                rows.append(
                    f"| {graph} | {method} | 0/{expected} | {state or 'not run yet'} | | | | |"
                )
                continue
            n = f"{len(done)}/{expected}" + (" (partial)" if len(done) < expected else "")
            cpu = statistics.fmean(r["search"]["cpu"] for r in done) / 60
            trials = "/".join(str(r["search"]["budget"]) for r in done[:1])
            for label, val, test, picks in (
                (
                    method,
                    [r["search"]["best_score"] for r in done],
                    [r["search_test"] for r in done],
                    [describe(r["search"]["best_config"]) for r in done],
                ),
                (
                    f"{method}+select",
                    [r["select"]["val"] for r in done],
                    [r["test"] for r in done],
                    [
                        describe(r["select"]["config"])
                        + (" (a default)" if r["select"]["chose_default"] else "")
                        for r in done
                    ],
                ),
                (
                    f"{method}+select, no guard",
                    [r["select"]["unguarded"]["val"] for r in done],
                    [r["unguarded_test"] for r in done],
                    [describe(r["select"]["unguarded"]["config"]) for r in done],
                ),
            ):
                spread = (
                    pct(test[0]) if len(test) == 1 else pct([statistics.fmean(t) for t in test])
                )
                rows.append(
                    f"| {graph} | {label} | {n} | {'; '.join(picks)} | "
                    f"{100 * statistics.fmean(val):.2f} | {spread} | {trials} | {cpu:.1f} |"
                )
    if partial:
        lines += [
            f"**Partial**: the seeds column says how many of the {expected} search seeds have "
            "finished (search, selection and tests); cells with fewer are not final figures.",
            "",
        ]
    lines += [
        f"val %: for a method's own row, the search's pick as its final stage scored it (split 0: "
        f"its trial and {args.final_seeds} extra seeds); for +select and the best default, the "
        "selection's mean.",
        "",
    ]
    lines += [
        "| graph | method | seeds | selected (per seed) | val % | test % | trials "
        "| CPU min per search |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "### Against the best untuned default by validation (test accuracy, points)",
        "",
    ]
    verdicts: dict[str, str] = {}
    for graph in graphs:
        d = data[graph]
        if not d["bar"]:
            continue
        bar = d["bar"]["test_accs"]
        target = TARGETS.get(graph)
        for method in methods:
            done = [
                r
                for r in d["methods"].get(method, [])
                if r.get("test") is not None and r.get("unguarded_test") is not None
            ]
            if not done:
                continue
            own = against_bar([r["search_test"] for r in done], bar)
            picked = against_bar([r["test"] for r in done], bar)
            unguarded = against_bar([r["unguarded_test"] for r in done], bar)
            if method == "default":
                verdicts[graph] = picked.split("(")[1].split(";")[0]
            line = (
                f"* {graph}, {method} ({len(done)} seed(s)): +select {picked}; without the "
                f"guard {unguarded}; the search's own pick {own}"
            )
            if target is not None:
                mean = statistics.fmean(statistics.fmean(r["test"]) for r in done)
                met = "met" if mean >= target else "not met"
                line += f"; target {100 * target:.1f} (+select): {100 * mean:.2f}, {met}"
            lines.append(line)
    if not verdicts:
        lines.append("* no search has finished with its selection and tests yet")
    lines += guard_section(store, data, args, graphs, methods)
    lines += ensemble_section(data, args, graphs, methods)
    csbm = [g for g in graphs if g.startswith("csbm-")]
    if csbm:
        levels = ", ".join(f"{g[5:]}: {verdicts.get(g, 'not measured')}" for g in csbm)
        lines += ["", f"CSBM sweep, default+select against the best default per level: {levels}."]
    lines += [
        "",
        "### Paired over search seeds: default against random and TPE (test of +select)",
        "",
    ]
    any_pair = False
    for graph in graphs:
        d = data[graph]["methods"]
        for other in [m for m in methods if m != "default"]:
            mine = {r["search"]["seed"]: r for r in d.get("default", []) if r.get("test")}
            theirs = {r["search"]["seed"]: r for r in d.get(other, []) if r.get("test")}
            seeds = sorted(set(mine) & set(theirs))
            if not seeds:
                continue
            any_pair = True
            a = [statistics.fmean(mine[s]["test"]) for s in seeds]
            b = [statistics.fmean(theirs[s]["test"]) for s in seeds]
            va = [mine[s]["select"]["val"] for s in seeds]
            vb = [theirs[s]["select"]["val"] for s in seeds]
            lines.append(
                f"* {graph}, default - {other} ({len(seeds)} seeds): test {paired(a, b)}; "
                f"selection val {paired(va, vb)}"
            )
    if not any_pair:
        lines.append("* no seed has finished for two methods on one graph yet")
    lines += [
        "",
        "### Units and cost",
        "",
        "To continue (skips every finished unit, resumes an interrupted search from its "
        "journal): `nohup nice -n 15 .venv/bin/python bench/graph_generalise.py --graphs "
        f"{args.graphs} --stop-at HH:MM > bench/out/gg_run.log 2>&1 &`.",
        "",
    ]
    total = 0.0
    for path in sorted(store.root.rglob("*.json")):
        total += json.loads(path.read_text()).get("cpu", 0.0)
    for graph in graphs:
        cal = data[graph]["calibration"]
        if cal:
            per = cal["cpu"] / max(1, cal["trials"])
            lines.append(
                f"* {graph}: calibration {cal['trials']} random trials, {per:.2f} CPU s per trial "
                f"(promotions included) -> {calibrated_budget(cal, args)} trials per search"
            )
    lines.append(f"* CPU-minutes in finished units so far: {total / 60:.1f}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ main


def install_stop(stop_at: str | None) -> threading.Timer | None:
    """SIGTERM (and --stop-at, by a timer sending it) ends the run as an exception, so the
    search's pool closes its workers and the report is still written. Returns the timer."""

    def handler(signum: int, frame: Any) -> None:
        raise Stop(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    deadline = stop_time(stop_at)
    if deadline is not None:
        seconds = max(0.0, (deadline - now_utc()).total_seconds())
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()
        return timer
    return None


def real_runner(args: argparse.Namespace, store: Store) -> Runner:
    """A Runner that trains for real (one torch thread), its graphs built under --work-dir."""
    import torch

    torch.set_num_threads(1)
    work = Path(args.work_dir)
    data_dir = Path(args.data_dir) if args.data_dir else REPO.parent / "shared" / "data"
    files: dict[str, list[str]] = {}

    def files_of(graph: str) -> list[str]:
        if graph not in files:
            files[graph] = build(graph, data_dir, work / "graphs")
        return files[graph]

    backend = Backend(args, work / "home")
    return Runner(args, store, backend, files_of, log=lambda m: print(m, flush=True))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    store = Store(Path(args.units_dir))
    graphs = graph_names(args.graphs)
    methods = [m for m in args.methods.split(",") if m]
    out = Path(args.out)
    if not args.report_only:
        timer = install_stop(args.stop_at)
        runner = real_runner(args, store)
        try:
            runner.run(graphs, methods)
            print("all units finished", flush=True)
        except Stop as stop:
            print(f"stopped cleanly: {stop}", flush=True)
        if timer is not None:
            timer.cancel()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        spent = (cpu_spent() - runner.cpu_at_start) / 60
        print(f"this run: {len(runner.computed)} units, {spent:.1f} CPU-min", flush=True)
    out.write_text(report(store, args, graphs, methods), encoding="utf-8")
    print(f"written {out}", flush=True)


if __name__ == "__main__":
    main()
