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


#: Words that carry no content in a question ("how does the ... work?").
_STOP_TEXT = (
    "a an the of to in on for and or is are was were be been do does did how what which who "
    "whom when where why can could i my me we you your it its this that these those with by "
    "from as at into about there their them they not no should would will may might must have "
    "has had so if then than also just only any some all each every more most other such own "
    "same too very"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+")

#: Weight of the question's content words found in a sentence, beside the cosine. MiniLM's
#: cosine alone prefers sentences *about* the topic ("The tuner plugin provides tuner.search")
#: over the one that answers ("The search strategies are Nevergrad optimisers"); the answering
#: sentence usually repeats the question's rarer words. 0.3 measured best on the calibration
#: questions of bench/data/kb_qa.jsonl (bench/qa_eval.py).
LEXICAL_WEIGHT = 0.3

#: A further sentence joins the answer only when it covers this share (idf-weighted) of the
#: question's content words that the answer so far does not: most questions need one sentence.
NEW_COVERAGE = 0.25


def _stem(word: str) -> str:
    """A crude stem: a plural "s" dropped, then five letters (lists/list, optimisers/optimiser)."""
    if len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    return word[:5]


def content_terms(text: str) -> set[str]:
    """Stems of the lower-cased content words of ``text``."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS}


def sentence_scores(
    question_vector: Any, vectors: Any, question: str, candidates: list[str]
) -> tuple[Any, list[set[str]], dict[str, float]]:
    """Cosine to the question plus ``LEXICAL_WEIGHT`` times the idf-weighted share of the
    question's content words each sentence holds (idf over the candidates: a word every
    sentence shares, such as the product's name, counts little). Returns the scores, each
    sentence's question terms and the terms' idf."""
    import math

    import numpy as np

    asked = content_terms(question)
    held = [content_terms(c) & asked for c in candidates]
    n = len(candidates)
    idf = {t: math.log(1 + n / (1 + sum(t in h for h in held))) for t in asked}
    total = sum(idf.values()) or 1.0
    overlap = np.array([sum(idf[t] for t in h) / total for h in held])
    return vectors @ question_vector + LEXICAL_WEIGHT * overlap, held, idf


#: Where a question asks a second question: ", and how ...", "; what ...", "? Which ...".
_PART_BREAK = re.compile(
    r"(?:,\s*(?:and|but)\s+|;\s*|\?\s+)"
    r"(?=(?:how|what|which|why|when|where|who|does|do|is|are|can)\b)",
    re.IGNORECASE,
)


def question_parts(question: str) -> list[str]:
    """The questions inside ``question`` ("Which optimiser does the tuner use, and how does
    successive halving work?" is two); one part for an ordinary question."""
    return [p.strip() for p in _PART_BREAK.split(question) if p.strip()]


def extract(
    encoder: Any, passages: list[str], question: str | None, count: int
) -> tuple[str, list[str], float | None]:
    """(answer, chosen sentences, answer score). Without a question (a summary): the ``count``
    sentences nearest the centroid, in text order, and no score. For a question of several
    parts: the best sentence for each part (by ``sentence_scores``), in the parts' order, and
    the *weakest* part's score (every part must be answered). For one part: the best sentence,
    then up to ``count - 1`` more, each only if it covers enough of the question the answer does
    not yet; the score is the best sentence's."""
    import numpy as np

    candidates = sentences(passages)
    if not candidates:
        return "", [], None
    vectors = encoder.embed(candidates)
    if not question:
        centroid = vectors.mean(axis=0)
        chosen = sorted(np.argsort(vectors @ centroid)[::-1][:count])
        picked = [candidates[i] for i in chosen]
        return " ".join(picked), picked, None
    parts = question_parts(question)[:count]
    if len(parts) > 1:
        chosen, part_scores = [], []
        for part, part_vector in zip(parts, encoder.embed(parts), strict=True):
            scores, _, _ = sentence_scores(part_vector, vectors, part, candidates)
            best = int(np.argmax(scores))
            part_scores.append(float(scores[best]))
            if best not in chosen:
                chosen.append(best)
        picked = [candidates[i] for i in chosen]
        return " ".join(picked), picked, min(part_scores)
    scores, held, idf = sentence_scores(encoder.embed([question])[0], vectors, question, candidates)
    order = [int(i) for i in np.argsort(scores)[::-1]]
    chosen = [order[0]]
    covered = set(held[order[0]])
    total = sum(idf.values()) or 1.0
    for i in order[1:]:
        if len(chosen) >= count:
            break
        if sum(idf[t] for t in held[i] - covered) / total >= NEW_COVERAGE:
            chosen.append(i)
            covered |= held[i]
    picked = [candidates[i] for i in chosen]
    return " ".join(picked), picked, float(scores[order[0]])
