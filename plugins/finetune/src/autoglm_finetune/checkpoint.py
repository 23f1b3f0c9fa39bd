"""Classifier checkpoints: a folder that reloads and predicts.

``classifier.json`` (format, kind, labels, which encoder, max length, metrics), ``head.npz`` (the
head's arrays, no pickle) and, for a fine-tuned encoder, ``encoder/`` (``save_pretrained``
weights and tokenizer, plus ``sentence_bert_config.json`` with the training maximum length so
the adapter embeds exactly as training did). A frozen-encoder probe stores the encoder's name
instead (``default`` = all-MiniLM-L6-v2), so a probe checkpoint is a few hundred kilobytes.

A fine-tune of several seeded members (``seeds``) holds one more encoder folder and head per
member after the first (``encoder_1/`` and ``head_1.npz``, ...), listed in ``classifier.json``
under ``members``; its probabilities are the members' mean.

A fine-tune blended with the probe (``ensemble: probe``) also holds ``probe_head.npz`` and, in
``classifier.json``, ``blend``: the frozen encoder's name and the probe's weight, so its
probabilities are ``(1 - weight) * fine-tuned + weight * probe``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_finetune.ensemble import average, blend
from autoglm_finetune.heads import Head

FORMAT = 1
META = "classifier.json"
HEAD = "head.npz"
PROBE_HEAD = "probe_head.npz"
ENCODER_DIR = "encoder"


def save_encoder(model: Any, tokenizer: Any, folder: Path, max_length: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_length, "do_lower_case": False})
    )


def save_classifier(
    folder: Path, *, kind: str, labels: list[str], head: Head, encoder: str, extra: dict
) -> str:
    """Write ``classifier.json`` and ``head.npz``; ``encoder`` is a name/folder, or
    ``ENCODER_DIR`` for the fine-tuned copy inside ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    head.save(folder / HEAD)
    meta = {"format": FORMAT, "kind": kind, "labels": labels, "encoder": encoder, **extra}
    (folder / META).write_text(json.dumps(meta, indent=1))
    return str(folder)


def member_files(index: int) -> tuple[str, str]:
    """(encoder folder, head file) of the seeded member ``index`` (0: the first, unsuffixed)."""
    if index == 0:
        return ENCODER_DIR, HEAD
    return f"{ENCODER_DIR}_{index}", f"head_{index}.npz"


@dataclass
class Member:
    """A head on an encoder: one term of the prediction."""

    head: Head
    encoder: Any

    def probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.head.probabilities(self.encoder.embed(texts, batch_size=batch_size))


@dataclass
class Blend(Member):
    """The probe: a head on the frozen encoder, mixed in with its weight."""

    weight: float = 0.0


@dataclass
class Classifier:
    folder: Path
    meta: dict[str, Any]
    head: Head
    encoder: Any
    blend: Blend | None = None
    #: Further seeded fine-tunes, averaged with the first (head, encoder).
    members: list[Member] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return self.meta["labels"]

    def probabilities(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        first = Member(self.head, self.encoder)
        own = average([m.probabilities(texts, batch_size) for m in [first, *self.members]])
        if self.blend is None or not self.blend.weight:
            return own
        return blend(own, self.blend.probabilities(texts, batch_size), self.blend.weight)

    def predict(self, texts: list[str], batch_size: int = 64) -> list[str]:
        if not texts:
            return []
        best = self.probabilities(texts, batch_size).argmax(axis=1)
        return [self.labels[i] for i in best]


def load_classifier(
    folder: str | Path, *, device: str = "cpu", cache_dir: str | None = None
) -> Classifier:
    """Reload a checkpoint written by any ``finetune.*`` classifier node."""
    root = Path(folder)
    meta_file = root / META
    if not meta_file.is_file():
        raise FileNotFoundError(f"checkpoint {str(folder)!r}: no {META} (not a finetune output)")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"checkpoint {str(folder)!r}: format {meta.get('format')}, not {FORMAT}")
    blend = None
    if meta.get("blend"):
        other = _encoder(root, meta["blend"]["encoder"], device, cache_dir)
        blend = Blend(Head.load(root / PROBE_HEAD), other, float(meta["blend"]["weight"]))
    members = [
        Member(Head.load(root / m["head"]), _encoder(root, m["encoder"], device, cache_dir))
        for m in meta.get("members", [])
    ]
    encoder = _encoder(root, meta["encoder"], device, cache_dir)
    return Classifier(root, meta, Head.load(root / HEAD), encoder, blend, members)


def _encoder(root: Path, name: str, device: str, cache_dir: str | None) -> Any:
    from autoglm_hf.api import from_spec

    fine_tuned = name == ENCODER_DIR or name.startswith(f"{ENCODER_DIR}_")
    spec: dict[str, Any] = {
        "kind": "hf-encoder",
        "model": str(root / name) if fine_tuned else name,
        "device": device,
    }
    if cache_dir and not fine_tuned:
        # A fine-tuned encoder's folder is new: caching its vectors would only fill the disk.
        spec["cache_dir"] = cache_dir
    return from_spec(spec)
