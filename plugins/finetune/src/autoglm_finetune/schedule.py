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


def take_step(loss: Any, optimizer: Any, scheduler: Any, clip: Any = None) -> float:
    """One optimiser step of every trainer here: back-propagate ``loss``, clip the gradients of
    ``clip`` (parameters) to norm 1 when given, step the optimiser and the schedule together
    (so the rate always matches the step count); the loss as a float, for the history."""
    import torch

    optimizer.zero_grad()
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(clip, 1.0)
    optimizer.step()
    scheduler.step()
    return float(loss)
