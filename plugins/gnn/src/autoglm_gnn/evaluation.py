"""Retrain one configuration over several seeds and summarise: what a search's best config
scores on test data. Only this step reads test accuracy; the seed kept as "the" model (and
its checkpoint) is the one with the best validation accuracy, never the best test accuracy."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autoglm_gnn.trainer import as_config, train_config

#: Per-seed record: seed, val_acc, test_acc, train_acc, best_epoch, epochs, seconds, checkpoint.
SeedRecord = dict[str, Any]


def seed_config(config: dict[str, Any], seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """The config trained for ``seed``: the given config, overrides, then evaluation needs."""
    cfg = {**config, **overrides, "seed": seed, "report_test": True, "save_checkpoint": True}
    return as_config(cfg).model_dump()


def evaluate_config(
    graph: str | Path,
    config: dict[str, Any],
    seeds: list[int],
    checkpoint_dir: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    done: dict[tuple[int, int], SeedRecord] | None = None,
    on_seed: Callable[[SeedRecord], None] | None = None,
    extra_graphs: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Train ``config`` once per seed on ``graph`` and each of ``extra_graphs`` (other splits
    of the same graph), skipping (graph index, seed) pairs in ``done``, and summarise."""
    records: list[SeedRecord] = []
    for g_index, path in enumerate([graph, *extra_graphs]):
        for seed in seeds:
            previous = (done or {}).get((g_index, seed))
            if previous and Path(str(previous["checkpoint"])).is_file():
                records.append(previous)
                continue
            cfg = seed_config(config, seed, overrides or {})
            name = f"seed-{seed}.pt" if g_index == 0 else f"graph-{g_index}-seed-{seed}.pt"
            result = train_config(path, cfg, checkpoint_path=Path(checkpoint_dir) / name)
            record = {"seed": seed, "graph_index": g_index, **result.outputs()}
            records.append(record)
            if on_seed is not None:
                on_seed(record)
    return summarise(records, seed_config(config, seeds[0], overrides or {}))


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


def summarise(records: list[SeedRecord], config: dict[str, Any]) -> dict[str, Any]:
    """Mean/std over seeds; the best-validation seed's checkpoint (ties: lowest seed)."""
    test = [float(r["test_acc"]) for r in records]
    val = [float(r["val_acc"]) for r in records]
    best = max(records, key=lambda r: (r["val_acc"], -r.get("graph_index", 0), -r["seed"]))
    test_mean, test_std = _mean_std(test)
    val_mean, val_std = _mean_std(val)
    config = {k: v for k, v in config.items() if k not in ("seed", "report_test")}
    return {
        "test_mean": test_mean,
        "test_std": test_std,
        "val_mean": val_mean,
        "val_std": val_std,
        "test_accs": test,
        "val_accs": val,
        "seeds": [int(r["seed"]) for r in records],
        "graph_indices": [int(r.get("graph_index", 0)) for r in records],
        "best_seed": int(best["seed"]),
        "checkpoint": str(best["checkpoint"]),
        "seconds": sum(float(r["seconds"]) for r in records),
        "config": config,
    }
