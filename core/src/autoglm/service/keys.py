"""API keys: created and revoked with ``autoglm keys``, checked by the service on each request.

A key is ``agk_<id>_<secret>``: the id (public, shown by ``keys list``) finds the row, the whole
token is compared by its SHA-256 digest in constant time. Only the digest is stored, so a copy
of the database gives no usable key. The table lives in its own SQLite file under the home
folder (``keys.sqlite``), beside the run store, so the run store's schema stays the engine's.
A revoked key fails at once: the service reads the table on every request (an indexed lookup
of a few microseconds), it caches nothing. The file (and its -wal and -shm) is created 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from pydantic import BaseModel

from autoglm.dbfiles import enable_wal, private_database
from autoglm.service.schemas import SCOPES

PREFIX = "agk"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
"""


class ApiKey(BaseModel):
    """A stored key, without its secret."""

    id: str
    name: str
    scopes: list[str]
    created_at: float
    revoked_at: float | None = None

    def allows(self, scope: str) -> bool:
        """``admin`` implies every scope."""
        return scope in self.scopes or "admin" in self.scopes


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"read,submit"`` or a list, checked against ``SCOPES``; raises ``ValueError``."""
    names = text.split(",") if isinstance(text, str) else list(text)
    scopes = sorted({name.strip() for name in names if name.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(
            f"scopes: expected a comma-separated subset of {', '.join(SCOPES)}, found {text!r}"
        )
    return scopes


class KeyStore:
    """The ``api_keys`` table of ``<home>/keys.sqlite``. Thread-safe."""

    def __init__(self, path: str | Path) -> None:
        self.path = private_database(Path(path))
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=30.0, check_same_thread=False, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            enable_wal(self._conn)
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(_SCHEMA)

    @classmethod
    def in_home(cls, home: str | Path) -> KeyStore:
        return cls(Path(home) / "keys.sqlite")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def create(self, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
        """Store a new key; return it and its token (shown once, never stored)."""
        scopes = parse_scopes(scopes)
        key_id = secrets.token_hex(6)
        token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        key = ApiKey(id=key_id, name=name, scopes=scopes, created_at=time.time())
        with self._lock:
            self._conn.execute(
                "INSERT INTO api_keys(id, name, scopes, digest, created_at) VALUES (?,?,?,?,?)",
                (key.id, key.name, ",".join(scopes), _digest(token), key.created_at),
            )
        return key, token

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id; False if there is no such active key."""
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE api_keys SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                (time.time(), key_id),
            )
        return cursor.rowcount == 1

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM api_keys {where} ORDER BY created_at"
            ).fetchall()
        return [_key(row) for row in rows]

    def count_active(self) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL"
            ).fetchone()
        return int(row["n"])

    def verify(self, token: str | None) -> ApiKey | None:
        """The active key ``token`` belongs to, or None (malformed, unknown, wrong, revoked)."""
        if not token or len(token) > 200:
            return None
        prefix, _, rest = token.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != PREFIX or not key_id or not secret:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM api_keys WHERE id=? AND revoked_at IS NULL", (key_id,)
            ).fetchone()
        if row is None or not hmac.compare_digest(row["digest"], _digest(token)):
            return None
        return _key(row)


def _key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        scopes=row["scopes"].split(","),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
