"""An on-disk embedding cache keyed by (model, sha256(text)).

Retrieval indexes, nearest-example routers and prompt optimisers embed the same texts over and
over (a knowledge base at every run, the same few hundred evaluation sentences per trial).
SQLite gives a single file that several threads and processes may share safely, and a row
per text means a partially cached batch only embeds its missing texts.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from autoglm.dbfiles import enable_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL,
    digest TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, digest)
)
"""


def text_digest(text: str) -> str:
    """The key of one text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Stores float32 vectors per (model, text digest) in ``<folder>/embeddings.sqlite``."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as conn:
            enable_wal(conn)
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, model: str, digests: list[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``digests`` (missing ones are simply absent)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(digests))
        with self._lock, self._connect() as conn:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = "SELECT digest, vector FROM embeddings WHERE model = ? AND digest IN "
                rows = conn.execute(f"{query}({marks})", [model, *chunk])
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        rows = [
            (model, digest, int(vec.shape[0]), np.asarray(vec, dtype=np.float32).tobytes())
            for digest, vec in items.items()
        ]
        with self._lock, self._connect() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)

    def count(self, model: str | None = None) -> int:
        with self._lock, self._connect() as conn:
            if model is None:
                return conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
            query = "SELECT COUNT(*) FROM embeddings WHERE model = ?"
            return conn.execute(query, (model,)).fetchone()[0]
