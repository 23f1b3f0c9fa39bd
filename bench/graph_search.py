"""Graph search benchmark: the Nevergrad tuner against random search, grid search and Optuna's
TPE on Cora's public split, side by side with the same budget and the same seeds.

Every method runs through the same ``tuner.search`` loop (same worker pool, same batches,
same journal), so only the proposal strategy differs; TPE is plugged in with
``autoglm_tuner.strategies.register_strategy`` (Optuna is a benchmark-only dependency).

Reported (markdown in bench/results/graph_search.md, curve in bench/results/graph_search.png):
* test accuracy of the configuration each search selects by validation accuracy, retrained with
  ``--retrains`` seeds, mean and spread over the search seeds;
* trials and CPU time to reach the best validation accuracy grid search finds;
* anytime figures: best validation accuracy after 10, 25, 50 trials, CPU time to a target;
* a paired seed-by-seed comparison, the NGOpt + successive-halving variant, and the rank
  correlation between short and full training runs that justifies the pruning.

Usage (the full run takes a while on 2 cores; run it in the background):
    nohup .venv/bin/python bench/graph_search.py > bench/out/graph_search.log 2>&1 &
    .venv/bin/python bench/graph_search.py --budget 12 --seeds 1 --grid-points 2 --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"

#: The searched space: gnn.train's declared space, with propagation depth capped at 16 so a
#: single trial stays within seconds on a CPU (gcnii with k=64 takes minutes).
SPACE_OVERRIDES = {"k": {"choice": [2, 4, 8, 10, 16], "ordered": True}}

#: Grid search's grid: the hyperparameters people usually grid over, every other field at its
#: gnn.train default. 4 layers x 3 dropouts x 3 learning rates x 3 decays = 108 points.
GRID_SPACE = {
    "layer": {"choice": ["gcn", "gat", "sage", "appnp"]},
    "dropout": {"float": [0.0, 0.8]},
    "lr": {"float": [1e-3, 5e-2], "log": True},
    "weight_decay": {"float": [1e-5, 1e-2], "log": True},
}

METHODS = ("NGOpt", "random", "TPE")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=50, help="trials per search")
    parser.add_argument("--seeds", type=int, default=3, help="search seeds (0..n-1)")
    parser.add_argument("--retrains", type=int, default=5, help="retrain seeds per selection")
    parser.add_argument("--grid-points", type=int, default=3, help="grid values per range")
    parser.add_argument(
        "--grid-budget", type=int, default=100_000, help="cap on grid trials (a seeded subset)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trial-timeout", type=float, default=180.0)
    parser.add_argument("--correlation-budget", type=int, default=30)
    parser.add_argument("--data-dir", default=os.environ.get("AUTOGLM_DATA_DIR"))
    parser.add_argument("--work-dir", default=None, help="home of the runs (default: temporary)")
    parser.add_argument("--quick", action="store_true", help="write to *_quick.md / .png")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the searches from the journals in --work-dir, then retrain and report",
    )
    return parser.parse_args()


# ------------------------------------------------------------------ Optuna TPE as a strategy


def tpe_factory(space: dict[str, Any], *, budget: int, workers: int, seed: int):
    """Optuna's TPE behind the tuner's ask/tell interface (same loop as every other method)."""
    import optuna

    from autoglm.space import Choice, IntRange
    from autoglm_tuner.strategies import Candidate, Strategy

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    class TPEStrategy(Strategy):
        used = "optuna TPE"

        def __init__(self) -> None:
            super().__init__()
            sampler = optuna.samplers.TPESampler(seed=seed)
            self.study = optuna.create_study(direction="minimize", sampler=sampler)

        def _ask(self) -> Candidate:
            trial = self.study.ask()
            params: dict[str, Any] = {}
            for name, dim in space.items():
                if isinstance(dim, Choice):
                    params[name] = trial.suggest_categorical(name, list(dim.values))
                elif isinstance(dim, IntRange):
                    params[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
                else:
                    params[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
            return Candidate(params, trial)

        def tell(self, candidate: Candidate, loss: float) -> None:
            self.study.tell(candidate.handle, loss)

    return TPEStrategy()


# --------------------------------------------------------------------------- running searches


class Bench:
    def __init__(self, args: argparse.Namespace, home: Path, graph: str) -> None:
        self.args = args
        self.home = home
        self.graph = graph

    def search(self, run_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """One tuner.search run; returns its outputs and its journal (completion order).
        With ``--report-only`` the run is rebuilt from the journal of an earlier benchmark in
        the same ``--work-dir`` instead (nothing is trained)."""
        if self.args.report_only:
            return self.from_journal(run_id, config)
        from autoglm.plugins import PluginSelection
        from autoglm.store import RunStore
        from autoglm.testing import make_context, run_node
        from autoglm_tuner.node import SearchNode

        full = {
            "objective": "gnn.train",
            "metric": "val_acc",
            "workers": self.args.workers,
            "trial_timeout": self.args.trial_timeout,
            "warm_start": False,
            **config,
        }
        context = make_context(
            self.home,
            node_id="search",
            node_type="tuner.search",
            run_id=run_id,
            selection=PluginSelection(allow=("tuner", "gnn")),
        )
        started = time.monotonic()
        out = run_node(
            SearchNode,
            full,
            {"objective_inputs": {"graph": self.graph}},
            home=self.home,
            context=context,
        )
        wall = time.monotonic() - started
        journal = RunStore(self.home / "runs.sqlite").journal_read(run_id, "search", "trial")
        journal.sort(key=lambda r: r["elapsed"])
        print(
            f"[{run_id}] best val {out.best_score:.4f} in {wall:.0f} s, "
            f"{out.trials} trials, {out.failed_trials} failed, {out.optimizer_used}",
            flush=True,
        )
        return {"out": out.model_dump(), "journal": journal, "wall": wall}

    def from_journal(self, run_id: str, config: dict[str, Any]) -> dict[str, Any]:
        from autoglm.store import RunStore
        from autoglm_tuner.fidelity import spearman
        from autoglm_tuner.report import leaderboard

        journal = RunStore(self.home / "runs.sqlite").journal_read(run_id, "search", "trial")
        if not journal:
            raise SystemExit(f"--report-only: no journal for run {run_id!r} in {self.home}")
        journal.sort(key=lambda r: r["elapsed"])
        rows = [r for r in leaderboard(journal, "max") if r["status"] == "ok"]
        best = rows[0]
        fidelity = config.get("fidelity")
        best_config = dict(best["params"])
        if fidelity:
            best_config[fidelity["field"]] = fidelity["max"]
        first = {r["trial"]: r["score"] for r in journal if r["rung"] == 0}
        top = max(r["rung"] for r in journal)
        full = {r["trial"]: r["score"] for r in journal if r["rung"] == top and top > 0}
        shared = sorted(set(first) & set(full))
        corr = spearman([first[t] for t in shared], [full[t] for t in shared])
        out = {
            "best_score": best["score"],
            "best_config": best_config,
            "trials": len({r["trial"] for r in journal}),
            "failed_trials": sum(r["status"] != "ok" for r in leaderboard(journal, "max")),
            "optimizer_used": config["optimizer"],
            "rank_correlation": None if corr is None else round(corr, 4),
        }
        return {"out": out, "journal": journal, "wall": journal[-1]["elapsed"]}

    def retrain(self, config: dict[str, Any]) -> list[float]:
        """Test accuracy of ``config`` trained with seeds 0..retrains-1 (selection never saw
        test data; this is the number reported)."""
        from autoglm_gnn.trainer import train_config

        return [
            train_config(self.graph, {**config, "seed": s, "report_test": True}).test_acc
            for s in range(self.args.retrains)
        ]


# ---------------------------------------------------------------------------------- metrics


def full_records(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Successful evaluations at the search's full fidelity, in completion order."""
    top = max((r["rung"] for r in run["journal"]), default=0)
    return [r for r in run["journal"] if r["rung"] == top and r["status"] == "ok"]


