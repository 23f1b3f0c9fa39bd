"""Causal language models through transformers: generation and continuation scoring.

One ``HFCausalLM`` wraps ``AutoModelForCausalLM`` and its tokenizer (GLM-4 and Qwen2/2.5 are
native model types in transformers 4.56+; others need ``trust_remote_code``, off unless the
config turns it on). Prompts are raw text (completion style) or chat messages (rendered with
the tokenizer's chat template). Batches are left-padded by hand, so raw and chat prompts can be
mixed and each row keeps the special tokens its own form needs.
"""

from __future__ import annotations

import threading
from typing import Any

from autoglm_hf import registry
from autoglm_hf.devices import resolve_device, resolve_dtype
from autoglm_hf.errors import AdapterError
from autoglm_hf.locate import folder_version, from_pretrained, resolve_model
from autoglm_hf.stops import stop_criteria, truncate_at_stop


def check_messages(messages: Any) -> list[dict]:
    """Chat messages must be ``[{"role": str, "content": str}, ...]``; say which one is not."""
    if not isinstance(messages, list) or not messages:
        raise AdapterError(f"chat prompt: expected a non-empty list of messages, got {messages!r}")
    for i, message in enumerate(messages):
        if not (
            isinstance(message, dict)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            raise AdapterError(
                f"chat prompt message {i}: expected {{'role': str, 'content': str}}, "
                f"got {message!r}"
            )
    return messages


class HFCausalLM:
    """The ``TextModel`` of ``autoglm_hf.adapters`` for a local transformers model."""

    def __init__(self, model: str, device: str, dtype: str, trust_remote_code: bool) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_id = model
        self.device = resolve_device(device)
        self.tokenizer = from_pretrained(
            AutoTokenizer.from_pretrained, model, "tokenizer", trust_remote_code=trust_remote_code
        )
        self.model = from_pretrained(
            AutoModelForCausalLM.from_pretrained,
            model,
            "causal language model",
            dtype=resolve_dtype(dtype, self.device),
            trust_remote_code=trust_remote_code,
        )
        self.model.to(self.device).eval()
        gen = self.model.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else self.tokenizer.eos_token_id
        self.eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (self.eos_ids[0] if self.eos_ids else 0)
        self._torch = torch
        # One generation at a time per model: torch's global RNG (seeded decoding) and the
        # CPU thread pool are process-wide, so concurrent calls would only slow each other.
        self._lock = threading.Lock()

    # --------------------------------------------------------------- encoding

    def render(self, prompt: str | list[dict]) -> list[int]:
        """Token ids of a prompt: raw text as is, chat messages through the chat template."""
        if isinstance(prompt, str):
            return self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
        messages = check_messages(prompt)
        if not getattr(self.tokenizer, "chat_template", None):
            raise AdapterError(
                f"model {self.model_id!r}: chat messages need a tokenizer with a chat template, "
                "and this one has none; pass the prompt as a plain string instead"
            )
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _left_padded(self, rows: list[list[int]]) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            if row:
                ids[i, width - len(row) :] = torch.tensor(row)
                mask[i, width - len(row) :] = 1
        return ids.to(self.device), mask.to(self.device)

    def _start_ids(self) -> list[int]:
        """A first token for empty prompts (a model needs something to condition on)."""
        bos = self.tokenizer.bos_token_id
        return [bos if bos is not None else self.pad_id]

    # ------------------------------------------------------------- generation

    def generate(
        self,
        prompts: list[str | list[dict]],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        seed: int | None = None,
        batch_size: int = 8,
    ) -> list[str]:
        """Greedy when ``temperature`` is 0, else sampling; ``seed`` makes sampling repeatable."""
        if max_new_tokens < 1:
            raise AdapterError(f"max_new_tokens: expected at least 1, got {max_new_tokens}")
        if temperature < 0 or not 0 < top_p <= 1:
            raise AdapterError(
                f"expected temperature >= 0 and 0 < top_p <= 1, got {temperature}, {top_p}"
            )
        stop = [s for s in (stop or []) if s]
        encoded = [self.render(p) or self._start_ids() for p in prompts]
        outputs: list[str] = []
        for start in range(0, len(encoded), batch_size):
            rows = encoded[start : start + batch_size]
            outputs.extend(
                self._generate_batch(rows, max_new_tokens, temperature, top_p, stop, seed)
            )
        return outputs

    def _generate_batch(
        self,
        rows: list[list[int]],
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        stop: list[str],
        seed: int | None,
    ) -> list[str]:
        from transformers import StoppingCriteriaList

        torch = self._torch
        ids, mask = self._left_padded(rows)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "pad_token_id": self.pad_id,
            "eos_token_id": self.eos_ids or None,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs["stopping_criteria"] = StoppingCriteriaList(
                [stop_criteria(self.tokenizer, stop, ids.shape[1])]
            )
        with self._lock, torch.inference_mode():
            if seed is not None:
                torch.manual_seed(seed)
            out = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
        new = out[:, ids.shape[1] :]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [truncate_at_stop(t, stop).strip() for t in texts]

    # ---------------------------------------------------------------- scoring

    def score(self, prompt: str, continuations: list[str], *, batch_size: int = 16) -> list[float]:
        """Sum of log p(token | prefix) over each continuation's tokens after ``prompt``.

        The continuation is tokenised on its own and appended to the prompt's ids, so its
        token boundaries do not depend on the prompt (put a leading space in the continuation
        when the tokenizer attaches spaces to words, as BPE tokenizers do).
        """
        prefix = self.tokenizer(prompt, add_special_tokens=True)["input_ids"] or self._start_ids()
        conts = [self.tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        scores: list[float] = []
        for start in range(0, len(conts), batch_size):
            scores.extend(self._score_batch(prefix, conts[start : start + batch_size]))
        return scores

    def _score_batch(self, prefix: list[int], conts: list[list[int]]) -> list[float]:
        rows = [prefix + c for c in conts]
        logprobs = self._token_logprobs(rows)
        return [
            float(lp[len(prefix) - 1 :].sum()) if c else 0.0
            for lp, c in zip(logprobs, conts, strict=True)
        ]

    def _token_logprobs(self, rows: list[list[int]]) -> list[Any]:
        """For each row, log p(row[i+1] | row[:i+1]) for i in 0..len-2 (a 1-D CPU tensor)."""
        torch = self._torch
        ids, mask = self._left_padded(rows)
        with self._lock, torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        picked = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1).cpu()
        width = ids.shape[1]
        return [picked[i, width - len(row) :] for i, row in enumerate(rows)]

    def token_logprobs(self, text: str) -> list[tuple[str, int, float | None]]:
        """(token text, character offset, log-probability) per token of ``text``; the first
        token has no probability. This is what OpenAI's ``echo`` + ``logprobs`` returns, and
        what the bundled server uses to let remote clients score continuations."""
        enc = self.tokenizer(text, add_special_tokens=True, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        if not ids:
            return []
        values = self._token_logprobs([ids])[0].tolist() if len(ids) > 1 else []
        return [
            (
                text[a:b] if b > a else self.tokenizer.decode([tok]),
                a,
                None if i == 0 else values[i - 1],
            )
            for i, (tok, (a, b)) in enumerate(zip(ids, offsets, strict=True))
        ]


def load_causal_lm(
    model: str, *, device: str = "auto", dtype: str = "auto", trust_remote_code: bool = False
) -> HFCausalLM:
    """Shared per process: the same arguments return the same object, weights load once."""
    resolved = resolve_model(model)
    key = ("hf-causal", resolved, folder_version(resolved), device, dtype, trust_remote_code)
    return registry.shared(key, lambda: HFCausalLM(resolved, device, dtype, trust_remote_code))
