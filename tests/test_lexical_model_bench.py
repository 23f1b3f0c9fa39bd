"""bench/lexical_model.py: TF-IDF of words and character n-grams under logistic regression,
the lexical view bench/finetune_variants.py blends with the fine-tune."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from lexical_model import fit_lexical

TEXTS = [
    "set an alarm for seven",
    "wake me up at six with an alarm",
    "cancel my alarm",
    "what is the weather today",
    "will it rain tomorrow",
    "is it sunny outside",
    "play some jazz music",
    "put on my workout playlist",
    "play the next song",
]
TARGETS = [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_it_learns_surface_forms_and_scores_misspellings():
    model = fit_lexical(TEXTS, TARGETS, classes=3)
    probabilities = model.probabilities(["alarm at five please", "raining tomorow?", "play jaz"])
    assert probabilities.shape == (3, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    # "tomorow" and "jaz" are no training words: their character n-grams still match.
    assert probabilities.argmax(axis=1).tolist() == [0, 1, 2]


def test_columns_follow_class_indices_when_a_class_has_no_training_text():
    targets = [0, 0, 0, 3, 3, 3, 2, 2, 2]  # class 1 never seen
    model = fit_lexical(TEXTS, targets, classes=4)
    probabilities = model.probabilities(["will it snow", "play a song"])
    assert probabilities.shape == (2, 4)
    assert np.all(probabilities[:, 1] == 0.0)
    assert probabilities.argmax(axis=1).tolist() == [3, 2]
