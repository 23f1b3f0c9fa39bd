"""A knowledge-base index on disk: passages of a folder's documents and their embeddings.

The index is content-addressed: its folder name is a hash of the encoder, the chunking settings
and every document's path and bytes. Building the same knowledge base again (every run of a QA
workflow) finds the folder and embeds nothing; editing one file makes a new index, and the
embedding cache still spares the unchanged passages. An index folder holds ``vectors.npy``
(float32, L2-normalised rows), ``passages.json`` (text, source, character span) and
``meta.json`` (encoder, settings, document list), written to a temporary folder and renamed so
a killed build never leaves a half index behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autoglm_text.chunking import split_tokens

INDEX_FORMAT = 1


@dataclass(frozen=True)
class Passage:
    text: str
    source: str  # document path relative to the knowledge-base folder
    start: int
    end: int


def find_documents(folder: str | Path, patterns: list[str]) -> list[Path]:
    """Files under ``folder`` matching ``patterns`` (recursive), sorted; clear error if none."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(
            f"knowledge base folder {str(folder)!r} does not exist (relative paths are taken "
            f"from the current directory, {os.getcwd()!r})"
        )
    files = sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file()})
    if not files:
        raise FileNotFoundError(
            f"knowledge base folder {str(folder)!r} has no files matching {patterns}"
        )
    return files


def index_key(encoder_id: str, settings: dict[str, Any], root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256(json.dumps([INDEX_FORMAT, encoder_id, settings]).encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def passages_of(
    root: Path, files: list[Path], tokenizer: Any, chunk: int, overlap: int
) -> list[Passage]:
    passages = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        source = str(path.relative_to(root))
        for piece in split_tokens(text, tokenizer, chunk, overlap):
            passages.append(Passage(piece.text, source, piece.start, piece.end))
    return passages


def build_index(
    folder: str | Path,
    out_root: Path,
    encoder: Any,
    *,
    encoder_spec: dict[str, Any],
    patterns: list[str],
    chunk_tokens: int,
    overlap: int,
    batch_size: int = 32,
) -> tuple[Path, bool]:
    """The index folder for ``folder`` (built unless an identical one exists) and whether it
    was reused."""
    import numpy as np

    root = Path(folder).resolve()
    files = find_documents(root, patterns)
    settings = {"patterns": patterns, "chunk_tokens": chunk_tokens, "overlap": overlap}
    target = out_root / index_key(encoder.model_id, settings, root, files)
    if (target / "meta.json").is_file():
        return target, True
    passages = passages_of(root, files, encoder.tokenizer, chunk_tokens, overlap)
    vectors = encoder.embed([p.text for p in passages], batch_size=batch_size)
    out_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=out_root))
    try:
        np.save(staging / "vectors.npy", vectors)
        (staging / "passages.json").write_text(json.dumps([asdict(p) for p in passages]))
        meta = {
            "format": INDEX_FORMAT,
            "encoder": encoder.model_id,
            "encoder_spec": {k: v for k, v in encoder_spec.items() if k != "cache_dir"},
            "settings": settings,
            "documents": [str(p.relative_to(root)) for p in files],
            "passages": len(passages),
            "dim": int(vectors.shape[1]),
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            staging.rename(target)
        except OSError:  # built concurrently by another process: theirs is identical
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target, False


@dataclass
class LoadedIndex:
    meta: dict[str, Any]
    passages: list[Passage]
    vectors: Any  # numpy (n, d)

    def search(self, query_vector: Any, k: int, min_score: float) -> list[tuple[Passage, float]]:
        """Top-``k`` passages by cosine (rows and query are unit vectors: a dot product)."""
        if not self.passages:
            return []
        scores = self.vectors @ query_vector
        order = scores.argsort()[::-1][:k]
        return [(self.passages[i], float(scores[i])) for i in order if scores[i] >= min_score]


def load_index(path: str | Path) -> LoadedIndex:
    import numpy as np

    folder = Path(path)
    meta_file = folder / "meta.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"index {str(path)!r}: no meta.json; build it with text.index")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != INDEX_FORMAT:
        raise ValueError(
            f"index {str(path)!r}: format {meta.get('format')}, expected {INDEX_FORMAT}"
        )
    passages = [Passage(**p) for p in json.loads((folder / "passages.json").read_text())]
    vectors = np.load(folder / "vectors.npy")
    return LoadedIndex(meta, passages, vectors)
