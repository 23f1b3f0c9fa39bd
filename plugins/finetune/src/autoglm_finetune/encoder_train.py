"""Fine-tuning a sentence encoder with torch: full classification fine-tuning and a contrastive
(SetFit-like) mode.

Both keep the encoder's own sentence embedding (mean pooling over real tokens, L2-normalised:
what ``autoglm_hf``'s ``HFEncoder`` computes), so a fine-tuned encoder saved with
``save_pretrained`` is loaded back by the same adapter as any encoder and predicts exactly as it
was trained.

* **Full fine-tuning**: a linear head on the embedding, cross-entropy, AdamW with one learning
  rate for the encoder and a larger one for the head, linear warm-up then linear decay, and
  early stopping on validation accuracy (the weights of the best epoch are kept). The head can
  start from a logistic probe fitted on the frozen embeddings (``init_head: probe``, "LP-FT",
  Kumar et al. 2022): the encoder is then not pulled around by a random head in the first steps.
* **Contrastive** (Tunstall et al. 2022, SetFit): pairs of training texts, positive when they
  share a label, negative otherwise; the encoder is trained so that the cosine of a pair's
  embeddings approaches 1 or 0 (the cosine-similarity loss), then a logistic head is fitted on
  the new embeddings. Strong with few examples per label.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autoglm_finetune.schedule import take_step, warmup_linear_decay

Progress = Callable[[int, int, str], None]


@dataclass
class Observers:
    """Read-only hooks into ``finetune_classifier``'s loop, for measurements made beside the
    training they observe (weight averages, other heads on the same run) without a second
    copy of the loop: ``after_step(params)`` after every optimiser step, and
    ``after_epoch(epoch, model, head, params)`` at each epoch's end (1-based epoch; ``params``:
    the trained parameters, the head's last). An observer that changes them changes the
    training."""

    after_step: Callable[[list[Any]], None] | None = None
    after_epoch: Callable[[int, Any, Any, list[Any]], None] | None = None


@dataclass
class TrainSettings:
    lr: float = 5e-5
    head_lr: float = 1e-3
    epochs: int = 3
    batch_size: int = 32
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    patience: int = 2
    max_length: int = 64
    seed: int = 0
    frozen_layers: int = 0
    layer_decay: float = 1.0
    label_smoothing: float = 0.0
    contrastive_weight: float = 0.0
    consistency_weight: float = 0.0
    temperature: float = 0.1


def settings_of(cfg: Any) -> TrainSettings:
    """The training settings a ``finetune.classifier`` config asks for (the node and the
    benchmarks that rebuild its runs share this one mapping)."""
    fields = [f for f in TrainSettings.__dataclass_fields__ if f != "temperature"]
    return TrainSettings(**{f: getattr(cfg, f) for f in fields})


def load_trainable(path: str) -> tuple[Any, Any]:
    """(model, tokenizer) of an encoder folder, in float32 on the CPU, in training mode."""
    from transformers import AutoModel, AutoTokenizer

    from autoglm_hf.api import from_pretrained, resolve_model

    resolved = resolve_model(path)
    tokenizer = from_pretrained(AutoTokenizer.from_pretrained, resolved, "tokenizer")
    model = from_pretrained(AutoModel.from_pretrained, resolved, "encoder")
    return model.float().train(), tokenizer


def embed_batch(model: Any, tokenizer: Any, texts: list[str], max_length: int) -> Any:
    """Mean-pooled, L2-normalised embeddings with gradients (HFEncoder's pooling)."""
    import torch

    batch = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    ).to(model.device)
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def embed_all(model: Any, tokenizer: Any, texts: list[str], max_length: int, batch: int = 64):
    import torch

    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch):
            out.append(embed_batch(model, tokenizer, texts[start : start + batch], max_length))
    model.train(was_training)
    if not out:
        return np.zeros((0, model.config.hidden_size), "float32")
    return torch.cat(out).cpu().numpy()


@dataclass
class InMemoryEncoder:
    """A model still in memory behind the encoder adapter's ``embed`` (what a checkpoint's
    ``Classifier`` calls), so it predicts before it is saved exactly as it will after."""

    model: Any
    tokenizer: Any
    max_length: int

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return embed_all(self.model, self.tokenizer, texts, self.max_length, batch_size)