def reach(run: dict[str, Any], target: float) -> tuple[int | None, float | None]:
    """(trials started, CPU seconds spent) when a full-fidelity val_acc >= target appeared."""
    cpu = 0.0
    trials: set[int] = set()
    top = max((r["rung"] for r in run["journal"]), default=0)
    for record in run["journal"]:
        cpu += record.get("cpu_seconds") or 0.0
        trials.add(record["trial"])
        ok = record["status"] == "ok" and record["rung"] == top
        if ok and record["score"] >= target - 1e-12:
            return len(trials), cpu
    return None, None


def best_after(run: dict[str, Any], n: int) -> float | None:
    """Best full-fidelity val_acc among the first ``n`` trials asked."""
    scores = [r["score"] for r in full_records(run) if r["trial"] < n]
    return max(scores) if scores else None


def mean_sd(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f}"


def fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "not reached" if value is None else pattern.format(value)


# ----------------------------------------------------------------------------------- output


def curves(runs: dict[str, list[dict[str, Any]]], grid_best: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_trial, by_cpu) = plt.subplots(1, 2, figsize=(12, 4.5))
    for method, seed_runs in runs.items():
        for i, run in enumerate(seed_runs):
            best, xs, cpus, ys, cpu = 0.0, [], [], [], 0.0
            top = max((r["rung"] for r in run["journal"]), default=0)
            for number, record in enumerate(run["journal"], start=1):
                cpu += record.get("cpu_seconds") or 0.0
                if record["status"] == "ok" and record["rung"] == top:
                    best = max(best, record["score"])
                    xs.append(number)
                    cpus.append(cpu)
                    ys.append(best)
            label = method if i == 0 else None
            colour = f"C{list(runs).index(method)}"
            by_trial.step(xs, ys, where="post", color=colour, alpha=0.8, label=label)
            by_cpu.step(cpus, ys, where="post", color=colour, alpha=0.8, label=label)
    for axis, name in ((by_trial, "evaluations completed"), (by_cpu, "CPU seconds")):
        axis.axhline(grid_best, color="black", linestyle=":", label="grid search best")
        axis.set_xlabel(name)
        axis.set_ylabel("best validation accuracy so far")
        axis.set_ylim(max(0.6, grid_best - 0.08), None)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right", fontsize=8)
    fig.suptitle("Cora (public split): best-so-far validation accuracy, one line per seed")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(1)
    from autoglm_gnn.graphs import save_graph
    from autoglm_gnn.planetoid import read_planetoid
    from autoglm_tuner.strategies import register_strategy

    register_strategy("TPE", tpe_factory)
    data_dir = Path(args.data_dir) if args.data_dir else REPO.parent / "shared" / "data"
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="graph-search-"))
    work.mkdir(parents=True, exist_ok=True)
    graph = save_graph(work / "cora.bin", read_planetoid(data_dir / "planetoid", "cora"))
    bench = Bench(args, work / "home", str(graph))
    started = time.monotonic()
    seeds = list(range(args.seeds))
    space = SPACE_OVERRIDES

    grid = bench.search(
        "grid",
        {
            "optimizer": "grid",
            "budget": args.grid_budget,
            "space": GRID_SPACE,
            "space_only": True,
            "grid_points": args.grid_points,
            "base_config": {},
        },
    )
    grid_trials = grid["out"]["trials"]
    grid_best = grid["out"]["best_score"]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    for seed in seeds:
        for method in METHODS:
            runs[method].append(
                bench.search(
                    f"{method}-s{seed}",
                    {"optimizer": method, "budget": args.budget, "seed": seed, "space": space},
                )
            )
    fidelity = {"field": "max_epochs", "min": 50, "max": 200, "eta": 4, "top_fraction": 0.3}
    sha = [
        bench.search(
            f"NGOpt-SHA-s{seed}",
            {
                "optimizer": "NGOpt",
                "budget": args.budget,
                "seed": seed,
                "space": space,
                "fidelity": fidelity,
            },
        )
        for seed in seeds
    ]
    correlation = bench.search(
        "correlation",
        {
            "optimizer": "random",
            "budget": args.correlation_budget,
            "seed": 100,
            "space": space,
            "fidelity": {**fidelity, "top_fraction": 1.0},
        },
    )
    all_runs = {**runs, "NGOpt+SHA": sha}

    print("retraining the selected configurations ...", flush=True)
    tests: dict[str, list[list[float]]] = {}
    for method, seed_runs in [*all_runs.items(), ("grid", [grid])]:
        tests[method] = [bench.retrain(run["out"]["best_config"]) for run in seed_runs]
    total = time.monotonic() - started

    # ----------------------------------------------------------------------- the report
    suffix = "_quick" if args.quick else ""
    png = RESULTS / f"graph_search{suffix}.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    curves({**runs, "NGOpt+SHA": sha}, grid_best, png)
    lines = [
        "## Graph search on Cora (tuner.search)",
        "",
        f"Cora, public split (140/500/1000). Budget {args.budget} trials per search, seeds "
        f"{seeds}, {args.workers} worker processes (1 torch thread each), trial timeout "
        f"{args.trial_timeout:g} s; searched space: gnn.train's declared space (16 "
        "dimensions: 8 layer types, depth, width, heads, aggregator, activation, 3 dropouts, "
        "residual, norm, k <= 16, alpha, theta, lr, weight decay). Grid: "
        f"{' x '.join(GRID_SPACE)} ({grid_trials} points, {args.grid_points} values per "
        "range), other fields at their defaults. Test accuracy: the configuration each search "
        f"selects by validation accuracy, retrained with {args.retrains} seeds; mean ± sd "
        f"over the per-seed means. Whole benchmark: {total / 60:.1f} min wall.",
        "",
        f"Grid search best validation accuracy: **{100 * grid_best:.2f}** after {grid_trials} "
        f"trials ({grid['wall'] / 60:.1f} min wall, "
        f"{sum(r.get('cpu_seconds') or 0 for r in grid['journal']) / 60:.1f} CPU min).",
        "",
        "| method | selected val acc | test acc of selection | trials to grid best | "
        "CPU s to grid best | best val @10 | @25 | @50 | CPU s to val >= 0.80 | "
        "search wall min |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, seed_runs in [*all_runs.items(), ("grid", [grid])]:
        test_means = [statistics.mean(t) for t in tests[method]]
        hits = [reach(run, grid_best) for run in seed_runs]
        at = {n: [best_after(run, n) for run in seed_runs] for n in (10, 25, 50)}
        to80 = [reach(run, 0.80)[1] for run in seed_runs]
        lines.append(
            f"| {method} | {mean_sd([r['out']['best_score'] for r in seed_runs])} | "
            f"{mean_sd(test_means)} | "
            f"{', '.join(fmt(t, '{}') for t, _ in hits)} | "
            f"{', '.join(fmt(c, '{:.0f}') for _, c in hits)} | "
            + " | ".join(mean_sd(at[n]) for n in (10, 25, 50))
            + f" | {', '.join(fmt(c, '{:.0f}') for c in to80)} | "
            f"{statistics.mean(r['wall'] for r in seed_runs) / 60:.1f} |"
        )
    lines += [
        "",
        "Per-seed lists are in seed order. For NGOpt+SHA every configuration first trains "
        f"{fidelity['min']} epochs and the best {int(100 * fidelity['top_fraction'])}% are "
        f"trained {fidelity['max']} epochs; its anytime columns count trials asked, and "
        "only full-length results count as reaching a target.",
        "",
        "### Paired comparison, seed by seed (test accuracy of the selection, mean of "
        f"{args.retrains} retrains)",
        "",
        "| seed | " + " | ".join(all_runs) + " |",
        "|---|" + "---|" * len(all_runs),
    ]
    for i, seed in enumerate(seeds):
        cells = [f"{100 * statistics.mean(tests[m][i]):.2f}" for m in all_runs]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    for rival in ("random", "TPE"):
        diffs = [
            statistics.mean(tests["NGOpt"][i]) - statistics.mean(tests[rival][i])
            for i in range(len(seeds))
        ]
        wins = sum(d > 0 for d in diffs)
        lines.append(
            f"\nNGOpt - {rival}: mean {100 * statistics.mean(diffs):+.2f} points test accuracy, "
            f"NGOpt ahead on {wins}/{len(seeds)} seeds; selected val acc differences: "
            + ", ".join(
                f"{100 * (a['out']['best_score'] - b['out']['best_score']):+.2f}"
                for a, b in zip(runs["NGOpt"], runs[rival], strict=True)
            )
        )
    out = correlation["out"]
    lines += [
        "",
        "### Is a short run a good proxy for a full one?",
        "",
        f"{args.correlation_budget} random configurations trained both {fidelity['min']} and "
        f"{fidelity['max']} epochs: Spearman rank correlation of validation accuracy "
        f"**{out['rank_correlation']}**.",
        "",
        f"Optimisers that ran: {', '.join(sorted({r[0]['out']['optimizer_used'] for r in all_runs.values()}))}.",  # noqa: E501
        "",
        f"![best-so-far curves]({png.name})",
        "",
    ]
    target = RESULTS / f"graph_search{suffix}.md"
    target.write_text("\n".join(lines), encoding="utf-8")
    (work / "summary.json").write_text(json.dumps({"tests": tests, "grid_best": grid_best}))
    print("\n".join(lines))
    print(f"written {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
