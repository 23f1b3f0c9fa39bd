"""The run feed: node progress (``context.progress``) and node log lines, written by the
process that executes a run, read by whoever watches it (``autoglm.run_events``).

Why a file of its own (``<home>/feed.sqlite``) and not the run store: progress is chatty and
disposable, and must not count against a run's store budget (``limits.store_mb``), slow the
store's single writer path, or survive as history. Writes are bounded: progress at most
``PROGRESS_EVERY_S`` apart per node (a report that completes its total always passes), at
most ``MAX_LOG_LINES`` log lines per node, each cut to ``MAX_LINE``.
A feed that cannot be written is dropped silently: watching must never fail a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from autoglm.dbfiles import enable_wal

FEED_FILE = "feed.sqlite"
PROGRESS_EVERY_S = 0.2
MAX_LOG_LINES = 500
MAX_LINE = 2000
#: log fields that are context, not content: left out of a line's text
_CONTEXT_KEYS = {"event", "level", "timestamp", "run_id", "node", "node_type", "request_id"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feed_run ON feed(run_id, seq);
"""


def read_feed(path: Path, run_id: str, after: int) -> list[tuple[int, str, str, dict, float]]:
    """Rows of ``run_id`` after ``after``: ``(seq, node_id, kind, payload, at)``; none when
    there is no feed yet."""
    if not path.exists():
        return []
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=2.0)
        ) as conn:
            rows = conn.execute(
                "SELECT seq, node_id, kind, payload_json, at FROM feed"
                " WHERE run_id=? AND seq>? ORDER BY seq LIMIT 5000",
                (run_id, after),
            ).fetchall()
    except sqlite3.Error:
        return []
    return [(s, n, k, json.loads(p), a) for s, n, k, p, a in rows]


class FeedWriter:
    """Writes one process's feed rows; thread-safe (a run's nodes report from threads)."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FEED_FILE
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._last_progress: dict[tuple[str, str], float] = {}
        self._lines: dict[tuple[str, str], int] = {}

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            new = not self.path.exists()
            conn = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
            if new:
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)
            enable_wal(conn, timeout_s=5.0)
            conn.execute("PRAGMA synchronous=OFF")  # disposable: speed over durability
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def _write(self, run_id: str, node_id: str, kind: str, payload: dict[str, Any]) -> None:
        try:
            with self._lock:
                db = self._db()
                db.execute(
                    "INSERT INTO feed(run_id, node_id, kind, payload_json, at) VALUES (?,?,?,?,?)",
                    (run_id, node_id, kind, json.dumps(payload, default=str), time.time()),
                )
                db.commit()
        except (sqlite3.Error, OSError):
            pass

    def progress(
        self, run_id: str, node_id: str, completed: float, total: float | None, message: str | None
    ) -> None:
        now = time.monotonic()
        key = (run_id, node_id)
        done = total is not None and completed >= total
        if not done and now - self._last_progress.get(key, 0.0) < PROGRESS_EVERY_S:
            return
        self._last_progress[key] = now
        message = None if message is None else str(message)[:MAX_LINE]
        self._write(
            run_id,
            node_id,
            "progress",
            {"completed": completed, "total": total, "message": message},
        )

    def log_line(self, run_id: str, node_id: str, level: str, event: dict[str, Any]) -> None:
        key = (run_id, node_id)
        count = self._lines.get(key, 0)
        if count > MAX_LOG_LINES:
            return
        self._lines[key] = count + 1
        if count == MAX_LOG_LINES:
            text = f"(more than {MAX_LOG_LINES} lines: the rest are in the service log)"
        else:
            extra = " ".join(f"{k}={v}" for k, v in event.items() if k not in _CONTEXT_KEYS)
            text = f"{event.get('event', '')} {extra}".strip()[:MAX_LINE]
        self._write(run_id, node_id, "log", {"level": level, "line": text})

    def forget(self, run_id: str) -> None:
        """Drop the per-node counters of a finished run (a run process lives for many runs)."""
        for table in (self._last_progress, self._lines):
            for key in [k for k in table if k[0] == run_id]:
                del table[key]

    # ---------------------------------------------------------------- hooks

    def reporter(self, run_id: str) -> FeedReporter:
        return FeedReporter(self, run_id)

    def log_processor(self, logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
        """A structlog processor: lines bound to a node (``context.log``) go to the feed too."""
        run_id, node_id = event.get("run_id"), event.get("node")
        if isinstance(run_id, str) and isinstance(node_id, str):
            self.log_line(run_id, node_id, method, event)
        return event


class FeedReporter:
    """The engine's ``ProgressReporter`` for one run: node progress into the feed."""

    def __init__(self, writer: FeedWriter, run_id: str) -> None:
        self.writer = writer
        self.run_id = run_id

    def run_started(self, run_id: str, total: int, done: int) -> None:
        pass

    def node_started(self, node_id: str) -> None:
        pass

    def node_progress(
        self, node_id: str, completed: float, total: float | None, message: str | None
    ) -> None:
        self.writer.progress(self.run_id, node_id, completed, total, message)

    def node_finished(self, node_id: str, status: str) -> None:
        pass

    def run_finished(self, status: str) -> None:
        self.writer.forget(self.run_id)
