"""GNN model benchmark on Cora's public split: each layer type of gnn.train's search space
with a reasonable hand-set config, side by side.

For every config: test accuracy (selected by validation accuracy, mean and std over seeds),
validation accuracy, trial time and epochs, with the sparse first layer (the default); then
the dense first layer on the first seed, and a fixed 200-epoch timing of both paths. The
published baselines it is read against: GCN 81.5, GAT 83.0, APPNP 83.3, GCNII 85.5; the
search target is 83.5. Writes bench/results/gnn_models.md.

Usage (about 15 minutes on 2 cores; one torch thread per trial, like a tuner trial):
    nohup .venv/bin/python bench/gnn_models.py > bench/out/gnn_models.log 2>&1 &
    .venv/bin/python bench/gnn_models.py --seeds 2 --configs gcn appnp --no-dense
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "gnn_models.md"
TARGET = 0.835
#: The fidelity cap of the Cora search workflow: configs trained longer are rerun at it.
SEARCH_MAX_EPOCHS = 200
#: Published Cora test accuracies (GCNII: its 64-layer model; SGC: the SGC paper).
PUBLISHED = {"gcn": 81.5, "gat": 83.0, "appnp": 83.3, "gcnii": 85.5, "sgc": 81.0}

#: Hand-set configs, one or two per layer type: the settings of the original papers where
#: they exist (GCN, GAT, APPNP, GCNII on Cora; GCNII with 8 instead of 64 layers to keep a
#: trial within a minute), plain sensible values otherwise, and "-tuned" variants found by
#: hand (strong input dropout) that show how far the space reaches.
CONFIGS: dict[str, dict[str, Any]] = {
    "gcn": dict(layer="gcn", hidden=16, dropout=0.5, input_dropout=0.5, lr=0.01,
                weight_decay=5e-4),
    "gcn-tuned": dict(layer="gcn", hidden=64, dropout=0.5, input_dropout=0.8, lr=0.01,
                      weight_decay=1e-3, max_epochs=300),
    "gat": dict(layer="gat", hidden=64, heads=8, dropout=0.6, input_dropout=0.6,
                attn_dropout=0.6, activation="elu", lr=0.005, weight_decay=5e-4,
                max_epochs=300),
    "sage": dict(layer="sage", aggregator="mean", hidden=64, dropout=0.5, input_dropout=0.5,
                 lr=0.01, weight_decay=5e-4),
    "gin": dict(layer="gin", hidden=64, dropout=0.5, input_dropout=0.5, lr=0.01,
                weight_decay=5e-4),
    "mlp": dict(layer="mlp", hidden=64, dropout=0.5, input_dropout=0.5, lr=0.01,
                weight_decay=5e-4),
    "sgc": dict(layer="sgc", num_layers=1, k=2, dropout=0.0, input_dropout=0.0, lr=0.2,
                weight_decay=5e-5),
    "appnp": dict(layer="appnp", hidden=64, k=10, alpha=0.1, dropout=0.5, input_dropout=0.5,
                  lr=0.01, weight_decay=5e-4, max_epochs=300),
    "appnp-tuned": dict(layer="appnp", hidden=128, k=10, alpha=0.1, dropout=0.5,
                        input_dropout=0.9, lr=0.01, weight_decay=1e-3, max_epochs=300),
    "gcnii": dict(layer="gcnii", hidden=64, k=8, alpha=0.1, theta=0.5, dropout=0.6,
                  input_dropout=0.6, lr=0.01, weight_decay=5e-4, conv_weight_decay=0.01,
                  max_epochs=1000),
    "gcnii-16": dict(layer="gcnii", hidden=64, k=16, alpha=0.1, theta=0.5, dropout=0.6,
                     input_dropout=0.6, lr=0.01, weight_decay=5e-4, conv_weight_decay=0.01,
                     max_epochs=1000),
}  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="training seeds per config")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), help="config names")
    parser.add_argument("--no-dense", action="store_true", help="skip the dense-input runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="markdown results file")
    return parser.parse_args()


def run_config(graph, config: dict[str, Any], seeds: int, sparse: str) -> dict[str, Any]:
    from autoglm_gnn.trainer import train_config

    runs = [
        train_config(graph, {**config, "seed": s, "report_test": True, "sparse_features": sparse})
        for s in range(seeds)
    ]
    test = [r.test_acc for r in runs]
    return {
        "test_mean": statistics.fmean(test),
        "test_std": statistics.pstdev(test) if len(test) > 1 else 0.0,
        "val_mean": statistics.fmean(r.val_acc for r in runs),
        "seconds": statistics.fmean(r.seconds for r in runs),
        "epochs": statistics.fmean(r.epochs for r in runs),
        "ms_per_epoch": 1000 * sum(r.seconds for r in runs) / sum(r.epochs for r in runs),
        "params": runs[0].params,
    }


def fixed_epochs_timing(graph, config: dict[str, Any], sparse: str) -> float:
    """Seconds for exactly 200 epochs (no early stop), the design notes' trial unit."""
    from autoglm_gnn.trainer import train_config

    full = {**config, "max_epochs": 200, "patience": 200, "sparse_features": sparse}
    return train_config(graph, full).seconds


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(1)
    from autoglm_gnn.paths import planetoid_dir
    from autoglm_gnn.planetoid import read_planetoid
    from autoglm_gnn.trainer import train_config

    graph = read_planetoid(planetoid_dir(), "cora")
    train_config(graph, {"max_epochs": 2})  # warm up kernels and caches
    rows = []
    for name in args.configs:
        config = CONFIGS[name]
        started = time.perf_counter()
        sparse = run_config(graph, config, args.seeds, "on")
        dense = None if args.no_dense else run_config(graph, config, 1, "off")
        timing = None
        if not args.no_dense and name in ("gcn", "gat", "appnp", "gcnii"):
            timing = (fixed_epochs_timing(graph, config, "on"),
                      fixed_epochs_timing(graph, config, "off"))  # fmt: skip
        capped = None
        if config.get("max_epochs", 200) > SEARCH_MAX_EPOCHS:
            capped = run_config(
                graph, {**config, "max_epochs": SEARCH_MAX_EPOCHS}, args.seeds, "on"
            )
        rows.append((name, config, sparse, dense, timing, capped))
        print(
            f"{name}: test {100 * sparse['test_mean']:.2f} ± {100 * sparse['test_std']:.2f} "
            f"val {100 * sparse['val_mean']:.2f} trial {sparse['seconds']:.2f}s "
            f"dense {dense['seconds'] if dense else '-'}s, 200-epoch timing {timing} "
            f"[{time.perf_counter() - started:.0f}s]",
            flush=True,
        )
    write_markdown(args, rows)


