"""Untuned defaults on Cora, Actor (10 splits) and a CSBM homophily sweep: which models can
win where, and what "the best default chosen by validation" scores (the bar a search must
clear, issue 17).

Every model runs at gnn.train's defaults (hidden 64, dropouts 0.5, lr 0.01, weight decay 5e-4,
200 epochs, k 10, alpha 0.1) with fresh seeds 100+, one torch thread. Per graph: test and
validation accuracy, mean ± std over splits x seeds, seconds per trial; then the default with
the best mean validation accuracy and its test accuracy. Writes bench/results/gnn_defaults.md.

Usage (about 30-60 minutes on 2 loaded cores; run it in the background):
    nohup .venv/bin/python bench/gnn_defaults.py > bench/out/gnn_defaults.log 2>&1 &
    .venv/bin/python bench/gnn_defaults.py --graphs cora --seeds 1 --models gcn mlp --quick
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from graph_sets import build, graph_names, short_hash  # noqa: E402

MODELS = ("gcn", "appnp", "mlp", "gcnii", "gprgnn", "h2gcn", "gat", "sage")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", default="cora,actor,csbm", help="cora, actor, csbm")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=5, help="seeds per graph (Actor: per split)")
    parser.add_argument("--actor-seeds", type=int, default=1, help="seeds per Actor split")
    parser.add_argument("--data-dir", default=os.environ.get("AUTOGLM_DATA_DIR"))
    parser.add_argument(
        "--work-dir",
        default=str(REPO / "bench" / "out" / "gnn_defaults"),
        help="graph files and per-run records (kept: a rerun trains only what is missing)",
    )
    parser.add_argument("--quick", action="store_true", help="write gnn_defaults_quick.md")
    parser.add_argument(
        "--report-only", action="store_true", help="write the table from --work-dir's records"
    )
    return parser.parse_args()


def pct(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.fmean(values):.2f} ± {100 * statistics.pstdev(values):.2f}"


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(1)
    from autoglm_gnn.selection import DEFAULT_LAYERS
    from autoglm_gnn.trainer import train_config

    data_dir = Path(args.data_dir) if args.data_dir else REPO.parent / "shared" / "data"
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    records_path = work / "records.jsonl"
    records = [json.loads(x) for x in records_path.read_text().splitlines()] if (
        records_path.is_file()
    ) else []  # fmt: skip
    records = current(records)
    done = {(r["graph"], r["model"], r["split"], r["seed"]) for r in records}
    if args.report_only:
        write(args, records, DEFAULT_LAYERS)
        return
    for name in graph_names(args.graphs):
        files = build(name, data_dir, work / "graphs")
        seeds = args.actor_seeds if name == "actor" else args.seeds
        for model in args.models:
            for split, path in enumerate(files):
                for seed in range(100, 100 + seeds):
                    if (name, model, split, seed) in done:
                        continue
                    config = {"layer": model, "seed": seed, "report_test": True}
                    result = train_config(path, config)
                    record = {
                        "graph": name, "model": model, "split": split, "seed": seed,
                        "config": default_key(model),
                        "val": result.val_acc, "test": result.test_acc,
                        "seconds": result.seconds, "epochs": result.epochs,
                    }  # fmt: skip
                    records.append(record)
                    with records_path.open("a") as f:
                        f.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)
        write(args, records, DEFAULT_LAYERS)
    print(f"records in {records_path}")


@functools.cache
def default_key(model: str) -> str:
    """Names the full config ``{"layer": model}`` trains today. Records carry it, and only
    records of today's defaults are read: a changed default (GCNII's depth) is re-measured,
    never reported under its old figures."""
    from autoglm_gnn.config import TrainConfig

    return short_hash(TrainConfig.model_validate({"layer": model}).model_dump())


def current(records: list[dict]) -> list[dict]:
    """The records made with today's default of their model (older ones are re-measured)."""
    return [r for r in records if r.get("config") == default_key(r["model"])]


def best_by_val(vals: dict[str, tuple[float, list[float]]], pool) -> str:
    """The model of ``pool`` with the best mean validation accuracy, and its test figure."""
    pool = [m for m in pool if m in vals]
    if not pool:
        return "–"
    pick = max(pool, key=lambda m: vals[m][0])
    return f"{pick}: {pct(vals[pick][1])}"


def write(args: argparse.Namespace, records: list[dict], defaults: tuple[str, ...]) -> None:
    graphs = list(dict.fromkeys(r["graph"] for r in records))
    models = [m for m in args.models if any(r["model"] == m for r in records)]
    lines = [
        "## Untuned defaults on Cora, Actor and a CSBM homophily sweep",
        "",
        f"`python bench/gnn_defaults.py --seeds {args.seeds} --actor-seeds {args.actor_seeds}`"
        f" ({time.strftime('%Y-%m-%d')}): every model at gnn.train's defaults, fresh seeds "
        "100+, one torch thread, 2 CPU cores shared with other work. Test accuracy % (mean ± "
        "population std over splits x seeds; Actor: its 10 standard splits, one seed each); "
        "val = mean validation accuracy; n = runs measured (fewer than planned where the "
        "benchmark was stopped: a partial figure); s = mean wall seconds per trial (early "
        "stopping, patience 100). "
        "CSBM: gnn.synthetic defaults (1,000 nodes, 4 classes, 32 features, signal 1.0) at the "
        "given edge homophily.",
        "",
        "| graph | " + " | ".join(models) + " | best default by val "
        f"({', '.join(defaults)}) | best of all by val |",
        "|---|" + "---|" * (len(models) + 2),
    ]
    for graph in graphs:
        cells, vals = [], {}
        for model in models:
            rows = [r for r in records if r["graph"] == graph and r["model"] == model]
            if not rows:
                cells.append("–")
                continue
            vals[model] = (
                statistics.fmean(r["val"] for r in rows),
                [r["test"] for r in rows],
            )
            seconds = statistics.fmean(r["seconds"] for r in rows)
            cells.append(
                f"{pct([r['test'] for r in rows])} (val {100 * vals[model][0]:.1f}, "
                f"n {len(rows)}, {seconds:.1f} s)"
            )

        lines.append(
            f"| {graph} | "
            + " | ".join(cells)
            + f" | {best_by_val(vals, defaults)} | {best_by_val(vals, models)} |"
        )
    lines += [
        "",
        "Reference test accuracies: Cora GCN 81.5, APPNP 83.3, GCNII 85.5 (tuned, 64 layers); "
        "Actor GCN 27-30, MLP 35.8-36.5, H2GCN 35.9, GCNII 37.4, GloGNN 37.7 (tuned).",
    ]
    name = "gnn_defaults_quick.md" if args.quick else "gnn_defaults.md"
    out = REPO / "bench" / "results" / name
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    main()
