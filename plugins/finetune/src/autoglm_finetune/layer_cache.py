"""Frozen bottom layers computed once: the cost lever of full fine-tuning on a CPU.

Fine-tuning a 6-layer encoder end to end runs the whole model forward and backward for every
text in every epoch. With the embeddings and the bottom ``frozen_layers`` transformer layers
frozen, their output never changes, so it is computed once per text (``bottom_states``, no
gradients) and every epoch runs only the top layers on those cached hidden states
(``top_embeddings``): on all-MiniLM-L6-v2 with 4 of 6 layers frozen an epoch costs about a third
of one full forward pass instead of three.

Batches are built from texts of similar length (``length_batches``) and padded only to their
own longest text: intents are short, and padding every batch to ``max_length`` would spend most
of the compute on padding. Outputs always come back in the caller's order.

The layer walk assumes a BERT-like model (``embeddings`` then ``encoder.layer``), which
all-MiniLM-L6-v2 and the sentence-transformers MiniLM/MPNet/BERT encoders are.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np


def layer_count(model: Any) -> int:
    return len(model.encoder.layer)


def _mask(model: Any, attention: Any) -> Any:
    """Additive (batch, 1, 1, length) mask: what BERT's eager and SDPA attention both take
    (built here: ``get_extended_attention_mask`` is gone from transformers 5)."""
    import torch

    dtype = next(model.parameters()).dtype
    blocked = 1.0 - attention[:, None, None, :].to(dtype)
    return blocked * torch.finfo(dtype).min


def _run_layers(model: Any, hidden: Any, attention: Any, start: int, stop: int) -> Any:
    mask = _mask(model, attention)
    for layer in model.encoder.layer[start:stop]:
        out = layer(hidden, attention_mask=mask)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def length_batches(
    lengths: list[int], batch_size: int, rng: random.Random | None = None
) -> list[list[int]]:
    """Index batches of similar length. Without ``rng`` (evaluation): sorted by length. With
    it (training): :func:`bucketed` single texts, so batches stay random in content and order
    while padding stays small."""
    if rng is None:
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    return bucketed([[i] for i in range(len(lengths))], lengths, batch_size, rng)


def paired_batches(
    lengths: list[int], targets: list[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Training batches made of same-label pairs, so that every text (but a label's odd one
    out) meets a partner of its label. The supervised contrastive term learns only from such
    partners; with 64 intents and batches of 32, random batches leave about half the texts
    without one. Pairs are drawn afresh each epoch, then :func:`bucketed` by length as
    :func:`length_batches` does (a batch holds ``batch_size // 2`` pairs)."""
    by_label: dict[int, list[int]] = {}
    for index, label in enumerate(targets):
        by_label.setdefault(int(label), []).append(index)
    pairs: list[list[int]] = []
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        pairs += [members[s : s + 2] for s in range(0, len(members), 2)]
    return bucketed(pairs, lengths, max(1, batch_size // 2), rng)


def bucketed(
    units: list[list[int]], lengths: list[int], per_batch: int, rng: random.Random
) -> list[list[int]]:
    """Training batches of ``per_batch`` units (texts that must share a batch): the units
    shuffled, sorted by their longest text within pools of 16 batches, the batches shuffled."""
    rng.shuffle(units)
    pool = per_batch * 16
    batches: list[list[int]] = []
    for start in range(0, len(units), pool):
        chunk = sorted(units[start : start + pool], key=lambda u: max(lengths[i] for i in u))
        batches += [
            [i for unit in chunk[s : s + per_batch] for i in unit]
            for s in range(0, len(chunk), per_batch)
        ]
    rng.shuffle(batches)
    return batches


def bottom_states(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    max_length: int,
    frozen_layers: int,
    batch_size: int = 64,
) -> list[Any]:
    """Hidden states after the embeddings and the first ``frozen_layers`` layers, one
    (tokens, hidden) tensor per text without padding, in the order of ``texts``."""
    import torch

    lengths = [len(t) for t in texts]
    states: list[Any] = [None] * len(texts)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for idx in length_batches(lengths, batch_size):
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(model.device)
            hidden = model.embeddings(
                input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids")
            )
            attention = batch["attention_mask"]
            hidden = _run_layers(model, hidden, attention, 0, frozen_layers)
            for row, i in enumerate(idx):
                states[i] = hidden[row, : int(attention[row].sum())].clone()
    model.train(was_training)
    return states


def top_embeddings(model: Any, states: list[Any], frozen_layers: int) -> Any:
    """Mean-pooled, L2-normalised sentence embeddings of cached states through the remaining
    layers (with gradients when the model is training): ``embed_batch``'s output, computed
    from layer ``frozen_layers`` on."""
    import torch

    longest = max(s.shape[0] for s in states)
    hidden = states[0].new_zeros((len(states), longest, states[0].shape[1]))
    attention = torch.zeros((len(states), longest), dtype=torch.long, device=hidden.device)
    for row, s in enumerate(states):
        hidden[row, : s.shape[0]] = s
        attention[row, : s.shape[0]] = 1
    hidden = _run_layers(model, hidden, attention, frozen_layers, layer_count(model))
    mask = attention.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def embed_states(model: Any, states: list[Any], frozen_layers: int, batch_size: int = 64):
    """(n, hidden) numpy embeddings of cached states, no gradients, in the order given."""
    import torch

    if not states:
        return np.zeros((0, model.config.hidden_size), "float32")
    out = np.empty((len(states), model.config.hidden_size), dtype=np.float32)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for idx in length_batches([s.shape[0] for s in states], batch_size):
            out[idx] = top_embeddings(model, [states[i] for i in idx], frozen_layers).cpu().numpy()
    model.train(was_training)
    return out


def trainable_groups(
    model: Any, frozen_layers: int, lr: float, layer_decay: float
) -> list[dict[str, Any]]:
    """Freeze the embeddings and the bottom layers; one AdamW group per trained layer, the top
    one at ``lr`` and each lower one ``layer_decay`` times the one above (layer-wise decay:
    lower layers hold more general features, so they move less)."""
    for p in model.parameters():
        p.requires_grad_(False)
    layers = model.encoder.layer
    groups = []
    for depth, index in enumerate(range(len(layers) - 1, frozen_layers - 1, -1)):
        params = list(layers[index].parameters())
        for p in params:
            p.requires_grad_(True)
        groups.append({"params": params, "lr": lr * layer_decay**depth})
    return groups
