"""A small fusion classifier over any subset of a dataset's modalities.

* ``early``: each modality's raw features (flattened; text as a masked mean of token
  embeddings) are concatenated and one MLP classifies the concatenation.
* ``late``: one MLP per modality, each with its own classifier head; the fused prediction is
  the mean of the heads' log-probabilities (a product of experts), and training sums every
  head's loss with the fused one, so each modality learns to stand on its own.

Training is mini-batch AdamW with early stopping on validation accuracy (the selected epoch's
weights are restored); the test rows are only ever scored, after selection, when asked.
Augmented image variants written by ``multimodal.image`` replace a training row's image by a
random variant (or the original) each epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoglm_multimodal.dataset import Dataset
from autoglm_multimodal.errors import MultimodalError


@dataclass
class Branch:
    """The arrays of one modality, loaded into memory."""

    name: str
    main: np.ndarray
    mask: np.ndarray | None = None
    augmented: np.ndarray | None = None
    vocab: int = 0


def load_branches(data: Dataset, names: list[str] | None) -> list[Branch]:
    available = data.manifest["modalities"]
    chosen = names or sorted(available)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise MultimodalError(
            f"modalities {unknown} are not in the dataset (it has {sorted(available)})"
        )
    branches = []
    for name in chosen:
        arrays = available[name]["arrays"]
        if "input_ids" in arrays:
            ids = np.asarray(data.array(f"{name}.input_ids"))
            vocab = int(available[name].get("vocab_size") or ids.max() + 1)
            mask = np.asarray(data.array(f"{name}.attention_mask"))
            branches.append(Branch(name, ids, mask, vocab=max(vocab, int(ids.max()) + 1)))
        else:
            main = np.asarray(data.array(f"{name}.features"), np.float32)
            augmented = (
                np.asarray(data.array(f"{name}.augmented"), np.float32)
                if "augmented" in arrays
                else None
            )
            branches.append(Branch(name, main, augmented=augmented))
    return branches


def build_model(branches: list[Branch], classes: int, cfg: Any):
    import torch
    from torch import nn

    class TokenMean(nn.Module):
        """Masked mean of token embeddings: a bag of tokens, no recurrence."""

        def __init__(self, vocab: int, dim: int) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, dim, padding_idx=0)

        def forward(self, ids, mask):
            mask = mask.unsqueeze(-1).float()
            return (self.embed(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def mlp(width: int) -> nn.Module:
        return nn.Sequential(
            nn.Linear(width, cfg.hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, classes),
        )

    class Fusion(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tokens = nn.ModuleDict(
                {b.name: TokenMean(b.vocab, cfg.embed_dim) for b in branches if b.mask is not None}
            )
            widths = {
                b.name: cfg.embed_dim if b.mask is not None else int(np.prod(b.main.shape[1:]))
                for b in branches
            }
            self.order = [b.name for b in branches]
            self.input_dropout = nn.Dropout(cfg.input_dropout)
            if cfg.fusion == "early":
                self.head = mlp(sum(widths.values()))
            else:
                self.heads = nn.ModuleDict({n: mlp(w) for n, w in widths.items()})

        def inputs(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
            out = {}
            for name in self.order:
                value = batch[name]
                if name in self.tokens:
                    value = self.tokens[name](*value)
                out[name] = self.input_dropout(value.flatten(1))
            return out

        def forward(self, batch):
            """(fused log-probabilities, per-branch log-probabilities or {})."""
            parts = self.inputs(batch)
            if cfg.fusion == "early":
                return torch.log_softmax(
                    self.head(torch.cat([parts[n] for n in self.order], 1)), 1
                ), {}
            each = {n: torch.log_softmax(self.heads[n](parts[n]), 1) for n in self.order}
            return torch.stack(list(each.values())).mean(0), each

    return Fusion()


#: Candidate weights of one late-fusion head; chosen on validation rows (see branch_weights).
WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def branch_weights(
    fused: np.ndarray, parts: dict[str, np.ndarray], labels: np.ndarray
) -> dict[str, float]:
    """Weights of the heads' log-probabilities that classify the validation rows best.

    Validation groups are unseen in training, so they show how far each modality's confidence
    carries to new groups (a voice never heard is where audio is confidently wrong); the
    training rows cannot show it, every head fits them. Ties go to the weights closest to
    equal. The test rows play no part.
    """
    import itertools

    names = sorted(parts)
    if len(names) > 4:  # 5**n candidates: beyond four heads keep equal weights
        return {n: 1.0 for n in names}
    best, best_key = None, None
    for combo in itertools.product(WEIGHT_GRID, repeat=len(names)):
        if max(combo) == 0:
            continue
        score = sum(w * parts[n] for n, w in zip(names, combo, strict=True))
        acc = float((score.argmax(1) == labels).mean())
        key = (acc, -float(np.ptp(combo)), sum(combo))
        if best_key is None or key > best_key:
            best, best_key = combo, key
    return dict(zip(names, best, strict=True))


@dataclass
class FuseResult:
    val_acc: float
    train_acc: float
    test_acc: float | None
    best_epoch: int
    epochs: int
    params: int
    seconds: float
    modalities: list[str]
    val_by_group: dict[str, float] = field(default_factory=dict)
    test_by_group: dict[str, float] = field(default_factory=dict)
    branch_val_acc: dict[str, float] = field(default_factory=dict)
    branch_weights: dict[str, float] = field(default_factory=dict)
    state: dict | None = None


def train_fusion(data: Dataset, cfg: Any, on_epoch=None) -> FuseResult:
    """Train on the dataset's train rows, select on its validation rows (see module doc)."""
    import torch
    from torch import nn

    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    branches = load_branches(data, cfg.modalities)
    train, val, test = data.rows("train"), data.rows("val"), data.rows("test")
    if train.size == 0 or val.size == 0:
        raise MultimodalError(
            f"{data.folder}: training needs train and validation items "
            f"(it has {train.size} and {val.size}); give multimodal.split validation groups"
        )
    classes = len(data.manifest["classes"])
    model = build_model(branches, classes, cfg)
    labels = torch.from_numpy(data.labels)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = nn.NLLLoss()

    def batch_of(rows: np.ndarray, training: bool) -> dict[str, Any]:
        out = {}
        for b in branches:
            if b.mask is not None:
                out[b.name] = (torch.from_numpy(b.main[rows]), torch.from_numpy(b.mask[rows]))
                continue
            values = b.main[rows]
            if training and cfg.augment and b.augmented is not None:
                pick = rng.integers(0, b.augmented.shape[1] + 1, size=rows.size)
                use = pick > 0
                values = values.copy()
                values[use] = b.augmented[rows[use], pick[use] - 1]
            out[b.name] = torch.from_numpy(values)
        return out

    weights: dict[str, float] = {}

    def log_probs(rows: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        model.eval()
        fused, each = [], {b.name: [] for b in branches}
        with torch.no_grad():
            for begin in range(0, rows.size, 1024):
                out, parts = model(batch_of(rows[begin : begin + 1024], False))
                fused.append(out.numpy())
                for name, p in parts.items():
                    each[name].append(p.numpy())
        return np.concatenate(fused), {n: np.concatenate(v) for n, v in each.items() if v}

    def predict(rows: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        fused, parts = log_probs(rows)
        if weights:
            fused = sum(w * parts[n] for n, w in weights.items())
        return fused.argmax(1), {n: p.argmax(1) for n, p in parts.items()}

    def accuracy(rows: np.ndarray) -> float:
        return float((predict(rows)[0] == data.labels[rows]).mean())

    best, best_epoch, best_state, waited, epoch = -1.0, 0, None, 0, 0
    for epoch in range(1, cfg.max_epochs + 1):
        model.train()
        order = rng.permutation(train)
        for begin in range(0, order.size, cfg.batch_size):
            rows = order[begin : begin + cfg.batch_size]
            fused, parts = model(batch_of(rows, True))
            target = labels[rows]
            loss = loss_fn(fused, target) + sum(loss_fn(p, target) for p in parts.values())
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        val_acc = accuracy(val)
        if val_acc > best:
            best, best_epoch, waited = val_acc, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
        if on_epoch is not None:
            on_epoch(epoch, val_acc, best)
        if waited >= cfg.patience:
            break
    model.load_state_dict(best_state)
    if cfg.fusion == "late" and cfg.weigh_branches and len(branches) > 1:
        weights.update(branch_weights(*log_probs(val), data.labels[val]))
    groups = np.asarray(data.manifest["groups"])

    def by_group(rows: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
        hits = predicted == data.labels[rows]
        return {str(g): float(hits[groups[rows] == g].mean()) for g in sorted(set(groups[rows]))}

    val_pred, val_parts = predict(val)
    result = FuseResult(
        val_acc=float((val_pred == data.labels[val]).mean()),
        train_acc=accuracy(train),
        test_acc=None,
        best_epoch=best_epoch,
        epochs=epoch,
        params=sum(p.numel() for p in model.parameters()),
        seconds=0.0,
        modalities=[b.name for b in branches],
        val_by_group=by_group(val, val_pred),
        branch_val_acc={n: float((p == data.labels[val]).mean()) for n, p in val_parts.items()},
        branch_weights=dict(weights),
        state=model.state_dict(),
    )
    if cfg.report_test and test.size:
        test_pred, _ = predict(test)
        result.test_acc = float((test_pred == data.labels[test]).mean())
        result.test_by_group = by_group(test, test_pred)
    result.seconds = time.perf_counter() - start
    return result
