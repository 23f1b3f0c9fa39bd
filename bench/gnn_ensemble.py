"""Seed ensembles against single models on Cora, Actor (10 splits) and a CSBM homophily sweep:
does averaging ``ensemble`` copies of a config help the final model, on every kind of graph?

For each graph file, config and fresh seed (100+) one ``gnn.train`` run with ``ensemble: n``
is trained; its member 0 *is* the single model of that seed (same seed, same code), so every
ensemble is compared with its own single model, paired. Configs: the untuned defaults (GCN,
APPNP, MLP, GCNII) and, where bench/graph_generalise.py has made them, its selections' picks.
Records are kept (one JSON line per run) and never recomputed; the report is rebuilt from
them. Writes bench/results/gnn_ensemble.md.

Usage (about 40 CPU-minutes; resumable):
    nohup nice -n 15 .venv/bin/python bench/gnn_ensemble.py > bench/out/gnn_ensemble.log 2>&1 &
    .venv/bin/python bench/gnn_ensemble.py --report-only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from graph_sets import ACTOR_SPLITS, build, graph_names, select_folder  # noqa: E402

OUT = REPO / "bench" / "results" / "gnn_ensemble.md"
PICKS = REPO / "bench" / "out" / "graph_generalise" / "units"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--graphs", default="cora,actor,csbm", help="cora, actor, csbm(-H)")
    add("--members", type=int, default=5, help="ensemble size")
    add("--seeds", type=int, default=3, help="fresh seeds per single graph (Actor: per split)")
    add("--actor-seeds", type=int, default=1)
    add("--picks", type=int, default=2, help="graph_generalise picks per graph (0: none)")
    add("--data-dir", default=str(REPO.parent / "shared" / "data"))
    add("--work-dir", default=str(REPO / "bench" / "out" / "gnn_ensemble"))
    add("--report-only", action="store_true")
    return parser.parse_args(argv)


def pct(values: list[float]) -> str:
    """Mean ± population sd, in %."""
    return f"{100 * statistics.fmean(values):.2f} ± {100 * statistics.pstdev(values):.2f}"


def searched_picks(graph: str, limit: int) -> list[dict[str, Any]]:
    """Distinct configs that graph_generalise's guarded selections picked, not defaults."""
    found: list[dict[str, Any]] = []
    for path in sorted((PICKS / graph / select_folder()).glob("*.json")):
        picked = json.loads(path.read_text())["value"]
        if not picked["chose_default"] and picked["config"] not in found:
            found.append(picked["config"])
    return found[:limit]


def run_one(path: str, config: dict[str, Any], seed: int, members: int) -> dict[str, Any]:
    """One ensemble run: its test and validation accuracy, and its member 0's (the single
    model of ``seed``)."""
    import torch

    from autoglm_gnn.tensors import load_tensors
    from autoglm_gnn.trainer import accuracy, as_config, train_config

    cfg = {**config, "seed": seed, "report_test": True, "ensemble": members}
    started = time.process_time()
    result = train_config(path, cfg)
    data = load_tensors(path, torch.device("cpu"), as_config(cfg).sparse_features)
    with torch.no_grad():
        single = result.model.members[0](data, data.feat)
    return {
        "ensemble_test": result.test_acc,
        "ensemble_val": result.val_acc,
        "single_test": accuracy(single, data.label, data.test_mask),
        "single_val": accuracy(single, data.label, data.val_mask),
        "cpu": time.process_time() - started,
    }


def file_names(graph: str) -> list[str]:
    """The graph files ``build`` writes for ``graph`` (Actor: one per split)."""
    if graph == "actor":
        return [f"actor-{split}.bin" for split in range(ACTOR_SPLITS)]
    return [f"{graph}.bin"]


def record_key(path: str, config: dict[str, Any], seed: int, members: int) -> str:
    return json.dumps([Path(path).name, config, seed, members], sort_keys=True)


def matches(row: dict[str, Any], names: list[str], config: dict[str, Any], members: int) -> bool:
    """Is ``row`` a run of ``config`` with ``members`` members on one of the files ``names``?"""
    name, trained, _seed, size = json.loads(row["key"])
    return name in names and trained == config and size == members


def load_records(log: Path) -> dict[str, dict[str, Any]]:
    if not log.is_file():
        return {}
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return {row["key"]: row for row in rows}


