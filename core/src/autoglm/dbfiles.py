"""Database files readable by their owner only, and switched to write-ahead logging safely.

The run store holds every run's inputs and outputs, the key store the digests of API keys; on a
shared machine neither should be world-readable, whatever the umask says. SQLite creates a
database's ``-wal`` and ``-shm`` files with the permissions of the database file itself, so
creating the main file ``0600`` before SQLite opens it covers all three.
"""

from __future__ import annotations

import os
import sqlite3
import time
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


def enable_wal(conn: sqlite3.Connection, timeout_s: float = 30.0) -> None:
    """Switch ``conn``'s database to write-ahead logging, waiting for other processes.

    The switch needs the database to itself for a moment. While another process holds a
    write lock (one creating the same database, say), SQLite reports "database is locked" at
    once instead of calling the busy handler, since waiting could deadlock: the connection's
    timeout does not cover it, so retry here until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
