"""A lexical classifier: TF-IDF of words and character n-grams under logistic regression.

Why beside the encoder: the fine-tune, the probe and kNN all read one encoder's view of a
text, so their mistakes overlap and blending them adds little (docs/finetune.md). A model of
surface forms (word pairs, sub-word pieces that survive typos and rare names) errs on other
texts; it costs seconds on a CPU and needs no model file. Alone it is weaker than the probe
(HWU64: about 0.88 against 0.91), so it is measured as a blend weighed on validation
(bench/finetune_variants.py; not adopted by the node: docs/finetune.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class LexicalModel:
    """A fitted TF-IDF + logistic regression pipeline and the number of classes it scores."""

    pipeline: Any
    classes: int

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Class probabilities, columns in class-index order (absent classes score 0)."""
        scores = self.pipeline.predict_proba(texts)
        full = np.zeros((len(texts), self.classes), dtype=np.float64)
        full[:, self.pipeline.classes_] = scores
        return full


def fit_lexical(
    texts: list[str], targets: list[int] | np.ndarray, *, classes: int, C: float = 10.0
) -> LexicalModel:
    """Word 1-2-grams and character 2-5-grams (inside word boundaries), sublinear TF-IDF,
    multinomial logistic regression with ``C`` (10 was the best of 3, 10, 30 on HWU64)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )
    pipeline = make_pipeline(features, LogisticRegression(C=C, max_iter=2000))
    pipeline.fit(list(texts), np.asarray(targets))
    return LexicalModel(pipeline, classes)
