"""Question-answering metrics: exact match and token F1 (SQuAD's definitions), and abstention.

A QA flow over a knowledge base must be judged on two things at once: how well it answers what
the base holds, and whether it says "not in the knowledge base" for what it does not. Answer
quality is SQuAD's exact match and token-overlap F1 after normalisation (lower case, no
punctuation, no articles), best over the gold answers; abstention is scored like a detector of
unanswerable questions (precision: abstentions that were right; recall: unanswerable questions
caught).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise_answer(text: str) -> str:
    """Lower case, punctuation and articles removed, whitespace collapsed."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals one normalised gold answer."""
    mine = normalise_answer(prediction)
    return float(any(mine == normalise_answer(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best token-overlap F1 of the prediction against the gold answers."""
    mine = normalise_answer(prediction).split()
    best = 0.0
    for gold in golds:
        theirs = normalise_answer(gold).split()
        common = sum((Counter(mine) & Counter(theirs)).values())
        if common:
            precision, recall = common / len(mine), common / len(theirs)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def qa_report(
    predictions: Sequence[str], abstained: Sequence[bool], golds: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Answer quality on answerable questions (an abstention scores 0 there) and abstention
    precision/recall on unanswerable ones (empty gold list)."""
    if not len(predictions) == len(abstained) == len(golds):
        raise ValueError(
            f"expected as many predictions, abstentions and gold lists, got {len(predictions)}, "
            f"{len(abstained)}, {len(golds)}"
        )
    answerable = [i for i, g in enumerate(golds) if g]
    unanswerable = [i for i, g in enumerate(golds) if not g]
    em = [0.0 if abstained[i] else exact_match(predictions[i], golds[i]) for i in answerable]
    f1 = [0.0 if abstained[i] else token_f1(predictions[i], golds[i]) for i in answerable]
    caught = sum(abstained[i] for i in unanswerable)
    total_abstained = sum(abstained)
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "exact_match": sum(em) / len(em) if em else 0.0,
        "f1": sum(f1) / len(f1) if f1 else 0.0,
        "f1_per_question": f1,
        "abstained": total_abstained,
        "abstention_precision": caught / total_abstained if total_abstained else 1.0,
        "abstention_recall": caught / len(unanswerable) if unanswerable else 1.0,
        "answerable_abstained": sum(abstained[i] for i in answerable),
    }
