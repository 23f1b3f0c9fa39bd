"""Graph search benchmark: the Nevergrad tuner against random search, grid search and Optuna's
TPE on Cora's public split, side by side with the same budget and the same seeds.

Every method runs through the same ``tuner.search`` loop (same worker pool, same batches,
same journal), so only the proposal strategy differs; TPE is the tuner's own ``optimizer:
TPE`` (Optuna's multivariate TPE).

Reported (markdown in bench/results/graph_search.md, curve in bench/results/graph_search.png):
* test accuracy of the configuration each search selects by validation accuracy, retrained with
  ``--retrains`` seeds, mean and spread over the search seeds;
* trials and CPU time to reach the best validation accuracy grid search finds;
* anytime figures: best validation accuracy after 10, 25, 50, 100 trials, CPU time;
* a paired seed-by-seed comparison and the rank correlation between short and full training
  runs that justifies the pruning.

Every method gets the same space, budget, seeds, successive-halving schedule and final
re-evaluation (top-k configurations retrained on extra seeds, selected by mean validation
accuracy); the grid runs every point at full length.

Usage (the full run takes a while on 2 cores; run it in the background):
    nohup .venv/bin/python bench/graph_search.py > bench/out/graph_search.log 2>&1 &
    .venv/bin/python bench/graph_search.py --budget 12 --seeds 1 --grid-points 2 \
        --grid-budget 10 --retrains 1 --correlation-budget 0 --final-top-k 2 --quick
Rerunning with the same ``--work-dir`` resumes a killed benchmark from the run journals.

Beyond Cora: ``--graphs cora,actor,csbm`` runs bench/graph_generalise.py instead (the
heterophily space, the final selection with the untuned defaults, Actor's 10 splits, a CSBM
homophily sweep; its own flags are documented there).
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

#: The searched space, the same for every method (space_only: every other gnn.train field keeps
#: its default): the layer types that train well within the 200-epoch full fidelity and the
#: fields that decide their accuracy (width, both dropouts, learning rate, weight decay,
#: propagation depth and teleport). GCNII is left out: at 200 epochs it reaches 82.5 on Cora
#: (bench/results/gnn_models.md; it needs ~1000 epochs) and a wide deep GCNII trial costs
#: 10-30 CPU s, several times any other layer, which would dominate the budget. Propagation
#: depth is capped at 16 so one trial stays within seconds on a CPU.
SPACE = {
    "layer": {"choice": ["gcn", "gat", "sage", "appnp"]},
    "hidden": {"choice": [32, 64, 128, 256], "ordered": True},
    "input_dropout": {"float": [0.0, 0.9]},
    "dropout": {"float": [0.0, 0.8]},
    "lr": {"float": [1e-3, 5e-2], "log": True},
    "weight_decay": {"float": [1e-5, 1e-2], "log": True},
    "k": {"choice": [2, 4, 8, 10, 16], "ordered": True},
    "alpha": {"float": [0.05, 0.5]},
}

#: Grid search's grid: a sub-grid of the same space, over the fields people usually grid
#: (every layer type x 3 input dropouts x 3 learning rates x 3 decays = 108 points), the other
#: searched fields at their gnn.train defaults (hidden 64, dropout 0.5, k 10, alpha 0.1).
GRID_SPACE = {
    "layer": SPACE["layer"],
    "input_dropout": SPACE["input_dropout"],
    "lr": SPACE["lr"],
    "weight_decay": SPACE["weight_decay"],
}

#: Successive halving for the tuners, asynchronous (ASHA) so full-length results arrive during
#: the search, not only at its end: every configuration trains 100 epochs, a configuration in
#: the best 30% of its rung so far continues to 200 (the full fidelity; the rank correlation
#: of short and full runs is measured by the script). 100 rather than 50 epochs for the first
#: rung: strongly regularised models (input dropout 0.8-0.9, the best on Cora) are still
#: climbing at 50 epochs, and the optimiser learns from first-rung scores.
FIDELITY = {
    "field": "max_epochs",
    "min": 100,
    "max": 200,
    "eta": 2,
    "top_fraction": 0.3,
    "schedule": "asha",
}

#: Each method's own settings on top of the shared ones (space, budget, seeds, fidelity, final
#: stage). The Nevergrad tuner runs as a user would run it on a GNN space: the star design
#: around gnn.train's defaults (each field alone at its ends, then what helped combined;
#: ``initial_design: star``), then one optimiser per layer type with the budget
#: halved between layer types (``per_choice``). The baselines run as their users run them:
#: uniform random sampling, and Optuna's TPE with its defaults, each from its own first point.
METHODS: dict[str, dict[str, Any]] = {
    "NGOpt": {"optimizer": "NGOpt", "per_choice": "layer", "initial_design": "star"},
    "random": {"optimizer": "random", "initial_design": "none"},
    "TPE": {"optimizer": "TPE", "initial_design": "none"},
}
#: ``--ablation``: the tuner with other designs, or without its design or split, to show what
#: each part adds.
ABLATIONS: dict[str, dict[str, Any]] = {
    "NGOpt-plain": {"optimizer": "NGOpt", "initial_design": "none"},
    "NGOpt-star": {"optimizer": "NGOpt", "initial_design": "star"},
    "NGOpt-star-split": {"optimizer": "NGOpt", "per_choice": "layer", "initial_design": "star"},
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=200, help="trials per search")
    parser.add_argument("--seeds", type=int, default=3, help="search seeds (0..n-1)")
    parser.add_argument("--retrains", type=int, default=5, help="retrain seeds per selection")
    parser.add_argument("--grid-points", type=int, default=3, help="grid values per range")
    parser.add_argument(
        "--grid-budget", type=int, default=100_000, help="cap on grid trials (a seeded subset)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trial-timeout", type=float, default=180.0)
    parser.add_argument(
        "--correlation-budget", type=int, default=30, help="0: skip the rank-correlation run"
    )
    parser.add_argument(
        "--extra-optimizers",
        default="",
        help="comma-separated Nevergrad optimisers run like NGOpt (the default's choice, measured)",
    )
    parser.add_argument(
        "--ablation", action="store_true", help="also run NGOpt without the split / the design"
    )
    parser.add_argument(
        "--long-budget",
        type=int,
        default=0,
        help="also run NGOpt with this budget (the 20-minute allowance; no baseline at it)",
    )
    parser.add_argument("--final-top-k", type=int, default=10, help="final re-evaluation size")
    parser.add_argument("--final-seeds", type=int, default=3, help="extra seeds per finalist")
    parser.add_argument("--data-dir", default=os.environ.get("AUTOGLM_DATA_DIR"))
    parser.add_argument("--work-dir", default=None, help="home of the runs (default: temporary)")
    parser.add_argument("--quick", action="store_true", help="write to *_quick.md / .png")
    return parser.parse_args()


# --------------------------------------------------------------------------- running searches


class Bench:
    def __init__(self, args: argparse.Namespace, home: Path, graph: str) -> None:
        self.args = args
        self.home = home
        self.graph = graph

    def search(self, run_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """One tuner.search run; returns its outputs, its trial journal (completion order) and
        its final re-evaluation journal. A run already recorded in ``--work-dir`` is replayed
        from its journal (tuner.search resumes), so rerunning the script with the same
        ``--work-dir`` finishes a killed benchmark or rebuilds the report without training."""
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
            "space_only": True,
            "final_top_k": self.args.final_top_k,
            "final_seeds": self.args.final_seeds,
            "noise_outputs": ["seconds", "checkpoint"],
            **config,
        }
        context = make_context(
            self.home,
            node_id="search",
            node_type="tuner.search",
            run_id=run_id,
            selection=PluginSelection(allow=("tuner", "gnn")),
        )
        out = run_node(
            SearchNode,
            full,
            {"objective_inputs": {"graph": self.graph}},
            home=self.home,
            context=context,
        )
        store = RunStore(self.home / "runs.sqlite")
        journal = sorted(store.journal_read(run_id, "search", "trial"), key=lambda r: r["elapsed"])
        # only the re-evaluations of this selection's finalists (a journal reused with other
        # final_top_k / final_seeds settings may hold more)
        used = {(r["trial"], seed) for r in out.final_ranking for seed in r["seeds"]}
        final = [
            r
            for r in store.journal_read(run_id, "search", "final")
            if (r["trial"], r["seed"]) in used
        ]
        wall = max(r["elapsed"] for r in [*journal, *final])
        cpu = sum(r.get("cpu_seconds") or 0.0 for r in [*journal, *final])
        print(
            f"[{run_id}] selected mean val {out.best_score:.4f}, {out.trials} trials, "
            f"{out.failed_trials} failed, {wall:.0f} s wall, {cpu:.0f} CPU s, "
            f"{out.strategy}",
            flush=True,
        )
        return {
            "out": out.model_dump(),
            "journal": journal,
            "final": final,
            "wall": wall,
            "cpu": cpu,
        }

    def retrain(self, config: dict[str, Any]) -> list[float]:
        """Test accuracy of ``config`` trained with ``--retrains`` fresh seeds (100, 101, ...;
        none of them used during the search). The selection never saw test data."""
        from autoglm_gnn.trainer import train_config

        return [
            train_config(self.graph, {**config, "seed": 100 + s, "report_test": True}).test_acc
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


def describe(config: dict[str, Any]) -> str:
    """The searched values of a selected configuration, short."""
    keys = [k for k in SPACE if k in config]
    return ", ".join(
        f"{k}={config[k]:.3g}" if isinstance(config[k], float) else f"{k}={config[k]}" for k in keys
    )


def paired(
    tests: dict[str, list[list[float]]], runs: dict[str, list[dict[str, Any]]], a: str, b: str
) -> str:
    """Seed-by-seed difference of method ``a`` and ``b`` (test and selected val accuracy)."""
    n = len(tests[a])
    other = tests[b] if len(tests[b]) == n else tests[b] * n  # grid is one run for all seeds
    diffs = [statistics.mean(tests[a][i]) - statistics.mean(other[i]) for i in range(n)]
    vals = runs[b] if len(runs[b]) == n else runs[b] * n
    val_diffs = [
        100 * (runs[a][i]["out"]["best_score"] - vals[i]["out"]["best_score"]) for i in range(n)
    ]
    return (
        f"{a} - {b}: mean {100 * statistics.mean(diffs):+.2f} points test accuracy "
        f"(per seed {', '.join(f'{100 * d:+.2f}' for d in diffs)}; {a} ahead on "
        f"{sum(d > 0 for d in diffs)}/{n}, tied on {sum(d == 0 for d in diffs)}/{n}); selected "
        f"mean val acc differences: {', '.join(f'{d:+.2f}' for d in val_diffs)}"
    )


def main() -> None:
    if any(arg.startswith("--graphs") for arg in sys.argv[1:]):
        from graph_generalise import main as generalise  # Cora, Actor, CSBM (issue 17)

        return generalise()
    args = parse_args()
    import torch

    torch.set_num_threads(1)
    from autoglm_gnn.graphs import save_graph
    from autoglm_gnn.planetoid import read_planetoid

    data_dir = Path(args.data_dir) if args.data_dir else REPO.parent / "shared" / "data"
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="graph-search-"))
    work.mkdir(parents=True, exist_ok=True)
    graph = save_graph(work / "cora.bin", read_planetoid(data_dir / "planetoid", "cora"))
    bench = Bench(args, work / "home", str(graph))
    started = time.monotonic()
    seeds = list(range(args.seeds))

    grid = bench.search(
        "grid",
        {
            "optimizer": "grid",
            "budget": args.grid_budget,
            "space": GRID_SPACE,
            "grid_points": args.grid_points,
        },
    )
    grid_trials = grid["out"]["trials"]
    grid_best = max(r["score"] for r in full_records(grid))
    methods = dict(METHODS)
    for name in filter(None, args.extra_optimizers.split(",")):
        methods[name] = {**METHODS["NGOpt"], "optimizer": name}
    if args.ablation:
        methods.update(ABLATIONS)
    if args.long_budget:
        methods[f"NGOpt-{args.long_budget}"] = {**METHODS["NGOpt"], "budget": args.long_budget}
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for seed in seeds:
        for method, settings in methods.items():
            runs[method].append(
                bench.search(
                    f"{method}-s{seed}",
                    {
                        "budget": args.budget,
                        **settings,
                        "seed": seed,
                        "space": SPACE,
                        "fidelity": FIDELITY,
                    },
                )
            )
    correlation = None
    if args.correlation_budget:
        correlation = bench.search(
            "correlation",
            {
                "optimizer": "random",
                "budget": args.correlation_budget,
                "seed": 100,
                "space": SPACE,
                "fidelity": {**FIDELITY, "top_fraction": 1.0},
                "final_top_k": 0,
            },
        )
    all_runs = {**runs, "grid": [grid]}

    print("retraining the selected configurations ...", flush=True)
    tests = {
        method: [bench.retrain(run["out"]["best_config"]) for run in seed_runs]
        for method, seed_runs in all_runs.items()
    }
    total = time.monotonic() - started

    # ----------------------------------------------------------------------- the report
    suffix = "_quick" if args.quick else ""
    png = RESULTS / f"graph_search{suffix}.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    curves(runs, grid_best, png)
    marks = [n for n in (10, 25, 50, 100, 200, 500) if n <= max(args.budget, args.long_budget)]
    k, extra = args.final_top_k, args.final_seeds
    lines = [
        "## Graph search on Cora (tuner.search)",
        "",
        f"`python bench/graph_search.py --budget {args.budget} --seeds {args.seeds} "
        f"--final-top-k {k} --final-seeds {extra} --correlation-budget "
        f"{args.correlation_budget}"
        + (f" --extra-optimizers {args.extra_optimizers}" if args.extra_optimizers else "")
        + (f" --long-budget {args.long_budget}" if args.long_budget else "")
        + (" --ablation" if args.ablation else "")
        + f"`. Cora, public split (140/500/1000), {args.workers} worker "
        f"processes with 1 torch thread each on a 2-core machine, trial timeout "
        f"{args.trial_timeout:g} s. Whole benchmark: {total / 60:.1f} min wall.",
        "",
        "* **Searched space** (the same for every method but the grid; every other gnn.train field "
        "at its default): "
        + "; ".join(f"`{name}` {json.dumps(dim)}" for name, dim in SPACE.items())
        + ".",
        f"* **Budget**: {args.budget} configurations per search, seeds {seeds} (the same for "
        "every method). Asynchronous successive halving (ASHA): every configuration trains "
        f"{FIDELITY['min']} epochs, those in the best {int(100 * FIDELITY['top_fraction'])}% "
        "of their rung so far are "
        f"trained {FIDELITY['max']} epochs; only {FIDELITY['max']}-epoch scores are selected from.",
        f"* **Grid**: {' x '.join(GRID_SPACE)} ({grid_trials} points, {args.grid_points} values "
        "per range), the other searched fields at their gnn.train defaults (hidden 64, dropout "
        f"0.5, k 10, alpha 0.1), every point at {FIDELITY['max']} epochs.",
        f"* **Selection** (every method, grid included): the best {k} full-length "
        f"configurations by validation accuracy are retrained with {extra} more seeds and the "
        f"highest MEAN validation accuracy over the {extra + 1} seeds is selected "
        "(`final_top_k`, `final_seeds`; never test accuracy). Its CPU time is counted in the "
        "search's.",
        f"* **Test accuracy**: the selected configuration retrained with {args.retrains} fresh "
        "seeds (100+), mean; then mean ± sd over the search seeds.",
        "",
        f"Grid search best (single-seed) validation accuracy: **{100 * grid_best:.2f}** after "
        f"{grid_trials} trials ({grid['wall'] / 60:.1f} min wall, {grid['cpu'] / 60:.1f} CPU min "
        "incl. the final re-evaluation).",
        "",
        "| method | selected mean val | test acc of selection | trials to grid best | "
        "CPU s to grid best | "
        + " | ".join(f"best val @{n}" for n in marks)
        + " | search CPU min | search wall min |",
        "|---|---|---|---|---|" + "---|" * len(marks) + "---|---|",
    ]
    for method, seed_runs in all_runs.items():
        test_means = [statistics.mean(t) for t in tests[method]]
        hits = [reach(run, grid_best) for run in seed_runs]
        at = {n: [best_after(run, n) for run in seed_runs] for n in marks}
        lines.append(
            f"| {method} | {mean_sd([r['out']['best_score'] for r in seed_runs])} | "
            f"**{mean_sd(test_means)}** | "
            f"{', '.join(fmt(t, '{}') for t, _ in hits)} | "
            f"{', '.join(fmt(c, '{:.0f}') for _, c in hits)} | "
            + " | ".join(mean_sd(at[n]) for n in marks)
            + f" | {statistics.mean(r['cpu'] for r in seed_runs) / 60:.1f} | "
            f"{statistics.mean(r['wall'] for r in seed_runs) / 60:.1f} |"
        )
    lines += [
        "",
        "Per-seed lists are in seed order. 'Trials to grid best': configurations asked until "
        "a full-length (single-seed) validation accuracy >= the grid's best appeared; CPU s: "
        "the CPU time of every evaluation until then. Anytime columns: best full-length "
        "validation accuracy among the first n configurations asked.",
        "",
        "### Paired comparison, seed by seed (test accuracy of the selection, mean of "
        f"{args.retrains} retrains)",
        "",
        "| seed | " + " | ".join(all_runs) + " |",
        "|---|" + "---|" * len(all_runs),
    ]
    for i, seed in enumerate(seeds):
        cells = [
            f"{100 * statistics.mean(tests[m][min(i, len(tests[m]) - 1)]):.2f}" for m in all_runs
        ]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    lines.append("")
    for rival in [m for m in all_runs if m != "NGOpt"]:
        lines.append(f"* {paired(tests, all_runs, 'NGOpt', rival)}")
    lines += ["", "### Selected configurations", ""]
    for method, seed_runs in all_runs.items():
        for i, run in enumerate(seed_runs):
            tag = "grid" if method == "grid" else f"{method} seed {i}"
            lines.append(
                f"* {tag}: {describe(run['out']['best_config'])} (mean val "
                f"{100 * run['out']['best_score']:.2f}; test {100 * statistics.mean(tests[method][i]):.2f})"  # noqa: E501
            )
    long_name = f"NGOpt-{args.long_budget}"
    target_method = long_name if long_name in runs else "NGOpt"
    ngopt_test = statistics.mean(statistics.mean(t) for t in tests[target_method])
    longest = max(r["wall"] for r in runs[target_method]) / 60
    fewer = [reach(run, grid_best)[0] for run in runs["NGOpt"]]
    lines += [
        "",
        "### Targets (computed by the script)",
        "",
        f"* Test accuracy of {target_method}'s selection >= 83.5% within 20 min on 2 cores: mean "
        f"{100 * ngopt_test:.2f}%, longest search {longest:.1f} min wall -> "
        f"**{'met' if ngopt_test >= 0.835 and longest <= 20 else 'missed'}**.",
        f"* Grid's best reached with >= 5x fewer trials (<= {grid_trials / 5:.0f}): NGOpt "
        f"needed {', '.join(fmt(t, '{}') for t in fewer)} ("
        + ", ".join(f"{grid_trials / t:.1f}x" if t else "not reached" for t in fewer)
        + ") -> **met on "
        f"{sum(t is not None and t <= grid_trials / 5 for t in fewer)}/{len(seeds)} seeds**.",
    ]
    if correlation is not None:
        lines += [
            "",
            "### Is a short run a good proxy for a full one?",
            "",
            f"{args.correlation_budget} random configurations of the searched space trained both "
            f"{FIDELITY['min']} and {FIDELITY['max']} epochs: Spearman rank correlation of "
            f"validation accuracy **{correlation['out']['rank_correlation']}**.",
        ]
    used = sorted({r["out"]["strategy"] for rs in all_runs.values() for r in rs})
    lines += [
        "",
        f"Optimisers that ran: {', '.join(used)}.",
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