def plan(args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any]]]:
    """(graph, label, config) in run order: the defaults, then the searched picks."""
    from autoglm_gnn.selection import DEFAULT_LAYERS

    jobs = []
    for graph in graph_names(args.graphs):
        for layer in DEFAULT_LAYERS:
            jobs.append((graph, layer, {"layer": layer}))
        for index, config in enumerate(searched_picks(graph, args.picks)):
            jobs.append((graph, f"search pick {index + 1} ({config['layer']})", config))
    return jobs


def seeds_for(graph: str, args: argparse.Namespace) -> list[int]:
    return list(range(100, 100 + (args.actor_seeds if graph == "actor" else args.seeds)))


def measure(args: argparse.Namespace, log: Path) -> None:
    import torch

    torch.set_num_threads(1)
    records = load_records(log)
    work = Path(args.work_dir)
    for graph, label, config in plan(args):
        for path in build(graph, Path(args.data_dir), work / "graphs"):
            for seed in seeds_for(graph, args):
                key = record_key(path, config, seed, args.members)
                if key in records:
                    continue
                row = {"key": key, **run_one(path, config, seed, args.members)}
                with log.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                records[key] = row
                print(f"{graph} {label} {Path(path).name} seed {seed}: {row}", flush=True)


def report(args: argparse.Namespace, log: Path) -> str:
    from scipy import stats

    records = load_records(log)
    lines = [
        "## Seed ensembles against single models (gnn.train's `ensemble`)",
        "",
        f"`python bench/gnn_ensemble.py` (resumable). Each run trains a config with "
        f"`ensemble: {args.members}` on fresh seeds 100+ ({args.seeds} per single graph, "
        f"{args.actor_seeds} per Actor split on all 10); its member 0 is the single model of "
        "the same seed, so the two are paired run by run. Configs: the untuned defaults and "
        "the picks of bench/graph_generalise.py's guarded selections (search picks; Actor's "
        "and Cora's, where a selection picked a searched config). Test accuracy %, mean over "
        "runs ± population sd over runs (Actor: over splits); *gain*: ensemble minus single, "
        " with the paired t-test over runs (runs < 3: "
        "none). CPU: seconds per ensemble run (all members).",
        "",
        "| graph | config | runs | single test | ensemble test | gain | paired p "
        "| single val | ensemble val | CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    gains: dict[str, list[float]] = {}
    steadier: dict[str, list[bool]] = {}
    for graph, label, config in plan(args):
        names = file_names(graph)
        rows = [r for r in records.values() if matches(r, names, config, args.members)]
        if not rows:
            lines.append(f"| {graph} | {label} | 0 | not run yet | | | | | | |")
            continue
        single = [r["single_test"] for r in rows]
        ensemble = [r["ensemble_test"] for r in rows]
        diffs = [e - s for e, s in zip(ensemble, single, strict=True)]
        gains.setdefault(graph, []).extend(diffs)
        steadier.setdefault(graph, []).append(
            statistics.pstdev(ensemble) < statistics.pstdev(single)
        )
        p = (
            "-"
            if len(rows) < 3 or all(d == diffs[0] for d in diffs)
            else f"{stats.ttest_rel(ensemble, single).pvalue:.2g}"
        )
        lines.append(
            f"| {graph} | {label} | {len(rows)} | {pct(single)} | "
            f"{pct(ensemble)} | {100 * statistics.fmean(diffs):+.2f} | "
            f"{p} | {100 * statistics.fmean(r['single_val'] for r in rows):.2f} | "
            f"{100 * statistics.fmean(r['ensemble_val'] for r in rows):.2f} | "
            f"{statistics.fmean(r['cpu'] for r in rows):.1f} |"
        )
    lines += ["", "Per graph, every config's runs together:", ""]
    for graph, diffs in gains.items():
        better = sum(d > 0 for d in diffs)
        worse = sum(d < 0 for d in diffs)
        lines.append(
            f"* {graph}: mean gain {100 * statistics.fmean(diffs):+.2f} points over "
            f"{len(diffs)} runs ({better} better, {worse} worse, {len(diffs) - better - worse} "
            f"equal); smaller spread over runs for {sum(steadier[graph])} of "
            f"{len(steadier[graph])} configs"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "runs.jsonl"
    if not args.report_only:
        measure(args, log)
    OUT.write_text(report(args, log), encoding="utf-8")
    print(f"written {OUT}", flush=True)


if __name__ == "__main__":
    main()
