"""Token-aware splitting on the real MiniLM tokenizer."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from autoglm.testing import run_node
from autoglm_text.chunking import load_tokenizer, split_tokens
from autoglm_text.node_split import SplitNode

TEXT = (
    "Graph neural networks aggregate messages from neighbouring nodes. "
    "Hyperparameter optimisation searches learning rates, dropout and hidden sizes. "
    "Unbelievably, tokenisation splits rare words into several subword pieces! "
) * 4


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("default")


def _token_count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize(("size", "overlap"), [(16, 4), (24, 0), (7, 6)])
def test_windows_fit_overlap_and_cover(tokenizer, size, overlap):
    chunks = split_tokens(TEXT, tokenizer, size, overlap)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == TEXT[chunk.start : chunk.end]  # exact substrings
        assert 1 <= chunk.tokens <= size
        assert _token_count(tokenizer, chunk.text) == chunk.tokens
        assert TEXT[chunk.start].isalnum() or TEXT[chunk.start] in ",.!"
    # consecutive chunks overlap (or touch) and together cover every character but spaces
    for before, after in itertools.pairwise(chunks):
        assert after.start > before.start and after.start <= before.end + 1
    assert chunks[0].start == 0 and chunks[-1].end == len(TEXT.rstrip())
    if overlap:
        assert all(a.start < b.end for b, a in itertools.pairwise(chunks))


def test_words_are_not_cut_at_window_edges(tokenizer):
    words = set(TEXT.replace(".", " ").replace(",", " ").replace("!", " ").split())
    for chunk in split_tokens(TEXT, tokenizer, 9, 2):
        edge_words = chunk.text.replace(".", " ").replace(",", " ").replace("!", " ").split()
        assert edge_words[0] in words and edge_words[-1] in words


def test_a_word_longer_than_the_window_is_cut_but_kept(tokenizer):
    text = "supercalifragilisticexpialidocious word"
    chunks = split_tokens(text, tokenizer, 3, 1)
    joined = "".join(c.text for c in chunks)
    assert all(c.tokens <= 3 for c in chunks)
    assert "docious" in joined and chunks[-1].text == "word"


def test_blank_text_gives_no_chunks(tokenizer):
    assert split_tokens("  \n ", tokenizer, 8, 2) == []


def test_split_node_outputs_spans_and_counts(autoglm_home):
    out = run_node(SplitNode, {"chunk_tokens": 20, "overlap": 5}, {"text": TEXT}, home=autoglm_home)
    assert len(out.chunks) == len(out.spans) == len(out.token_counts) > 2
    assert all(TEXT[a:b] == c for (a, b), c in zip(out.spans, out.chunks, strict=True))
    assert max(out.token_counts) <= 20


def test_overlap_must_be_smaller_than_chunk(autoglm_home):
    with pytest.raises(ValidationError, match="0 <= overlap < chunk_tokens"):
        run_node(SplitNode, {"chunk_tokens": 8, "overlap": 8}, {"text": "x"}, home=autoglm_home)
