"""Heads on frozen embeddings: logistic regression (scikit-learn) or a small MLP (torch).

The logistic probe is the strong simple baseline for many-label intent classification with a
sentence encoder (issue 19: 0.909 on HWU64, 0.895/0.942 on the 77/150-label sets, above any
prompt or centroid). The MLP adds one hidden layer with dropout, trained with AdamW and early
stopping on validation accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autoglm_finetune.heads import Head, from_sklearn


def fit_centroid(x: np.ndarray, y: np.ndarray, classes: int) -> Head:
    """Nearest class centroid by cosine: the normalised mean embedding of each label as a
    one-layer head (the baseline the prompt optimiser converged to, issue 19)."""
    means = np.stack([x[y == c].mean(axis=0) for c in range(classes)])
    means /= np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)
    return Head([(means.T.astype(np.float32), np.zeros(classes, dtype=np.float32))])


def label_name_head(encoder: Any, labels: list[str]) -> Head:
    """Zero-shot: each label's name (underscores and dashes as spaces) embedded as its class
    vector, the hand-written label-name prompt of issue 19 as a head (no training)."""
    names = [label.replace("_", " ").replace("-", " ") for label in labels]
    vectors = np.asarray(encoder.embed(names), dtype=np.float32)
    return Head([(vectors.T.copy(), np.zeros(len(labels), dtype=np.float32))])


def fit_logistic(x: np.ndarray, y: np.ndarray, *, C: float, seed: int = 0) -> Head:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    model.fit(x, y)
    head = from_sklearn(model.coef_, model.intercept_)
    # scikit-learn drops classes absent from y; training always has every label, so equal.
    return head


def fit_mlp(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    classes: int,
    hidden: int,
    lr: float,
    weight_decay: float,
    dropout: float,
    epochs: int,
    patience: int,
    batch_size: int = 64,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[Head, list[float]]:
    """Train; keep the weights of the best validation epoch. Returns the head and the
    validation accuracy of each epoch run."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Dropout(dropout), nn.Linear(x.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, classes)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    xt, yt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64))
    xv = torch.from_numpy(x_val.astype(np.float32))
    generator = torch.Generator().manual_seed(seed)
    best, best_state, history, stale = -1.0, None, [], 0
    for epoch in range(epochs):
        net.train()
        for idx in torch.randperm(len(xt), generator=generator).split(batch_size):
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            acc = float((net(xv).argmax(1).numpy() == y_val).mean()) if len(xv) else 0.0
        history.append(acc)
        if progress:
            progress(epoch + 1, epochs, f"epoch {epoch + 1}: validation accuracy {acc:.4f}")
        if acc > best:
            best, stale = acc, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    net.load_state_dict(best_state)
    layers = [net[1], net[3]]
    return Head(
        [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in layers]
    ), history
