"""GCNII's untuned default: depth, dropout and epochs, side by side on Cora, a CSBM homophily
sweep and Actor. The decision it informs: which GCNII ``gnn.train`` (and so ``gnn.select``'s
bar) trains when a config names the layer and nothing else (``LAYER_DEFAULTS``).

Every variant trains with fresh seeds 100+ (Actor: one seed per split), one torch thread,
every field not named at gnn.train's shared defaults (hidden 64, input dropout 0.5, lr 0.01,
alpha 0.1, theta 0.5). Records are kept (one JSON line per run, never recomputed) and the
report is rebuilt from them. Writes bench/results/gcnii_depth.md.

Usage (resumable; about 1 CPU-hour for everything, Actor is most of it):
    nohup nice -n 15 .venv/bin/python bench/gcnii_depth.py > bench/out/gcnii_depth.log 2>&1 &
    .venv/bin/python bench/gcnii_depth.py --report-only
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

from graph_sets import build, graph_names  # noqa: E402

OUT = REPO / "bench" / "results" / "gcnii_depth.md"

#: name -> the fields set over gnn.train's shared defaults. ``k`` is GCNII's depth.
VARIANTS: dict[str, dict[str, Any]] = {
    "k10": {"k": 10, "dropout": 0.5, "max_epochs": 200},
    "k64": {"k": 64, "dropout": 0.5, "max_epochs": 200},
    "k64-e1000": {"k": 64, "dropout": 0.5, "max_epochs": 1000},
    "k32-e1000": {"k": 32, "dropout": 0.5, "max_epochs": 1000},
    "k10-e1000": {"k": 10, "dropout": 0.5, "max_epochs": 1000},
    "k10-d0.6-e1000": {"k": 10, "dropout": 0.6, "max_epochs": 1000},
    "k16-d0.6-e1000": {"k": 16, "dropout": 0.6, "max_epochs": 1000},
    "k32-d0.6-e1000": {"k": 32, "dropout": 0.6, "max_epochs": 1000},
    "k64-d0.6-e1000": {"k": 64, "dropout": 0.6, "max_epochs": 1000},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--graphs", default="cora,csbm,actor", help="cora, actor, csbm(-H)")
    add("--variants", default=",".join(VARIANTS), help="names of VARIANTS, in run order")
    add("--seeds", type=int, default=3, help="fresh seeds per single graph (Actor: 1 per split)")
    add("--data-dir", default=str(REPO.parent / "shared" / "data"))
    add("--work-dir", default=str(REPO / "bench" / "out" / "gcnii_depth"))
    add("--out", default=str(OUT))
    add("--report-only", action="store_true")
    return parser.parse_args(argv)


def config_of(variant: str, seed: int) -> dict[str, Any]:
    """The gnn.train config of ``variant``: GCNII, the variant's fields, test reported."""
    return {"layer": "gcnii", **VARIANTS[variant], "seed": seed, "report_test": True}


def run(args: argparse.Namespace, records: list[dict[str, Any]], path: Path) -> None:
    """Train every missing (graph, variant, file, seed); append each record as it finishes."""
    import torch

    from autoglm_gnn.trainer import train_config

    torch.set_num_threads(1)
    done = {(r["graph"], r["name"], r["file"], r["seed"]) for r in records}
    for graph in graph_names(args.graphs):
        files = build(graph, Path(args.data_dir), Path(args.work_dir) / "graphs")
        seeds = [100] if len(files) > 1 else list(range(100, 100 + args.seeds))
        for name in args.variants.split(","):
            for index, file in enumerate(files):
                for seed in seeds:
                    if (graph, name, index, seed) in done:
                        continue
                    started = time.process_time()
                    result = train_config(file, config_of(name, seed))
                    record = {
                        "graph": graph,
                        "name": name,
                        "file": index,
                        "seed": seed,
                        "val": result.val_acc,
                        "test": result.test_acc,
                        "cpu": time.process_time() - started,
                        "epochs": result.epochs,
                        "best": result.best_epoch,
                    }
                    records.append(record)
                    with path.open("a") as out:
                        out.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)


def cell(rows: list[dict[str, Any]]) -> str:
    """Test % (mean), validation % and n: one table cell."""
    if not rows:
        return ""
    test = 100 * statistics.fmean(r["test"] for r in rows)
    val = 100 * statistics.fmean(r["val"] for r in rows)
    return f"{test:.2f} (val {val:.1f}, n {len(rows)})"


def report(records: list[dict[str, Any]]) -> str:
    """The table: one row per variant, one column per graph, and Cora's CPU per run."""
    present = {r["graph"] for r in records}
    graphs = [g for g in graph_names("cora,csbm,actor") if g in present]
    graphs += sorted(present - set(graphs))
    lines = [
        "## GCNII's untuned default: depth, dropout, epochs (issue 17)",
        "",
        "`python bench/gcnii_depth.py`: GCNII variants at gnn.train's shared defaults "
        "otherwise, fresh seeds 100-102 (Actor: one seed on each of its 10 splits; fewer "
        "where n says so), one torch thread, early stopping after 100 epochs without a "
        "better validation accuracy. Test accuracy % (mean), validation % and runs. "
        "CPU s: CPU seconds per Cora run. `gnn.train` now defaults GCNII to the bold row.",
        "",
        "| variant | " + " | ".join(graphs) + " | CPU s (cora) |",
        "|---|" + "---|" * (len(graphs) + 1),
    ]
    default = deep_default()
    for name, fields in VARIANTS.items():
        mine = [r for r in records if r["name"] == name]
        if not mine:
            continue
        cora = [r["cpu"] for r in mine if r["graph"] == "cora"]
        label = ", ".join(f"{k} {v}" for k, v in fields.items())
        if fields == default:
            label = f"**{label}**"
        cells = [cell([r for r in mine if r["graph"] == g]) for g in graphs]
        cpu = f"{statistics.fmean(cora):.0f}" if cora else ""
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {cpu} |")
    return "\n".join(lines) + "\n"


def deep_default() -> dict[str, Any]:
    """gnn.train's GCNII default over the fields the variants set."""
    from autoglm_gnn.config import TrainConfig

    cfg = TrainConfig.model_validate({"layer": "gcnii"})
    return {"k": cfg.k, "dropout": cfg.dropout, "max_epochs": cfg.max_epochs}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    path = work / "runs.jsonl"
    records = [json.loads(x) for x in path.read_text().splitlines()] if path.is_file() else []
    if not args.report_only:
        run(args, records, path)
    Path(args.out).write_text(report(records))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