def write_markdown(args: argparse.Namespace, rows: list) -> None:
    lines = [
        "## GNN models on Cora (gnn plugin)",
        "",
        f"`python bench/gnn_models.py --seeds {args.seeds}`: Cora public split (140/500/1000), "
        f"{args.seeds} seeds per config, test accuracy of the epoch selected by validation "
        "accuracy (early stopping, patience 100), one torch thread per trial, CPU "
        f"({os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        "shared with other work while measured). Trial time = one full training run including "
        "early stopping; dense = the same config with `sparse_features: off`, seed 0.",
        "",
        "| config | test acc % (mean ± std) | published | val acc % | trial s (sparse) "
        "| epochs | ms/epoch sparse | trial s (dense) | ms/epoch dense | dense test % | params |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, _config, sparse, dense, _timing, _capped in rows:
        published = PUBLISHED.get(name)
        lines.append(
            f"| {name} | {100 * sparse['test_mean']:.2f} ± {100 * sparse['test_std']:.2f} "
            f"| {published if published else '–'} | {100 * sparse['val_mean']:.2f} "
            f"| {sparse['seconds']:.2f} | {sparse['epochs']:.0f} | {sparse['ms_per_epoch']:.1f} "
            + (
                f"| {dense['seconds']:.2f} | {dense['ms_per_epoch']:.1f} "
                f"| {100 * dense['test_mean']:.1f} "
                if dense
                else "| – | – | – "
            )
            + f"| {sparse['params']:,} |"
        )
    timings = [(name, t) for name, _c, _s, _d, t, _cap in rows if t]
    if timings:
        lines += ["", "Exactly 200 epochs (no early stop), seed 0:", ""]
        lines += ["| config | sparse first layer (s) | dense first layer (s) | speed-up |"]
        lines += ["|---|---|---|---|"]
        for name, (sparse_s, dense_s) in timings:
            lines.append(f"| {name} | {sparse_s:.2f} | {dense_s:.2f} | {dense_s / sparse_s:.1f}x |")
    capped = [(name, cap) for name, _c, _s, _d, _t, cap in rows if cap]
    if capped:
        lines += [
            "",
            f"Configs trained longer than {SEARCH_MAX_EPOCHS} epochs, rerun with "
            f"max_epochs {SEARCH_MAX_EPOCHS} (the search's full fidelity):",
            "",
        ]
        lines += ["| config | test acc % (mean ± std) | val acc % | trial s |", "|---|---|---|---|"]
        for name, cap in capped:
            lines.append(
                f"| {name} | {100 * cap['test_mean']:.2f} ± {100 * cap['test_std']:.2f} "
                f"| {100 * cap['val_mean']:.2f} | {cap['seconds']:.2f} |"
            )
    above = [name for name, _c, s, _d, _t, _cap in rows if s["test_mean"] >= TARGET]
    lines += [
        "",
        f"Configs at or above the {100 * TARGET:.1f}% target (mean over seeds): "
        + (", ".join(f"`{n}`" for n in above) if above else "none")
        + ".",
        "",
        "Notes: GCNII runs with 8 and 16 layers, not the paper's 64 (a 64-layer trial takes "
        "minutes on this CPU). ms/epoch includes the evaluation pass of every epoch. Timings "
        "move with the load of the shared machine; compare columns of one run.",
        "",
        "Configs (every other field at its `gnn.train` default; max_epochs 200 unless given):",
        "",
    ]
    for name, config, *_ in rows:
        lines.append(f"- `{name}`: `{ {k: v for k, v in config.items()} }`")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
