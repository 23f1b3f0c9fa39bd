"""DGL's modules against our own CSR kernels, on Cora: accuracy and CPU time per trial, side
by side (issue 17: use DGL's modules, keep a layer of our own only where it is measured faster
at the same accuracy).

Per config and implementation: test accuracy (mean ± std over seeds 100+, selected by
validation), CPU seconds per trial (``time.process_time``: the machine is shared, so wall
time measures the neighbours) and CPU ms per epoch. Implementations:

* ``csr`` / ``dgl``: this tree's models with ``kernels: csr`` (torch CSR products for the
  parameter-free propagation) or ``kernels: dgl`` (DGL's ``GraphConv``, ``APPNPConv``,
  ``GCN2Conv``); GAT, GraphSAGE and GIN are DGL's modules under both;
* ``before`` (with ``--baseline-src``): an older checkout of ``plugins/gnn/src`` (e.g. the
  hand-written GCN/GAT/SAGE/GIN layers before issue 17), run in a child process::

      git archive <commit> plugins/gnn/src | tar -x -C old/
      python bench/gnn_kernels.py --baseline-src old/plugins/gnn/src

Writes bench/results/gnn_kernels.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "gnn_kernels.md"

#: The hand-set configs of bench/gnn_models.py (papers' settings), plus the new models.
CONFIGS: dict[str, dict[str, Any]] = {
    "gcn": dict(layer="gcn", hidden=16, lr=0.01, weight_decay=5e-4),
    "gat": dict(layer="gat", hidden=64, heads=8, dropout=0.6, input_dropout=0.6,
                attn_dropout=0.6, activation="elu", lr=0.005, weight_decay=5e-4),
    "sage": dict(layer="sage", hidden=64),
    "gin": dict(layer="gin", hidden=64),
    "appnp": dict(layer="appnp", hidden=64, k=10, alpha=0.1),
    "gcnii": dict(layer="gcnii", hidden=64, k=8, alpha=0.1, theta=0.5, dropout=0.6,
                  input_dropout=0.6),
    "gprgnn": dict(layer="gprgnn", hidden=64, k=10, alpha=0.1),
    "h2gcn": dict(layer="h2gcn", hidden=64, num_layers=1),
}  # fmt: skip
#: Configs whose layers exist before issue 17 (for the ``before`` column).
OLD_LAYERS = {"gcn", "gat", "sage", "gin", "appnp", "gcnii"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def measure(names: list[str], seeds: int, kernels: str | None) -> dict[str, dict[str, float]]:
    """Train each config ``seeds`` times on Cora; accuracy and CPU cost."""
    import torch

    torch.set_num_threads(1)
    from autoglm_gnn.paths import planetoid_dir
    from autoglm_gnn.planetoid import read_planetoid
    from autoglm_gnn.trainer import train_config

    graph = read_planetoid(planetoid_dir(), "cora")
    train_config(graph, {"max_epochs": 2})  # warm caches
    results = {}
    for name in names:
        extra = {"kernels": kernels} if kernels else {}
        tests, cpus, epochs = [], [], []
        for seed in range(100, 100 + seeds):
            started = time.process_time()
            run = train_config(graph, {**CONFIGS[name], **extra, "seed": seed, "report_test": True})
            cpus.append(time.process_time() - started)
            tests.append(run.test_acc)
            epochs.append(run.epochs)
        results[name] = {
            "test": statistics.fmean(tests),
            "std": statistics.pstdev(tests),
            "cpu": statistics.fmean(cpus),
            "ms_epoch": 1000 * sum(cpus) / sum(epochs),
        }
        print(kernels or "before", name, json.dumps(results[name]), file=sys.stderr, flush=True)
    return results


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(measure(args.configs, args.seeds, None)))
        return
    columns = {k: measure(args.configs, args.seeds, k) for k in ("csr", "dgl")}
    if args.baseline_src:
        old = [n for n in args.configs if n in OLD_LAYERS]
        env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
        cmd = [sys.executable, __file__, "--worker", "1", "--seeds", str(args.seeds)]
        done = subprocess.run([*cmd, "--configs", *old], env=env, capture_output=True, text=True)
        columns["before"] = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [
        "## DGL's modules against our CSR kernels (Cora)",
        "",
        f"`python bench/gnn_kernels.py --seeds {args.seeds}`"
        + (" --baseline-src <checkout before issue 17>" if args.baseline_src else "")
        + f" ({time.strftime('%Y-%m-%d')}): Cora public split, seeds 100+, one torch thread, "
        "test accuracy of the validation-selected epoch; CPU seconds per trial (early "
        "stopping, patience 100) and CPU ms per epoch, from `time.process_time` (2 shared "
        "cores; wall time would measure the neighbours' load).",
        "",
        "| config | " + " | ".join(f"{c}: test % / CPU s / ms per epoch" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name in args.configs:
        cells = []
        for column in columns.values():
            r = column.get(name)
            cells.append(
                f"{100 * r['test']:.2f} ± {100 * r['std']:.2f} / {r['cpu']:.2f} / "
                f"{r['ms_epoch']:.1f}"
                if r
                else "–"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "`csr` and `dgl` compute the same model for gcn, appnp, gprgnn and h2gcn (identical "
        "accuracies up to float summation order); GAT, GraphSAGE and GIN are DGL's modules in "
        "both columns; gcnii's `dgl` column is DGL's `GCN2Conv` (its own initialisation).",
        "",
        "Configs: " + "; ".join(f"`{n}` `{json.dumps(CONFIGS[n])}`" for n in args.configs),
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
