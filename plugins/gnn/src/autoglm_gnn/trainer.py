"""Full-batch node classification with early stopping on validation accuracy.

:func:`train_config` is the pure function behind ``gnn.train``: benchmarks and tuners call it
without the engine. Model selection sees validation data only: the kept model is the epoch with
the best validation accuracy (ties broken by lower validation loss), and test accuracy is
computed for that model alone, only when asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dgl
import torch
import torch.nn.functional as F
from torch import nn

from autoglm_gnn.checkpoint import save_checkpoint
from autoglm_gnn.config import TrainConfig
from autoglm_gnn.errors import GNNConfigError
from autoglm_gnn.models import build_member, count_parameters, parameter_groups
from autoglm_gnn.models.ensemble import SeedEnsemble, member_seed
from autoglm_gnn.runtime import resolve_device, seed_everything, set_threads
from autoglm_gnn.tensors import GraphTensors, load_tensors

#: ``callback(epoch, val_acc, best_val_acc)`` after every epoch; it may raise to stop training
#: (the node passes ``context.check_cancelled`` this way).
EpochCallback = Callable[[int, float, float], None]


@dataclass
class TrainResult:
    """What one training run produced; ``outputs()`` is the ``gnn.train`` output dict."""

    val_acc: float
    train_acc: float
    test_acc: float | None
    #: With ``ensemble`` > 1: the members' mean best epoch, and the epochs of all members.
    best_epoch: int
    epochs: int
    seconds: float
    checkpoint: str | None
    params: int
    val_loss: float = float("nan")
    model: nn.Module | None = field(default=None, repr=False)
    #: One character per validation node, in node order: "1" where the selected model is right.
    #: gnn.select compares candidates node by node, so validation-set noise is measured, not
    #: only seed noise.
    val_correct: str = field(default="", repr=False)

    def outputs(self) -> dict[str, Any]:
        result = asdict(self)
        for internal in ("model", "val_loss", "val_correct"):
            result.pop(internal)
        return result


def accuracy(logits: torch.Tensor, label: torch.Tensor, mask: torch.Tensor) -> float:
    """Accuracy over the nodes of ``mask`` (0.0 for an empty mask)."""
    count = int(mask.sum())
    if count == 0:
        return 0.0
    return float((logits[mask].argmax(-1) == label[mask]).sum()) / count


def correct_string(logits: torch.Tensor, label: torch.Tensor, mask: torch.Tensor) -> str:
    """ "1"/"0" per node of ``mask`` (in node order): is the prediction right."""
    right = (logits[mask].argmax(-1) == label[mask]).tolist()
    return "".join("1" if hit else "0" for hit in right)


def as_config(config: TrainConfig | dict[str, Any]) -> TrainConfig:
    """Validate a dict against :class:`TrainConfig`, naming the bad field on failure."""
    if isinstance(config, TrainConfig):
        return config
    try:
        return TrainConfig.model_validate(config)
    except Exception as exc:
        raise GNNConfigError(f"invalid gnn.train config: {exc}") from exc


def train_config(
    graph: str | Path | dgl.DGLGraph,
    config: TrainConfig | dict[str, Any],
    *,
    checkpoint_path: str | Path | None = None,
    callback: EpochCallback | None = None,
    metadata: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``config`` on ``graph`` (a graph file path or a DGL graph) and return the result.

    A checkpoint is written to ``checkpoint_path`` when ``config.save_checkpoint`` is set (the
    node passes a path under its artefacts folder).
    """
    cfg = as_config(config)
    started = time.perf_counter()
    set_threads(cfg.threads)
    device = resolve_device(cfg.device)
    data = load_tensors(graph, device, cfg.sparse_features)
    members, fits = [], []
    for member in range(cfg.ensemble):
        seed_everything(member_seed(cfg.seed, member))
        model = build_member(cfg, data.in_dim, data.num_classes).to(device)
        best = _fit(model, data, cfg, callback)
        model.load_state_dict(best["state"])
        members.append(model.eval())
        fits.append(best)
    model = members[0] if cfg.ensemble == 1 else SeedEnsemble(members).eval()
    with torch.no_grad():
        logits = model(data, data.feat)
    if cfg.ensemble > 1:
        val_loss = float(F.cross_entropy(logits[data.val_mask], data.label[data.val_mask]))
        best = {
            "epoch": round(sum(f["epoch"] for f in fits) / len(fits)),
            "epochs": sum(f["epochs"] for f in fits),
            "val_loss": val_loss,
        }
    test_acc = accuracy(logits, data.label, data.test_mask) if cfg.report_test else None
    result = TrainResult(
        val_acc=accuracy(logits, data.label, data.val_mask),
        train_acc=accuracy(logits, data.label, data.train_mask),
        test_acc=test_acc,
        best_epoch=best["epoch"],
        epochs=best["epochs"],
        seconds=0.0,
        checkpoint=None,
        params=count_parameters(model),
        val_loss=best["val_loss"],
        model=model,
        val_correct=correct_string(logits, data.label, data.val_mask),
    )
    if cfg.save_checkpoint:
        if checkpoint_path is None:
            raise GNNConfigError("save_checkpoint is set but no checkpoint path was given")
        info = {
            "graph": data.source,
            "val_acc": result.val_acc,
            "train_acc": result.train_acc,
            "best_epoch": result.best_epoch,
            **(metadata or {}),
        }
        result.checkpoint = save_checkpoint(
            checkpoint_path,
            model,
            cfg,
            in_dim=data.in_dim,
            num_classes=data.num_classes,
            metadata=info,
        )
    result.seconds = time.perf_counter() - started
    return result


def _fit(
    model: nn.Module, data: GraphTensors, cfg: TrainConfig, callback: EpochCallback | None
) -> dict[str, Any]:
    """The training loop; returns the best epoch's state dict and statistics."""
    optimiser = torch.optim.Adam(parameter_groups(model, cfg), lr=cfg.lr)
    train_label = data.label[data.train_mask]
    best: dict[str, Any] = {"val_acc": -1.0, "val_loss": float("inf"), "epoch": 0, "state": None}
    epoch = 0
    for epoch in range(1, cfg.max_epochs + 1):
        model.train()
        optimiser.zero_grad()
        logits = model(data, data.feat)
        loss = F.cross_entropy(logits[data.train_mask], train_label)
        loss.backward()
        optimiser.step()

        model.eval()
        with torch.no_grad():
            logits = model(data, data.feat)
            val_loss = float(F.cross_entropy(logits[data.val_mask], data.label[data.val_mask]))
        val_acc = accuracy(logits, data.label, data.val_mask)
        if val_acc > best["val_acc"] or (
            val_acc == best["val_acc"] and val_loss < best["val_loss"]
        ):
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best.update(val_acc=val_acc, val_loss=val_loss, epoch=epoch, state=state)
        if callback is not None:
            callback(epoch, val_acc, best["val_acc"])
        if epoch - best["epoch"] >= cfg.patience:
            break
    best["epochs"] = epoch
    return best