def finetune_classifier(
    model: Any,
    tokenizer: Any,
    train: tuple[list[str], list[int]],
    validation: tuple[list[str], list[int]],
    classes: int,
    settings: TrainSettings,
    *,
    init_head: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Progress | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
    cached: tuple[list[Any], list[Any]] | None = None,
    observers: Observers | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], list[dict[str, float]], np.ndarray]:
    """Full fine-tuning in place of the layers above ``settings.frozen_layers`` (the bottom
    ones run once, ``layer_cache``; ``cached``: their train and validation states from
    ``frozen_states``, shared by seeded members); returns the head (weight (d, classes), bias)
    of the best validation epoch (the model holds that epoch's weights too), the per-epoch
    history and that epoch's validation embeddings (for blending with a probe).

    With no validation rows (a refit on train + validation, whose epochs were chosen before)
    every epoch runs and the last one is kept."""
    import torch

    from autoglm_finetune import layer_cache as lc

    torch.manual_seed(settings.seed)
    texts, targets = train
    frozen = frozen_count(model, settings)
    states, val_states = cached or frozen_states(model, tokenizer, texts, validation[0], settings)
    head = torch.nn.Linear(model.config.hidden_size, classes).to(model.device)
    if init_head is not None:
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(init_head[0].T))
            head.bias.copy_(torch.from_numpy(init_head[1]))
    groups = lc.trainable_groups(model, frozen, settings.lr, settings.layer_decay)
    trained = [p for g in groups for p in g["params"]] + list(head.parameters())
    optimizer = torch.optim.AdamW(
        [*groups, {"params": head.parameters(), "lr": settings.head_lr}],
        weight_decay=settings.weight_decay,
    )
    lengths = [s.shape[0] for s in states]

    def epoch_batches(rng: random.Random) -> list[list[int]]:
        if settings.contrastive_weight:  # the contrastive term needs same-label partners
            return lc.paired_batches(lengths, targets, settings.batch_size, rng)
        return lc.length_batches(lengths, settings.batch_size, rng)

    steps_per_epoch = len(epoch_batches(random.Random(0)))  # the same count every epoch
    total = steps_per_epoch * settings.epochs
    scheduler = warmup_linear_decay(optimizer, total, settings.warmup_ratio)
    rng = random.Random(settings.seed)
    y = torch.tensor(targets, device=model.device)
    best: tuple[float, dict, dict, np.ndarray] | None = None
    history: list[dict[str, float]] = []
    stale, step = 0, 0
    for epoch in range(settings.epochs):
        model.train()
        losses = []
        for idx in epoch_batches(rng):
            check_cancelled()
            batch = [states[i] for i in idx]
            embedded = lc.top_embeddings(model, batch, frozen)
            loss = classification_loss(
                head(embedded),
                y[idx],
                settings,
                lambda states=batch: head(lc.top_embeddings(model, states, frozen)),
            )
            if settings.contrastive_weight:
                loss = loss + settings.contrastive_weight * supervised_contrastive(
                    embedded, y[idx], settings.temperature
                )
            losses.append(take_step(loss, optimizer, scheduler, clip=trained))
            if observers and observers.after_step:
                observers.after_step(trained)
            step += 1
            if progress and (step % 20 == 0 or step == total):
                progress(step, total, f"epoch {epoch + 1} loss {np.mean(losses[-20:]):.4f}")
        if observers and observers.after_epoch:
            observers.after_epoch(epoch + 1, model, head, trained)
        row: dict[str, float] = {"epoch": epoch + 1, "loss": float(np.mean(losses))}
        if not validation[1]:
            history.append(row)
            continue
        xv = lc.embed_states(model, val_states, frozen)
        accuracy = _accuracy(head, xv, validation[1])
        history.append({**row, "val": accuracy})
        if best is None or accuracy > best[0]:
            stale = 0
            best = (
                accuracy,
                {k: v.detach().clone() for k, v in model.state_dict().items()},
                {k: v.detach().clone() for k, v in head.state_dict().items()},
                xv,
            )
        else:
            stale += 1
            if stale >= settings.patience:
                break
    if best is None:  # no validation: the last epoch's weights, no validation embeddings
        vectors = np.zeros((0, model.config.hidden_size), "float32")
        if progress:
            progress(total, total, f"trained {len(history)} epochs on every row")
    else:
        if progress:
            epochs_run = len(history)
            progress(total, total, f"best validation accuracy {best[0]:.4f} ({epochs_run} epochs)")
        model.load_state_dict(best[1])
        head.load_state_dict(best[2])
        vectors = best[3]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)
    weight = head.weight.detach().cpu().numpy().T.copy()
    return (weight, head.bias.detach().cpu().numpy().copy()), history, vectors


