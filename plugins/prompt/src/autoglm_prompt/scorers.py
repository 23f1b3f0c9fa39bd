"""Turning a prompt candidate into predictions, with any model adapter that can do it.

* ``EncoderScorer`` (an ``Encoder``): cosine of the input's embedding to the embedded label
  description and to the prototype (mean embedding) of each label's few-shot examples, mixed
  by ``example_weight``.
* ``LikelihoodScorer`` (a ``TextModel``): log-likelihood of each label word after the rendered
  prompt; the highest wins.
* ``GenerativeScorer`` (a ``TextModel``): generate an answer and parse which label word it
  names first; an answer naming none is a wrong prediction (``None``).

Calibration (all but generative): ``content_free`` subtracts the label scores of the input
"N/A" under the same prompt (Zhao et al. 2021); ``batch`` subtracts the mean label scores of
the batch being predicted (Zhou et al. 2023), which needs no labels.

Every scorer charges a ``CallBudget`` before each model call and estimates its calls up front.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import numpy as np

from autoglm_prompt.budget import CallBudget
from autoglm_prompt.candidate import CONTENT_FREE, PromptCandidate
from autoglm_prompt.space import PromptSpace


class Scorer(Protocol):
    kind: str
    budget: CallBudget

    def predict(
        self, candidate: PromptCandidate, texts: list[str]
    ) -> tuple[list[str | None], np.ndarray | None]:
        """Predicted label per text (None: unparsable) and label scores (n, labels) if any."""
        ...

    def estimate_calls(
        self, space: PromptSpace, n_candidates: int, n_texts: int, pool_size: int
    ) -> int:
        """An upper bound of the calls ``n_candidates`` evaluations on ``n_texts`` cost."""
        ...


def _calibrate(scores: np.ndarray, candidate: PromptCandidate, content_free) -> np.ndarray:
    if candidate.calibrate == "batch" and len(scores) > 0:
        return scores - scores.mean(axis=0, keepdims=True)
    if candidate.calibrate == "content_free":
        return scores - content_free()
    return scores


def _argmax(candidate: PromptCandidate, scores: np.ndarray) -> list[str | None]:
    labels = candidate.labels
    return [labels[i] for i in scores.argmax(axis=1)]


class EncoderScorer:
    """Similarity classification with a sentence encoder. Embeddings are kept for the run,
    so a text (an input under one instruction, an example, a description) is embedded once."""

    kind = "embedding"

    def __init__(self, encoder: Any, budget: CallBudget | None = None, batch_size: int = 64):
        self.encoder = encoder
        self.budget = budget or CallBudget()
        self.batch_size = batch_size
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            count_cached = getattr(self.encoder, "count_cached", None)
            hits = count_cached(missing) if count_cached else 0
            self.budget.charge(len(missing) - hits, cache_hits=hits)
            vectors = self.encoder.embed(missing, batch_size=self.batch_size)
            self._vectors.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        return np.stack([self._vectors[t] for t in texts])

    def _label_scores(self, candidate: PromptCandidate, queries: np.ndarray) -> np.ndarray:
        labels = candidate.labels
        descriptions = self.embed([candidate.verbalizers[label] for label in labels])
        scores = queries @ descriptions.T
        if candidate.examples and candidate.example_weight > 0:
            vectors = self.embed([candidate.query_text(e["text"]) for e in candidate.examples])
            rows = []
            for label in labels:
                mine = [i for i, e in enumerate(candidate.examples) if e["label"] == label]
                proto = vectors[mine].mean(0) if mine else np.zeros(vectors.shape[1])
                rows.append(proto / (np.linalg.norm(proto) or 1.0))
            w = candidate.example_weight
            scores = (1 - w) * scores + w * (queries @ np.stack(rows).T)
        return scores

    def predict(self, candidate: PromptCandidate, texts: list[str]):
        queries = self.embed([candidate.query_text(t) for t in texts])
        scores = self._label_scores(candidate, queries)
        scores = _calibrate(
            scores,
            candidate,
            lambda: self._label_scores(candidate, self.embed([candidate.query_text(CONTENT_FREE)])),
        )
        return _argmax(candidate, scores), scores

    def estimate_calls(self, space: PromptSpace, n_candidates: int, n_texts: int, pool_size: int):
        # Inputs and examples are embedded once per instruction; descriptions once in all.
        examples = min(pool_size, max(space.shots) * len(space.labels) * space.example_sets)
        per_instruction = n_texts + examples + 1
        descriptions = sum(len(v) for v in space.verbalizers.values())
        return len(space.instructions) * per_instruction + descriptions


class LikelihoodScorer:
    """Rank label words by their log-likelihood after the prompt (one call per input)."""

    kind = "likelihood"

    def __init__(self, model: Any, budget: CallBudget | None = None):
        self.model = model
        self.budget = budget or CallBudget()

    def _scores(self, candidate: PromptCandidate, texts: list[str]) -> np.ndarray:
        words = [" " + candidate.verbalizers[label] for label in candidate.labels]
        rows = []
        for text in texts:
            self.budget.charge(1)
            rows.append(self.model.score(candidate.render(text), words))
        return np.asarray(rows, dtype=float).reshape(len(texts), len(words))

    def predict(self, candidate: PromptCandidate, texts: list[str]):
        scores = _calibrate(
            self._scores(candidate, texts),
            candidate,
            lambda: self._scores(candidate, [CONTENT_FREE]),
        )
        return _argmax(candidate, scores), scores

    def estimate_calls(self, space: PromptSpace, n_candidates: int, n_texts: int, pool_size: int):
        extra = 1 if "content_free" in space.calibrations else 0
        return n_candidates * (n_texts + extra)


class GenerativeScorer:
    """Generate an answer and read the label from it (one call per input)."""

    kind = "generate"

    def __init__(self, model: Any, budget: CallBudget | None = None, max_new_tokens: int = 8):
        self.model = model
        self.budget = budget or CallBudget()
        self.max_new_tokens = max_new_tokens

    def predict(self, candidate: PromptCandidate, texts: list[str]):
        self.budget.charge(len(texts))
        prompts: list[str | list[dict]] = [candidate.render(t) for t in texts]
        answers = self.model.generate(
            prompts, max_new_tokens=self.max_new_tokens, temperature=0.0, stop=["\n"]
        )
        return [parse_label(a, candidate.verbalizers) for a in answers], None

    def estimate_calls(self, space: PromptSpace, n_candidates: int, n_texts: int, pool_size: int):
        return n_candidates * n_texts


def parse_label(answer: str, verbalizers: dict[str, str]) -> str | None:
    """The label whose word appears first in ``answer`` (whole words, any case); the longest
    word wins at the same position ("not good" before "good")."""
    best: tuple[int, int, str] | None = None
    for label, word in verbalizers.items():
        match = re.search(r"(?<!\w)" + re.escape(word.strip()) + r"(?!\w)", answer, re.IGNORECASE)
        if match:
            rank = (match.start(), -len(word), label)
            best = rank if best is None or rank < best else best
    return None if best is None else best[2]


def make_scorer(model: Any, mode: str, budget: CallBudget) -> Scorer:
    """The scorer for ``mode`` (``auto``: encoder -> embedding, text model -> likelihood)."""
    is_encoder = hasattr(model, "embed")
    if mode == "auto":
        mode = "embedding" if is_encoder else "likelihood"
    if mode == "embedding":
        if not is_encoder:
            raise ValueError("mode 'embedding': the model is not an encoder (it has no embed())")
        return EncoderScorer(model, budget)
    if is_encoder or not hasattr(model, "generate"):
        raise ValueError(f"mode {mode!r}: expected a text model (generate/score), got an encoder")
    if mode == "likelihood":
        return LikelihoodScorer(model, budget)
    if mode == "generate":
        return GenerativeScorer(model, budget)
    raise ValueError(f"mode: expected auto, embedding, likelihood or generate, got {mode!r}")
