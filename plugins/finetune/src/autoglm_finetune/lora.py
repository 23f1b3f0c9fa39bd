"""LoRA fine-tuning of a causal LM on (text, completion) pairs, through ``peft``.

Low-rank adapters (Hu et al. 2021) train a few hundred thousand parameters instead of the whole
model. The prompt is ``template`` with the text; the loss counts only the completion's tokens
(and the end-of-sequence token), so the model learns to answer, not to repeat its inputs. The
adapter is saved on its own (``adapter/``, small, shareable) and, merged into the base weights,
as an ordinary model folder (``model/``) that every ``autoglm_hf`` adapter, ``hf.generate``,
``hf.score`` and the prompt nodes load like any downloaded checkpoint.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autoglm_finetune.schedule import take_step, warmup_linear_decay


@dataclass
class LoraSettings:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] | None = None
    lr: float = 2e-4
    epochs: int = 3
    batch_size: int = 8
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_length: int = 128
    seed: int = 0


def encode_pair(tokenizer: Any, prompt: str, completion: str, max_length: int):
    """Token ids of prompt + completion + EOS, and labels that ignore the prompt (-100)."""
    head = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    tail = tokenizer(completion, add_special_tokens=False)["input_ids"]
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    ids = (head + tail + eos)[-max_length:]
    labels = ([-100] * len(head) + tail + eos)[-max_length:]
    return ids, labels


def train_lora(
    model: Any,
    tokenizer: Any,
    pairs: list[tuple[str, str]],
    settings: LoraSettings,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> tuple[Any, list[float]]:
    """Wrap ``model`` with LoRA adapters and train them; returns the peft model and the mean
    loss of each epoch. Gradients are clipped to norm 1: one loss spike at a high rate can
    otherwise undo the training (seen on a tiny model at lr 1e-2)."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(settings.seed)
    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, config)
    peft_model.train()
    encoded = [encode_pair(tokenizer, p, c, settings.max_length) for p, c in pairs]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    trained = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trained,
        lr=settings.lr,
        weight_decay=settings.weight_decay,
    )
    steps = (len(encoded) + settings.batch_size - 1) // settings.batch_size
    total = steps * settings.epochs
    scheduler = warmup_linear_decay(optimizer, total, settings.warmup_ratio)
    rng = random.Random(settings.seed)
    history, step = [], 0
    for epoch in range(settings.epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        losses = []
        for start in range(0, len(order), settings.batch_size):
            check_cancelled()
            batch = [encoded[i] for i in order[start : start + settings.batch_size]]
            width = max(len(ids) for ids, _ in batch)
            ids = torch.tensor([x + [pad] * (width - len(x)) for x, _ in batch])
            labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
            mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
            loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
            losses.append(take_step(loss, optimizer, scheduler, clip=trained))
            step += 1
            if progress and (step % 10 == 0 or step == total):
                progress(step, total, f"epoch {epoch + 1} loss {np.mean(losses[-10:]):.4f}")
        history.append(float(np.mean(losses)))
    peft_model.eval()
    return peft_model, history
