"""The learning-rate schedule of every trainer here: linear warm-up, then linear decay to zero.

A constant rate (issue 19's naive fine-tune) either disturbs a pretrained model in its first
steps or stops improving late; warm-up then decay is the standard fix (BERT, SetFit, LoRA
recipes)."""

from __future__ import annotations

from typing import Any


def warmup_linear_decay(optimizer: Any, total: int, warmup_ratio: float) -> Any:
    """A ``LambdaLR`` rising linearly over ``warmup_ratio`` of ``total`` steps, then falling
    linearly to zero at the last step."""
    import torch

    warmup = max(1, int(total * warmup_ratio)) if warmup_ratio > 0 else 0

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
