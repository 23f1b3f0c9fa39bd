"""Graph search beyond Cora (issue 17): the search, its final selection with the untuned
defaults (gnn.select), and the best untuned default by validation, on Cora, Actor (10 splits)
and CSBM graphs at several homophily levels.

Run through ``bench/graph_search.py --graphs cora,actor,csbm`` (or this script directly, same
flags). Every method runs through the same ``tuner.search`` loop as the Cora benchmark
(graph_search.Bench: same worker pool, fidelity schedule, final re-evaluation), on the space
that workflows use beyond Cora (``SPACE``), searched on the graph's first split. Then:

* **+select**: the search's best and its next ``--select-top`` finalists, plus the untuned
  defaults (GCN, APPNP, MLP, GCNII), retrained on ``--select-seeds`` fresh seeds (50+) on the
  first ``--select-splits`` splits, chosen by mean validation accuracy (gnn.select's rule);
* **defaults**: the same selection over the defaults alone: the bar a search must clear;
* **test**: the chosen configuration retrained with seeds 100+ on every split (Actor: all 10,
  ``--split-retrains`` seeds each; other graphs: ``--retrains`` seeds), mean ± sd.

Costs are CPU seconds of this process and the tuner's workers (the machine is shared; wall
time says little). Writes bench/results/graph_generalise.md (``--quick``: *_quick.md).
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
sys.path.insert(0, str(REPO / "bench"))

from graph_sets import build, graph_names  # noqa: E402

#: The space used beyond Cora (configs/autognn-actor.yaml, docs/gnn.md): the Cora space's
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
#: Methods, as in graph_search.METHODS (the tuner as a user runs it, and the baselines).
METHODS: dict[str, dict[str, Any]] = {
    "NGOpt": {"optimizer": "NGOpt", "per_choice": "layer", "initial_design": "star"},
    "random": {"optimizer": "random", "initial_design": "none"},
    "TPE": {"optimizer": "TPE", "initial_design": "none"},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", default="cora,actor,csbm", help="cora, actor, csbm(-H)")
    parser.add_argument("--methods", default="NGOpt,random,TPE")
    parser.add_argument("--budget", type=int, default=200, help="trials per search")
    parser.add_argument("--seeds", type=int, default=3, help="search seeds (0..n-1)")
    parser.add_argument("--retrains", type=int, default=5, help="test seeds (single graphs)")
    parser.add_argument("--split-retrains", type=int, default=1, help="test seeds per split")
    parser.add_argument("--select-top", type=int, default=5, help="finalists to gnn.select")
    parser.add_argument("--select-seeds", type=int, default=3)
    parser.add_argument("--select-splits", type=int, default=3, help="splits scored (Actor)")
    parser.add_argument("--final-top-k", type=int, default=5)
    parser.add_argument("--final-seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trial-timeout", type=float, default=300.0)
    parser.add_argument("--data-dir", default=os.environ.get("AUTOGLM_DATA_DIR"))
    parser.add_argument("--work-dir", default=None, help="runs and records (resumable)")
    parser.add_argument("--quick", action="store_true")
    return parser.parse_known_args(argv)[0]


class Records:
    """JSON lines of finished measurements, keyed, so a killed benchmark resumes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        lines = path.read_text().splitlines() if path.is_file() else []
        self.data = {r["key"]: r["value"] for r in map(json.loads, lines)}

    def get(self, key: str, compute):
        if key not in self.data:
            self.data[key] = compute()
            with self.path.open("a") as f:
                f.write(json.dumps({"key": key, "value": self.data[key]}) + "\n")
        return self.data[key]


def cpu_of(compute):
    """(result, CPU seconds of this process) of ``compute()``."""
    started = time.process_time()
    result = compute()
    return result, time.process_time() - started


def test_accs(files: list[str], config: dict[str, Any], seeds: int) -> list[float]:
    """Test accuracy of ``config`` retrained with seeds 100.. on every graph file."""
    from autoglm_gnn.trainer import train_config

    return [
        train_config(path, {**config, "seed": 100 + s, "report_test": True}).test_acc
        for path in files
        for s in range(seeds)
    ]


def choose(files: list[str], candidates: list[dict[str, Any]], args) -> dict[str, Any]:
    """gnn.select's rule: mean validation accuracy over seeds 50.. and the first splits."""
    from autoglm_gnn.selection import select

    seeds = list(range(50, 50 + args.select_seeds))
    ranking, cpu = cpu_of(lambda: select(files[: args.select_splits], candidates, seeds))
    best = ranking[0]
    return {"config": best["config"], "val": best["val_mean"], "index": best["index"], "cpu": cpu}


def pct(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.fmean(values):.2f} ± {100 * statistics.pstdev(values):.2f}"


