"""Sentence embeddings from a transformers encoder: mean pooling over real tokens, L2-normalised.

Mean pooling with the attention mask is what sentence-transformers models such as
all-MiniLM-L6-v2 were trained with, so cosine similarity of these vectors matches their
published behaviour without depending on the sentence-transformers package.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_hf import registry
from autoglm_hf.devices import resolve_device, resolve_dtype
from autoglm_hf.embedding_cache import EmbeddingCache, text_digest
from autoglm_hf.locate import folder_version, from_pretrained, resolve_model

#: Longest input when neither the model folder nor the tokenizer says otherwise.
DEFAULT_MAX_LENGTH = 512


def _max_length(model: str, tokenizer: Any, config: Any) -> int:
    """sentence-transformers' ``max_seq_length`` if the folder has it, else the model's limit."""
    st_config = Path(model) / "sentence_bert_config.json"
    if st_config.is_file():
        value = json.loads(st_config.read_text()).get("max_seq_length")
        if isinstance(value, int) and value > 0:
            return value
    limits = [DEFAULT_MAX_LENGTH, getattr(config, "max_position_embeddings", None)]
    limits.append(getattr(tokenizer, "model_max_length", None))
    return min(v for v in limits if isinstance(v, int) and v > 0)


class EncoderBackend:
    """Loaded weights and tokenizer of one encoder on one device (shared per process)."""

    def __init__(self, model: str, device: str, dtype: str, trust_remote_code: bool) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.device = resolve_device(device)
        self.tokenizer = from_pretrained(
            AutoTokenizer.from_pretrained, model, "tokenizer", trust_remote_code=trust_remote_code
        )
        self.model = from_pretrained(
            AutoModel.from_pretrained,
            model,
            "encoder model",
            dtype=resolve_dtype(dtype, self.device),
            trust_remote_code=trust_remote_code,
        )
        self.model.to(self.device).eval()
        self.max_length = _max_length(model, self.tokenizer, self.model.config)
        self._torch = torch
        self._lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        torch = self._torch
        out: list[np.ndarray] = []
        # Batches of similar length waste little compute on padding; rows are put back after.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        with self._lock, torch.inference_mode():
            for start in range(0, len(ordered), batch_size):
                batch = self.tokenizer(
                    ordered[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out.append(pooled.cpu().numpy().astype(np.float32))
        dim = self.model.config.hidden_size
        if not out:
            return np.zeros((0, dim), dtype=np.float32)
        result = np.empty((len(texts), dim), dtype=np.float32)
        result[order] = np.concatenate(out)
        return result


class HFEncoder:
    """The ``Encoder`` of ``autoglm_hf.adapters``, optionally backed by an embedding cache."""

    def __init__(self, backend: EncoderBackend, model_id: str, cache_dir: str | None) -> None:
        self.backend = backend
        self.model_id = model_id
        self.cache = EmbeddingCache(cache_dir) if cache_dir else None
        #: Texts actually run through the model by this object (tests check the cache works).
        self.computed = 0

    @property
    def dim(self) -> int:
        return int(self.backend.model.config.hidden_size)

    @property
    def tokenizer(self) -> Any:
        return self.backend.tokenizer

    def count_cached(self, texts: list[str]) -> int:
        """How many distinct ``texts`` the on-disk cache already holds: what a caller counting
        model calls (a budget, a cost report) must not count as calls."""
        if self.cache is None:
            return 0
        digests = list(dict.fromkeys(text_digest(t) for t in texts))
        return len(self.cache.get_many(self.model_id, digests))

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        """(n, d) float32, L2-normalised rows; texts already in the cache are not recomputed."""
        texts = list(texts)
        if self.cache is None:
            self.computed += len(texts)
            return self.backend.embed(texts, batch_size)
        digests = [text_digest(t) for t in texts]
        found = self.cache.get_many(self.model_id, digests)
        missing = list(dict.fromkeys(d for d in digests if d not in found))
        if missing:
            first_text = {d: t for d, t in zip(digests, texts, strict=True)}
            vectors = self.backend.embed([first_text[d] for d in missing], batch_size)
            self.computed += len(missing)
            new = dict(zip(missing, vectors, strict=True))
            self.cache.put_many(self.model_id, new)
            found.update(new)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[d] for d in digests]).astype(np.float32, copy=False)


def load_encoder(
    model: str,
    *,
    device: str = "auto",
    dtype: str = "float32",
    trust_remote_code: bool = False,
    cache_dir: str | None = None,
) -> HFEncoder:
    """Shared per process: the same arguments return the same object, weights load once."""
    resolved = resolve_model(model)
    version = folder_version(resolved)
    backend_key = ("hf-encoder-backend", resolved, version, device, dtype, trust_remote_code)
    backend = registry.shared(
        backend_key, lambda: EncoderBackend(resolved, device, dtype, trust_remote_code)
    )
    cache = str(Path(cache_dir).resolve()) if cache_dir else None
    key = ("hf-encoder", resolved, version, device, dtype, trust_remote_code, cache)
    model_id = f"{resolved}@{version}" if version else resolved
    return registry.shared(key, lambda: HFEncoder(backend, model_id, cache))
