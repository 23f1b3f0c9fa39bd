"""Stop strings: cut generated text at the first one, and stop decoding once one appears.

Servers and models disagree on whether the stop string itself is returned and whether a stop
can straddle tokens, so the text is always cut here as well, the same way for every adapter.
"""

from __future__ import annotations

from typing import Any


def truncate_at_stop(text: str, stop: list[str] | None) -> str:
    """``text`` up to (not including) the earliest occurrence of any stop string."""
    if not stop:
        return text
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]


def stop_criteria(tokenizer: Any, stop: list[str], prompt_length: int) -> Any:
    """A transformers ``StoppingCriteria`` that ends each row once its new text holds a stop.

    Decoding the tail of every row per step costs little next to a forward pass and, unlike
    token-level matching, works with any tokenizer (word-level, byte-level BPE, SentencePiece).
    """
    import torch
    from transformers import StoppingCriteria

    longest = max(len(s) for s in stop)

    class StopOnStrings(StoppingCriteria):
        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> Any:
            done = []
            for row in input_ids:
                # A stop of n characters spans at most n tokens (plus one partial token).
                tail = row[prompt_length:][-(longest + 1) :]
                text = tokenizer.decode(tail, skip_special_tokens=True)
                done.append(any(s in text for s in stop))
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StopOnStrings()
