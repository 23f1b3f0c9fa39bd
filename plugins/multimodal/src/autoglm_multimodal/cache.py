"""Per-file feature cache keyed by content and config.

The key is the SHA-256 of the file's bytes and a digest of every config value that changes the
features, never the path or modification time: a renamed or copied recording is a hit, an
edited one a miss, and changing ``n_mfcc`` never returns stale features. Raw (unstandardised)
features are cached, because standardisation depends on the split and is cheap to redo.
Writes are atomic (temporary file, then rename), so parallel workers never read half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


def content_digest(data: bytes) -> str:
    """The cache key of a file's content."""
    return hashlib.sha256(data).hexdigest()


class FeatureCache:
    """Arrays stored as ``<root>/<config digest>/<ab>/<content digest>.npy``."""

    def __init__(self, root: str | Path | None, config_digest: str) -> None:
        self.folder = None if root is None else Path(root) / config_digest

    def get(self, key: str) -> np.ndarray | None:
        if self.folder is None:
            return None
        path = self.folder / key[:2] / f"{key}.npy"
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, key: str, array: np.ndarray) -> None:
        if self.folder is None:
            return
        target = self.folder / key[:2] / f"{key}.npy"
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                np.save(out, array, allow_pickle=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
