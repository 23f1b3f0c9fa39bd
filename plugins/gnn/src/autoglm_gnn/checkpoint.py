"""Checkpoints: one file with the config, the state dict and metadata, so a model rebuilds
from the file alone. Saved with ``torch.save`` and loaded with ``weights_only=True``: only
tensors and plain values, never pickled code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.models import build_model

FORMAT = "autoglm-gnn/checkpoint"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """A reloaded model with what it was trained on."""

    model: nn.Module
    config: TrainConfig
    in_dim: int
    num_classes: int
    metadata: dict[str, Any]


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    config: TrainConfig,
    *,
    in_dim: int,
    num_classes: int,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Write ``model`` and everything needed to rebuild it to ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config.model_dump(),
        "in_dim": in_dim,
        "num_classes": num_classes,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    torch.save(payload, path)
    return str(path)


def load_checkpoint(path: str | Path, device: str = "cpu") -> Checkpoint:
    """Rebuild the model saved in ``path`` (in eval mode, on ``device``)."""
    path = Path(path)
    if not path.is_file():
        raise GraphFileError(path, "checkpoint file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise GraphFileError(path, f"not a readable torch checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise GraphFileError(path, f"expected a {FORMAT!r} checkpoint, found {found!r}")
    if payload.get("format_version") != FORMAT_VERSION:
        raise GraphFileError(
            path,
            f"checkpoint format version {payload.get('format_version')} is not supported "
            f"(this plugin reads version {FORMAT_VERSION})",
        )
    config = TrainConfig.model_validate(payload["config"])
    model = build_model(config, payload["in_dim"], payload["num_classes"])
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise GraphFileError(path, f"state dict does not fit the saved config ({exc})") from exc
    model.to(device).eval()
    return Checkpoint(
        model=model,
        config=config,
        in_dim=payload["in_dim"],
        num_classes=payload["num_classes"],
        metadata=payload["metadata"],
    )
