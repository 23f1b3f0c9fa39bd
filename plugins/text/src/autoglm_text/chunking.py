"""Token-aware splitting with overlap.

Models see tokens, not characters or words: a chunk of 128 *tokens* is guaranteed to fit an
encoder's window, while 128 words may not (subwords, numbers, code). Windows are cut on the
tokenizer's offset mapping and each chunk is the exact substring of the original text between
its first and last token, so no decode artefacts (``##`` pieces, lost case) leak into passages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int  # character offsets into the original text
    end: int
    tokens: int


def load_tokenizer(name: str) -> Any:
    """A tokenizer by folder or hub id; ``default`` is all-MiniLM-L6-v2's. Shared per process."""
    from autoglm_hf.api import default_encoder_path, from_pretrained, resolve_model, shared

    path = resolve_model(default_encoder_path() if name == "default" else name)

    def load() -> Any:
        from transformers import AutoTokenizer

        return from_pretrained(AutoTokenizer.from_pretrained, path, "tokenizer")

    return shared(("tokenizer", path), load)


#: Longest chunk (and overlap) in tokens: longer than any encoder's context (512 for MiniLM and
#: most BERTs, 8192 for long-context encoders), so only a mistake or an attack goes past it.
MAX_WINDOW_TOKENS = 8192


def check_window(chunk_tokens: int, overlap: int) -> None:
    if chunk_tokens < 1 or not 0 <= overlap < chunk_tokens:
        raise ValueError(
            f"expected chunk_tokens >= 1 and 0 <= overlap < chunk_tokens, "
            f"got chunk_tokens={chunk_tokens}, overlap={overlap}"
        )


def split_tokens(text: str, tokenizer: Any, chunk_tokens: int, overlap: int) -> list[Chunk]:
    """Windows of at most ``chunk_tokens`` tokens, the next starting about ``overlap`` tokens
    before the previous one ended. Windows start and end on word boundaries (a word longer
    than a whole window is the only thing ever cut); blank text gives no chunks."""
    check_window(chunk_tokens, overlap)
    if not tokenizer.is_fast:
        raise ValueError("token-aware splitting needs a fast tokenizer (offset mapping)")
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    kept = [
        (span, word)
        for span, word in zip(encoded["offset_mapping"], encoded.word_ids(), strict=True)
        if span[1] > span[0]
    ]
    offsets = [span for span, _ in kept]
    words = [word for _, word in kept]
    count = len(offsets)

    def inside_word(i: int) -> bool:
        """Token ``i`` continues the word of token ``i - 1``."""
        return 0 < i < count and words[i] == words[i - 1]

    chunks: list[Chunk] = []
    first = 0
    while first < count:
        end = min(first + chunk_tokens, count)
        cut = end
        while cut > first + 1 and inside_word(cut):
            cut -= 1
        forced = inside_word(cut)
        if forced:  # one word longer than the window: cut it, and continue inside it
            cut = end
        start_char, end_char = offsets[first][0], offsets[cut - 1][1]
        chunks.append(Chunk(text[start_char:end_char], start_char, end_char, cut - first))
        if cut >= count:
            break
        first = max(cut - overlap, first + 1)
        while inside_word(first) and not forced:
            first += 1
    return chunks
