"""Classification metrics: accuracy, precision/recall/F1 per class, macro and micro, confusion.

One function computes everything from two label lists so that every node and benchmark reports
the same numbers, computed by scikit-learn rather than by hand-rolled formulas. Labels are
compared as strings: workflows pass them through JSON, where ``1`` and ``"1"`` must not become
two classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _as_labels(values: Sequence[Any], what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{what}: expected a list of labels, got {type(values).__name__}")
    return ["" if v is None else str(v) for v in values]


def check_same_length(y_true: Sequence[Any], *others: tuple[str, Sequence[Any]]) -> None:
    """Raise a ValueError naming the list whose length differs from ``y_true``."""
    for name, values in others:
        if len(values) != len(y_true):
            raise ValueError(
                f"{name}: expected {len(y_true)} labels (one per example of y_true), "
                f"found {len(values)}"
            )


def classification_report(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any] | None = None
) -> dict[str, Any]:
    """All metrics of a prediction list as a JSON-ready dict.

    ``labels`` fixes the class order (and includes classes that never occur); by default it is
    the sorted union of true labels and predictions. A prediction outside ``labels`` (an
    unparsable generation, say) counts as wrong for accuracy and micro scores.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    truth = _as_labels(y_true, "y_true")
    pred = _as_labels(y_pred, "y_pred")
    check_same_length(truth, ("y_pred", pred))
    if not truth:
        raise ValueError("y_true: expected at least one example, found none")
    classes = _as_labels(labels, "labels") if labels is not None else sorted(set(truth) | set(pred))
    missing = sorted(set(truth) - set(classes))
    if missing:
        raise ValueError(f"labels: true labels {missing} are not among the classes {classes}")

    p, r, f, s = precision_recall_fscore_support(
        truth, pred, labels=classes, zero_division=0, average=None
    )
    per_class = {
        c: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, c in enumerate(classes)
    }
    report: dict[str, Any] = {
        "n": len(truth),
        "accuracy": float(accuracy_score(truth, pred)),
        "per_class": per_class,
    }
    for average in ("macro", "micro"):
        ap, ar, af, _ = precision_recall_fscore_support(
            truth, pred, labels=classes, zero_division=0, average=average
        )
        report[average] = {"precision": float(ap), "recall": float(ar), "f1": float(af)}
    matrix = confusion_matrix(truth, pred, labels=classes)
    report["confusion"] = {"labels": classes, "matrix": matrix.tolist()}
    return report


def correctness(y_true: Sequence[Any], y_pred: Sequence[Any]) -> list[int]:
    """1 where the prediction equals the true label, else 0 (the per-example accuracy)."""
    truth = _as_labels(y_true, "y_true")
    pred = _as_labels(y_pred, "y_pred")
    check_same_length(truth, ("y_pred", pred))
    return [int(t == p) for t, p in zip(truth, pred, strict=True)]
