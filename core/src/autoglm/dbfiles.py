"""Database files readable by their owner only.

The run store holds every run's inputs and outputs, the key store the digests of API keys; on a
shared machine neither should be world-readable, whatever the umask says. SQLite creates a
database's ``-wal`` and ``-shm`` files with the permissions of the database file itself, so
creating the main file ``0600`` before SQLite opens it covers all three.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_database(path: Path) -> Path:
    """Make ``path``'s folder (``0700`` when created here) and the empty database file
    (``0600``) unless it exists; an existing file keeps the mode its owner gave it."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    # the umask may have cleared bits of 0600 but never adds any; set it exactly anyway
    os.chmod(path, PRIVATE_FILE_MODE)
    return path