def run_graph(name: str, args, records: Records, work: Path, data_dir: Path) -> dict[str, Any]:
    """Every method on one graph: search, +select, tests; and the defaults' selection."""
    import graph_search

    from autoglm_gnn.selection import default_candidates, search_candidates

    files = build(name, data_dir, work / "graphs")
    retrains = args.split_retrains if len(files) > 1 else args.retrains
    bench = graph_search.Bench(args, work / "home", files[0])
    rows: dict[str, Any] = {}

    def defaults():
        chosen = choose(files, default_candidates(), args)
        chosen["tests"] = test_accs(files, chosen["config"], retrains)
        return chosen

    rows["defaults"] = [records.get(f"{name}/defaults", defaults)]
    for method in filter(None, args.methods.split(",")):
        for seed in range(args.seeds):

            def measure(method=method, seed=seed):
                config = {
                    "budget": args.budget,
                    **METHODS[method],
                    "seed": seed,
                    "space": SPACE,
                    "fidelity": graph_search.FIDELITY,
                }
                run = bench.search(f"{name}-{method}-s{seed}", config)
                out = run["out"]
                found = {
                    "config": out["best_config"],
                    "val": out["best_score"],
                    "cpu": run["cpu"],
                    "tests": test_accs(files, out["best_config"], retrains),
                    "trials": out["trials"],
                }
                candidates, defaults = search_candidates(
                    out["best_config"], out["final_ranking"], args.select_top
                )
                picked = choose(files, candidates, args)
                picked["chose_default"] = picked["index"] < defaults
                picked["tests"] = test_accs(files, picked["config"], retrains)
                return {"search": found, "select": picked}

            result = records.get(f"{name}/{method}/{seed}/b{args.budget}", measure)
            rows.setdefault(method, []).append(result["search"])
            rows.setdefault(f"{method}+select", []).append(
                {**result["select"], "cpu": result["search"]["cpu"] + result["select"]["cpu"]}
            )
            print(f"[{name}] {method} seed {seed}: {json.dumps(result)[:400]}", flush=True)
    return rows


def describe(config: dict[str, Any]) -> str:
    """The searched fields that the selected layer type reads, short."""
    from autoglm_gnn.config import effective_config

    used = effective_config(config)
    keys = [k for k in SPACE if k in config and k in used]
    return ", ".join(
        f"{k}={config[k]:.3g}" if isinstance(config[k], float) else f"{k}={config[k]}" for k in keys
    )


def report(args, results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "## Graph search beyond Cora: Cora, Actor, CSBM (issue 17)",
        "",
        f"`python bench/graph_search.py --graphs {args.graphs} --methods {args.methods} "
        f"--budget {args.budget} --seeds {args.seeds}` ({time.strftime('%Y-%m-%d')}). Space: "
        + "; ".join(f"`{k}` {json.dumps(v)}" for k, v in SPACE.items())
        + f". Fidelity, final stage ({args.final_top_k} finalists x {args.final_seeds} seeds) "
        "and worker pool as in the Cora benchmark. +select: the search's best and next "
        f"{args.select_top} finalists plus the untuned defaults (GCN, APPNP, MLP, GCNII) on "
        f"{args.select_seeds} seeds x the first {args.select_splits} split(s), best mean "
        "validation (gnn.select). defaults: the same selection over the defaults alone. Test: "
        f"seeds 100+ ({args.retrains} per graph; Actor: {args.split_retrains} per split on all "
        "10 splits), mean ± population sd over those runs, then over search seeds. CPU min: "
        "search (tuner workers) + selection; the machine's 2 cores were shared with other "
        "work, so wall time is not reported.",
        "",
        "| graph | method | selected (per seed) | val (selection) | test % | CPU min |",
        "|---|---|---|---|---|---|",
    ]
    for graph, rows in results.items():
        for method, runs in rows.items():
            picks = "; ".join(
                describe(r["config"]) + (" (a default)" if r.get("chose_default") else "")
                for r in runs
            )
            tests = [statistics.fmean(r["tests"]) for r in runs]
            spread = pct(runs[0]["tests"]) if len(runs) == 1 else pct(tests)
            lines.append(
                f"| {graph} | {method} | {picks} | "
                f"{100 * statistics.fmean(r['val'] for r in runs):.2f} | {spread} | "
                f"{statistics.fmean(r['cpu'] for r in runs) / 60:.1f} |"
            )
    lines += ["", "### Against the best untuned default (paired by search seed)", ""]
    for graph, rows in results.items():
        bar = statistics.fmean(rows["defaults"][0]["tests"])
        for method, runs in rows.items():
            if method == "defaults":
                continue
            diffs = [statistics.fmean(r["tests"]) - bar for r in runs]
            lines.append(
                f"* {graph}, {method}: "
                + ", ".join(f"{100 * d:+.2f}" for d in diffs)
                + f" points test vs the best default ({100 * bar:.2f})"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(1)
    data_dir = Path(args.data_dir) if args.data_dir else REPO.parent / "shared" / "data"
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="graph-generalise-"))
    work.mkdir(parents=True, exist_ok=True)
    records = Records(work / "records.jsonl")
    results = {}
    out = (
        REPO
        / "bench"
        / "results"
        / ("graph_generalise_quick.md" if args.quick else "graph_generalise.md")
    )
    for name in graph_names(args.graphs):
        results[name] = run_graph(name, args, records, work, data_dir)
        out.write_text(report(args, results), encoding="utf-8")  # partial figures as they come
        print(f"written {out}", flush=True)


if __name__ == "__main__":
    main()
