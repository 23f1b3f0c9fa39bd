"""Weak supervision: labelling rules turn feedback and heuristics into training labels.

Each rule (labelling function) looks at one served prediction with its feedback and either
votes for a class or abstains. The votes form a label matrix (items x rules). Two ways to turn
it into labels, always reported side by side:

* **majority vote** – the baseline: the most frequent vote, ties abstain;
* **label model** – a one-coin Dawid-Skene model fitted by EM: every rule gets an estimated
  accuracy, and votes are weighted by it (the generative model behind Snorkel, without its
  correlation structure). It beats majority vote when rules differ in quality and overlap.

Rule kinds (YAML form):

* ``{kind: feedback, source: user}`` – the label a source gave (any source when omitted);
* ``{kind: confirm, source: user, yes: [...], no: [...]}`` – thumbs up/down: "yes" votes the
  served output, "no" votes the other class (binary tasks only);
* ``{kind: keyword, label: "1", keywords: [great, wonderful]}`` – a word in the input text;
* ``{kind: regex, label: "0", pattern: "\\bnot (good|worth)\\b"}``;
* ``{kind: prediction, min_score: 0.9}`` – the served output when its score is high enough.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoglm.regexsafe import UnsafePatternError, compile_pattern

ABSTAIN = -1
RULE_KINDS = ("feedback", "confirm", "keyword", "regex", "prediction")
DEFAULT_YES = ("yes", "correct", "true", "up", "+1", "good", "👍")
DEFAULT_NO = ("no", "incorrect", "wrong", "false", "down", "-1", "bad", "👎")


@dataclass(frozen=True)
class LabelItem:
    """One served prediction as the rules see it."""

    text: str
    output: str | None = None
    score: float | None = None
    feedback: tuple[tuple[str, Any], ...] = ()  # (source, label) pairs, oldest first
    id: str | None = None


@dataclass(frozen=True)
class Rule:
    """One labelling function, built from its YAML form by ``rule_from_dict``."""

    kind: str
    name: str
    label: str | None = None
    source: str | None = None
    keywords: tuple[str, ...] = ()
    pattern: str | None = None
    min_score: float = 0.0
    yes: tuple[str, ...] = DEFAULT_YES
    no: tuple[str, ...] = DEFAULT_NO
    _regex: Any = field(default=None, compare=False, repr=False)

    def vote(self, item: LabelItem, classes: Sequence[str]) -> str | None:
        """The class this rule assigns to ``item``, or None to abstain."""
        if self.kind == "feedback":
            votes = [str(lab) for src, lab in item.feedback if self._source_ok(src)]
            votes = [v for v in votes if v in classes]
            return Counter(votes).most_common(1)[0][0] if votes else None
        if self.kind == "confirm":
            return self._confirm(item, classes)
        if self.kind in ("keyword", "regex"):
            return self.label if self._regex.search(item.text) else None
        if self.kind == "prediction":
            ok = item.output in classes and item.score is not None and item.score >= self.min_score
            return item.output if ok else None
        raise AssertionError(self.kind)

    def _source_ok(self, source: str) -> bool:
        return self.source is None or source == self.source

    def _confirm(self, item: LabelItem, classes: Sequence[str]) -> str | None:
        if item.output not in classes:
            return None
        for source, label in reversed(item.feedback):
            answer = str(label).strip().lower()
            if not self._source_ok(source) or str(label) in classes:
                continue  # a class name is a label for the feedback rule, not a thumbs up/down
            if answer in self.yes:
                return item.output
            if answer in self.no and len(classes) == 2:
                return next(c for c in classes if c != item.output)
        return None


def rule_from_dict(spec: dict[str, Any], index: int = 0) -> Rule:
    """Validate one rule's YAML form; errors name the rule and the field."""
    where = f"rules[{index}]"
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in RULE_KINDS:
        raise ValueError(f"{where}.kind: expected one of {RULE_KINDS}, got {kind!r}")
    allowed = {"kind", "name", "label", "source", "keywords", "pattern", "min_score", "yes", "no"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    label = None if spec.get("label") is None else str(spec["label"])
    regex = None
    if kind in ("keyword", "regex"):
        if label is None:
            raise ValueError(f"{where}.label: a {kind} rule needs the class it votes for")
        if kind == "keyword":
            words = [str(w) for w in spec.get("keywords") or []]
            if not words:
                raise ValueError(f"{where}.keywords: expected a non-empty list of words")
            # Escaped literals cannot backtrack catastrophically, and ``re`` knows Unicode words.
            pattern = r"\b(" + "|".join(re.escape(w) for w in words) + r")\b"
            regex = re.compile(pattern, re.IGNORECASE)
        else:
            pattern = str(spec.get("pattern") or "")
            if not pattern:
                raise ValueError(f"{where}.pattern: expected a regular expression")
            try:  # a request's pattern: the linear-time engine, never a backtracking one
                regex = compile_pattern(pattern, ignorecase=True)
            except UnsafePatternError as exc:
                raise ValueError(f"{where}.pattern: {exc}") from None
    lower = lambda key, default: tuple(str(v).lower() for v in spec.get(key, default))  # noqa: E731
    return Rule(
        kind=kind,
        name=str(spec.get("name") or f"{kind}{index}"),
        label=label,
        source=spec.get("source"),
        keywords=tuple(str(w) for w in spec.get("keywords") or ()),
        pattern=regex.pattern if regex else None,
        min_score=float(spec.get("min_score", 0.0)),
        yes=lower("yes", DEFAULT_YES),
        no=lower("no", DEFAULT_NO),
        _regex=regex,
    )


def label_matrix(items: Sequence[LabelItem], rules: Sequence[Rule], classes: Sequence[str]):
    """(n_items, n_rules) int array of class indices, ``ABSTAIN`` where a rule abstains."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.full((len(items), len(rules)), ABSTAIN, dtype=int)
    for i, item in enumerate(items):
        for j, rule in enumerate(rules):
            vote = rule.vote(item, classes)
            if vote is not None:
                matrix[i, j] = index[vote]
    return matrix


def majority_vote(matrix: np.ndarray, n_classes: int) -> np.ndarray:
    """Most frequent vote per row; ``ABSTAIN`` when no rule voted or the top classes tie."""
    out = np.full(matrix.shape[0], ABSTAIN, dtype=int)
    for i, row in enumerate(matrix):
        counts = np.bincount(row[row != ABSTAIN], minlength=n_classes)
        if counts.sum() and (counts == counts.max()).sum() == 1:
            out[i] = int(counts.argmax())
    return out


class LabelModel:
    """One-coin Dawid-Skene: each rule has one accuracy, errors spread evenly over classes."""

    def __init__(
        self,
        n_classes: int,
        *,
        iterations: int = 100,
        tol: float = 1e-6,
        prior_accuracy: float = 0.7,
        prior_strength: float = 2.0,
    ) -> None:
        if n_classes < 2:
            raise ValueError(f"classes: a label model needs at least 2 classes, got {n_classes}")
        self.n_classes = n_classes
        self.iterations = iterations
        self.tol = tol
        self.prior_accuracy = prior_accuracy
        self.prior_strength = prior_strength
        self.accuracy: np.ndarray | None = None
        self.prior: np.ndarray | None = None

    def fit(self, matrix: np.ndarray) -> LabelModel:
        k = self.n_classes
        post = self._initial_posterior(matrix)
        for _ in range(self.iterations):
            voted = matrix != ABSTAIN
            agree = np.zeros(matrix.shape)
            for j in range(matrix.shape[1]):
                rows = voted[:, j]
                agree[rows, j] = post[rows, matrix[rows, j]]
            # Beta prior: a rule is assumed better than chance until its votes say otherwise;
            # without it EM drifts on a handful of items.
            acc = (agree.sum(0) + self.prior_accuracy * self.prior_strength) / (
                voted.sum(0) + self.prior_strength
            )
            self.accuracy = np.clip(acc, 1.0 / k + 1e-3, 0.999)
            self.prior = (post.sum(0) + k) / (post.shape[0] + k * k)  # k pseudo-items per class
            new = self.predict_proba(matrix)
            done = np.abs(new - post).max() < self.tol
            post = new
            if done:
                break
        return self

    def _initial_posterior(self, matrix: np.ndarray) -> np.ndarray:
        counts = np.ones((matrix.shape[0], self.n_classes)) * 1e-3
        for j in range(matrix.shape[1]):
            rows = matrix[:, j] != ABSTAIN
            counts[rows, matrix[rows, j]] += 1.0
        return counts / counts.sum(1, keepdims=True)

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        if self.accuracy is None or self.prior is None:
            raise RuntimeError("LabelModel.fit must run before predict_proba")
        k = self.n_classes
        logp = np.tile(np.log(self.prior), (matrix.shape[0], 1))
        right, wrong = np.log(self.accuracy), np.log((1.0 - self.accuracy) / (k - 1))
        for j in range(matrix.shape[1]):
            rows = matrix[:, j] != ABSTAIN
            votes = np.zeros((int(rows.sum()), k), dtype=bool)
            votes[np.arange(votes.shape[0]), matrix[rows, j]] = True
            logp[rows] += np.where(votes, right[j], wrong[j])
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(1, keepdims=True)

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Most probable class; ``ABSTAIN`` for rows no rule voted on."""
        out = self.predict_proba(matrix).argmax(1)
        out[(matrix == ABSTAIN).all(1)] = ABSTAIN
        return out


@dataclass
class WeakLabels:
    """Labels from both aggregators plus the evidence to judge them."""

    classes: list[str]
    majority: list[str | None]
    label_model: list[str | None]
    report: dict[str, Any]

    def chosen(self, method: str) -> list[str | None]:
        return self.label_model if method == "label_model" else self.majority


def weak_labels(
    items: Sequence[LabelItem],
    rules: Sequence[Rule],
    classes: Sequence[str],
    *,
    gold: Sequence[str | None] | None = None,
) -> WeakLabels:
    """Apply ``rules`` and aggregate both ways. ``gold`` (a label per item or None) is used
    only to report each aggregator's accuracy where it is known, never to fit."""
    classes = [str(c) for c in classes]
    if not rules:
        raise ValueError("rules: expected at least one labelling rule")
    matrix = label_matrix(items, rules, classes)
    mv = majority_vote(matrix, len(classes))
    model = LabelModel(len(classes)).fit(matrix) if len(items) else None
    lm = model.predict(matrix) if model is not None else np.zeros(0, dtype=int)
    name = lambda idx: None if idx == ABSTAIN else classes[idx]  # noqa: E731
    voted = matrix != ABSTAIN
    report: dict[str, Any] = {
        "n_items": len(items),
        "rules": [
            {
                "name": rule.name,
                "kind": rule.kind,
                "coverage": float(voted[:, j].mean()) if len(items) else 0.0,
                "estimated_accuracy": None if model is None else float(model.accuracy[j]),
            }
            for j, rule in enumerate(rules)
        ],
        "coverage": {
            "majority": float((mv != ABSTAIN).mean()) if len(items) else 0.0,
            "label_model": float((lm != ABSTAIN).mean()) if len(items) else 0.0,
        },
        "conflict_rate": float(_conflicts(matrix).mean()) if len(items) else 0.0,
        "agreement": float((mv == lm)[mv != ABSTAIN].mean()) if (mv != ABSTAIN).any() else None,
    }
    if gold is not None:
        report["gold_accuracy"] = {
            "majority": _gold_accuracy(mv, gold, classes),
            "label_model": _gold_accuracy(lm, gold, classes),
        }
    return WeakLabels(classes, [name(i) for i in mv], [name(i) for i in lm], report)


def _conflicts(matrix: np.ndarray) -> np.ndarray:
    return np.array([len(set(row[row != ABSTAIN].tolist())) > 1 for row in matrix], dtype=bool)


def _gold_accuracy(pred: np.ndarray, gold: Sequence[str | None], classes: list[str]) -> dict:
    pairs = [(classes[p] if p != ABSTAIN else None, g) for p, g in zip(pred, gold, strict=True)]
    known = [(p, str(g)) for p, g in pairs if g is not None]
    if not known:
        return {"n": 0, "accuracy": None}
    return {"n": len(known), "accuracy": sum(p == g for p, g in known) / len(known)}


def item_text(value: Any, text_field: str = "text") -> str:
    """The text of a stored prediction input: the string itself or ``value[text_field]``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get(text_field), str):
        return value[text_field]
    raise ValueError(
        f"prediction input: expected a string or a mapping with a string {text_field!r} field, "
        f"got {str(value)[:80]!r}"
    )


def items_from_store(store: Any, *, after_id: int = 0, text_field: str = "text") -> list[LabelItem]:
    """Every prediction of a ``FeedbackStore`` that received feedback after ``after_id``."""
    items = []
    for prediction, feedback in store.labelled_predictions(after_id=after_id):
        output = prediction.output
        items.append(
            LabelItem(
                text=item_text(prediction.input, text_field),
                output=None if output is None else str(output),
                score=prediction.score,
                feedback=tuple((fb.source, fb.label) for fb in feedback),
                id=prediction.id,
            )
        )
    return items