def classification_loss(
    logits: Any, targets: Any, settings: TrainSettings, second_pass: Callable[[], Any]
) -> Any:
    """Cross-entropy (label-smoothed); with ``consistency_weight`` the R-Drop form: the batch's
    second pass (other dropout masks) joins the mean cross-entropy, and the symmetric KL
    divergence between the two predictions, weighted, asks the network to predict the same
    whichever units dropout removed."""
    import torch

    def cross_entropy(scores: Any) -> Any:
        return torch.nn.functional.cross_entropy(
            scores, targets, label_smoothing=settings.label_smoothing
        )

    if not settings.consistency_weight:
        return cross_entropy(logits)
    other = second_pass()
    log_p, log_q = logits.log_softmax(-1), other.log_softmax(-1)
    kl = torch.nn.functional.kl_div
    symmetric = 0.5 * (
        kl(log_p, log_q, log_target=True, reduction="batchmean")
        + kl(log_q, log_p, log_target=True, reduction="batchmean")
    )
    return 0.5 * (cross_entropy(logits) + cross_entropy(other)) + (
        settings.consistency_weight * symmetric
    )


def supervised_contrastive(embedded: Any, labels: Any, temperature: float) -> Any:
    """Supervised contrastive loss (Khosla et al. 2020) over one batch of L2-normalised
    embeddings: each text is pulled towards the batch's other texts of its label and pushed
    from the rest. Texts with no partner of their label in the batch do not count."""
    import torch

    similarity = embedded @ embedded.T / temperature
    own = torch.eye(len(labels), dtype=torch.bool, device=embedded.device)
    similarity = similarity.masked_fill(own, float("-inf"))
    log_prob = similarity - torch.logsumexp(similarity, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~own
    counts = positive.sum(1)
    anchors = counts > 0
    if not anchors.any():
        return embedded.sum() * 0.0
    mean_positive = log_prob.masked_fill(~positive, 0.0).sum(1)[anchors] / counts[anchors]
    return -mean_positive.mean()


def frozen_count(model: Any, settings: TrainSettings) -> int:
    """Frozen bottom layers, capped so at least the top layer trains."""
    from autoglm_finetune.layer_cache import layer_count

    return min(settings.frozen_layers, layer_count(model) - 1)


def frozen_states(
    model: Any, tokenizer: Any, texts: list[str], val_texts: list[str], settings: TrainSettings
) -> tuple[list[Any], list[Any]]:
    """Train and validation hidden states after the frozen bottom layers (computed once)."""
    from autoglm_finetune.layer_cache import bottom_states

    frozen = frozen_count(model, settings)
    return (
        bottom_states(model, tokenizer, texts, settings.max_length, frozen),
        bottom_states(model, tokenizer, val_texts, settings.max_length, frozen),
    )


@dataclass
class Member:
    """One seeded fine-tune: its model (best epoch's weights), head, history and validation
    embeddings."""

    model: Any
    head: tuple[np.ndarray, np.ndarray]
    history: list[dict[str, float]]
    val_vectors: np.ndarray


def finetune_members(
    load: Callable[[], Any],
    tokenizer: Any,
    train: tuple[list[str], list[int]],
    validation: tuple[list[str], list[int]],
    classes: int,
    settings: TrainSettings,
    count: int,
    *,
    init_head: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Progress | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
    cached: tuple[list[Any], list[Any]] | None = None,
    epochs: list[int] | None = None,
) -> list[Member]:
    """``count`` fine-tunes of fresh copies of the encoder (``load()``), seeds ``settings.seed``,
    ``+1``, ...: the frozen bottom layers are the pretrained ones in every copy, so their
    states are computed once (or given: ``cached``) and shared; each member costs only its
    trained layers. ``epochs``: each member's own epoch count (a refit repeats the epochs its
    validated twin kept), else ``settings.epochs``."""
    from dataclasses import replace

    members: list[Member] = []
    for index in range(count):
        model = load()
        if cached is None:
            cached = frozen_states(model, tokenizer, train[0], validation[0], settings)

        def report(done: int, total: int, message: str, index: int = index) -> None:
            if progress:
                prefix = f"member {index + 1}/{count}: " if count > 1 else ""
                progress(index * total + done, count * total, prefix + message)

        head, history, vectors = finetune_classifier(
            model,
            tokenizer,
            train,
            validation,
            classes,
            replace(
                settings,
                seed=settings.seed + index,
                epochs=epochs[index] if epochs else settings.epochs,
            ),
            init_head=init_head,
            progress=report,
            check_cancelled=check_cancelled,
            cached=cached,
        )
        members.append(Member(model, head, history, vectors))
    return members


def best_epoch(history: list[dict[str, float]]) -> int:
    """The epoch (1-based) whose weights early stopping kept: the first with the best
    validation accuracy, as ``finetune_classifier`` keeps it."""
    scores = [h["val"] for h in history]
    return scores.index(max(scores)) + 1


def _accuracy(head: Any, vectors: np.ndarray, targets: list[int]) -> float:
    import torch

    if not len(targets):
        return 0.0
    with torch.no_grad():
        predicted = head(torch.from_numpy(vectors).to(head.weight.device)).argmax(1).cpu().numpy()
    return float((predicted == np.asarray(targets)).mean())


def contrastive_pairs(
    targets: list[int], pairs_per_example: int, seed: int
) -> list[tuple[int, int, float]]:
    """For every example, ``pairs_per_example`` positive and as many negative partners
    (indices), drawn with a seeded generator: SetFit's pair sampling."""
    rng = random.Random(seed)
    by_label: dict[int, list[int]] = {}
    for i, t in enumerate(targets):
        by_label.setdefault(t, []).append(i)
    pairs = []
    for i, t in enumerate(targets):
        same, others = by_label[t], [j for j in range(len(targets)) if targets[j] != t]
        for _ in range(pairs_per_example):
            if len(same) > 1:
                j = rng.choice(same)
                while j == i:
                    j = rng.choice(same)
                pairs.append((i, j, 1.0))
            if others:
                pairs.append((i, rng.choice(others), 0.0))
    rng.shuffle(pairs)
    return pairs


def train_contrastive(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    targets: list[int],
    settings: TrainSettings,
    *,
    pairs_per_example: int,
    progress: Progress | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> list[float]:
    """Cosine-similarity loss on sampled pairs, one pass per epoch; returns the mean losses."""
    import torch

    torch.manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    history = []
    pairs_by_epoch = [
        contrastive_pairs(targets, pairs_per_example, settings.seed + e)
        for e in range(settings.epochs)
    ]
    total = sum((len(p) + settings.batch_size - 1) // settings.batch_size for p in pairs_by_epoch)
    scheduler = warmup_linear_decay(optimizer, total, settings.warmup_ratio)
    step = 0
    model.train()
    for epoch, pairs in enumerate(pairs_by_epoch):
        losses = []
        for start in range(0, len(pairs), settings.batch_size):
            check_cancelled()
            chunk = pairs[start : start + settings.batch_size]
            a = embed_batch(model, tokenizer, [texts[i] for i, _, _ in chunk], settings.max_length)
            b = embed_batch(model, tokenizer, [texts[j] for _, j, _ in chunk], settings.max_length)
            target = torch.tensor([t for _, _, t in chunk])
            loss = torch.nn.functional.mse_loss((a * b).sum(-1), target)
            losses.append(take_step(loss, optimizer, scheduler))
            step += 1
            if progress and (step % 20 == 0 or step == total):
                progress(step, total, f"pairs epoch {epoch + 1} loss {np.mean(losses[-20:]):.4f}")
        history.append(float(np.mean(losses)) if losses else 0.0)
    model.eval()
    return history
