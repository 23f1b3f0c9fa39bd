"""Cheap fingerprints of files and folders, for ``NodeType.state_fingerprint``.

A node that reads files named by its config (a data file, a knowledge-base folder) returns one
of these so that its cache key changes when the files do. They are taken from ``stat`` only
(relative path, size, modification time in nanoseconds), never from the content: a fingerprint
is computed before every cache lookup, so it must cost microseconds per file even for a large
folder. An edit that keeps both size and mtime (``touch -d`` back in time) is not seen; a node
that must catch that hashes content in ``execute`` instead (``text.index`` does, for its index).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


def digest(*parts: object) -> str:
    """A short hex digest of ``parts`` (their ``repr``, joined): the fingerprint's final form."""
    blob = "\0".join(repr(p) for p in parts)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def files_fingerprint(paths: Iterable[str | os.PathLike[str]], root: Path | None = None) -> str:
    """Fingerprint of some files: each one's path (relative to ``root`` when given), size and
    modification time; a missing file counts as ``missing``, so it still changes the key."""
    entries = []
    for raw in paths:
        path = Path(raw)
        name = str(path.relative_to(root)) if root is not None else str(path)
        try:
            stat = path.stat()
        except OSError:
            entries.append((name, "missing"))
            continue
        entries.append((name, stat.st_size, stat.st_mtime_ns))
    return digest(*sorted(entries, key=lambda e: e[0]))


def folder_fingerprint(folder: str | os.PathLike[str], patterns: Iterable[str] = ("*",)) -> str:
    """Fingerprint of the files under ``folder`` (recursive) that match ``patterns``: a file
    added, removed, renamed or rewritten changes it. A missing folder has its own value."""
    root = Path(folder).resolve()
    if not root.is_dir():
        return digest("missing folder", str(root))
    files = {p for pattern in patterns for p in root.rglob(pattern) if p.is_file()}
    return files_fingerprint(files, root)
