"""Text: token ids padded or truncated to a fixed length, with attention masks.

Two tokenizers: ``words``, a lower-cased word vocabulary fitted on the training items only
(no download, no model: an unseen word in test is ``[UNK]``, as it would be in deployment), and
any local Hugging Face tokenizer folder (``AutoTokenizer``, never fetched from the hub).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PAD, UNK = 0, 1
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass
class Vocabulary:
    """Word -> id, fitted on training texts; ids 0 and 1 are padding and unknown."""

    tokens: list[str]
    fitted_on: int

    @classmethod
    def fit(cls, texts: list[str], min_count: int, max_size: int) -> Vocabulary:
        counts = Counter(w for t in texts for w in words(t))
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls(["[PAD]", "[UNK]", *kept[: max_size - 2]], len(texts))

    def encode(self, texts: list[str], length: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, mask), each (len(texts) x length): truncated, then padded with [PAD]."""
        index = {w: i for i, w in enumerate(self.tokens)}
        ids = np.full((len(texts), length), PAD, np.int64)
        mask = np.zeros((len(texts), length), np.int8)
        for row, text in enumerate(texts):
            encoded = [index.get(w, UNK) for w in words(text)][:length]
            ids[row, : len(encoded)] = encoded
            mask[row, : len(encoded)] = 1
        return ids, mask

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "fitted_on": self.fitted_on}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        data = json.loads(Path(path).read_text())
        return cls(list(data["tokens"]), int(data["fitted_on"]))


def hf_encode(folder: str, texts: list[str], length: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(ids, mask, vocabulary size) with a local Hugging Face tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    out = tokenizer(
        texts, padding="max_length", truncation=True, max_length=length, return_tensors="np"
    )
    return (
        out["input_ids"].astype(np.int64),
        out["attention_mask"].astype(np.int8),
        int(tokenizer.vocab_size),
    )
