"""Extractive "generation": answer with the best sentences of the given passages.

There is no chat model offline, yet the shipped QA workflow must run end to end anywhere. With
the encoder alone, two honest fallbacks exist: for a question, return the retrieved sentences
most similar to it; for a summary, return the sentences closest to the centroid of the text
(the most central ones), in their original order. The output is copied text, never new text.
"""

from __future__ import annotations

import re
from typing import Any

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*#]|\s*\d+\.)")
_MARKUP = re.compile(r"^\s*([-*]|\d+\.)\s+|^\[[^\]]+\]\s*")


_WHOLE = re.compile(r"^[A-Z0-9`\"'(].*[.!?][\"')`]?$", re.DOTALL)


def sentences(passages: list[str], min_words: int = 4) -> list[str]:
    """Sentences of the passages: markdown headings dropped (titles are not answers), list
    markers and ``[source]`` prefixes removed, short fragments dropped, duplicates (from
    overlapping chunks) kept once, and pieces cut by chunk boundaries (no capital at the start
    or no full stop at the end) dropped unless nothing else is left."""
    seen: dict[str, None] = {}
    for passage in passages:
        for raw in _SENTENCE_END.split(passage):
            if raw.lstrip().startswith("#"):
                continue
            text = " ".join(_MARKUP.sub("", raw.strip()).split())
            if len(text.split()) >= min_words:
                seen.setdefault(text, None)
    whole = [s for s in seen if _WHOLE.match(s)]
    # Chunks start and end mid-sentence; prefer whole sentences when the text has them.
    return whole or list(seen)


def extract(
    encoder: Any, passages: list[str], question: str | None, count: int
) -> tuple[str, list[str]]:
    """(answer, chosen sentences): nearest to ``question``, or the most central ones when
    there is no question. Question answers are best-first; summaries keep text order."""
    import numpy as np

    candidates = sentences(passages)
    if not candidates:
        return "", []
    vectors = encoder.embed(candidates)
    if question:
        target = encoder.embed([question])[0]
        chosen = list(np.argsort(vectors @ target)[::-1][:count])
    else:
        centroid = vectors.mean(axis=0)
        chosen = sorted(np.argsort(vectors @ centroid)[::-1][:count])
    picked = [candidates[i] for i in chosen]
    return " ".join(picked), picked
