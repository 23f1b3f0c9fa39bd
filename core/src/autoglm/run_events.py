"""A run's life as a stream of events, read from the run store: run and node state changes,
and the progress and log lines its nodes report through the run feed (``autoglm.run_feed``).

One reader serves three consumers: the service's ``GET /v1/runs/{id}/events`` (Server-Sent
Events), ``autoglm runs RUN_ID --follow`` on the store's machine, and (through the service)
the SDK's ``watch``. It imports only the standard library, so the CLI stays light.

Why states are *diffed*, not read as a log: the store keeps each node's current row, not a
history, and the engine stamps a change before it commits it, so a change can land with a
timestamp older than one already seen. The reader remembers what it last reported for each
node and reports whatever differs, so nothing is missed however writes interleave.

Event ids (``Last-Event-ID``) are ``"<ms>.<feed seq>"``: the newest store timestamp reported
and the last feed row reported, as of that event (each event has its own id, so a connection
lost in the middle of a burst resumes after the last event that arrived). Resuming from an id
sends the *current* state of every node that changed since two seconds before ``<ms>`` (a
state the client may already hold comes again: states are idempotent, the page just sets a
colour) and every feed row after ``<feed seq>``, exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoglm.run_feed import FEED_FILE, read_feed

ENDED = frozenset({"succeeded", "failed", "cancelled"})
#: how far back a resume re-reads states, for changes committed after a newer one was seen
RESUME_MARGIN_MS = 2000


@dataclass(frozen=True)
class RunEvent:
    """One event: ``kind`` is ``run`` (the run's status), ``node`` (a node's state),
    ``progress``, ``log`` or ``end`` (the run ended; nothing follows)."""

    kind: str
    data: dict[str, Any]
    id: str

    def to_sse(self) -> str:
        """The event as a Server-Sent Events frame."""
        return f"id: {self.id}\nevent: {self.kind}\ndata: {json.dumps(self.data)}\n\n"


def parse_event_id(text: str | None) -> tuple[int, int]:
    """``(ms, feed seq)`` of an event id; ``(0, 0)`` (from the start) for none or garbage."""
    if not text:
        return 0, 0
    ms, _, seq = text.partition(".")
    try:
        return max(0, int(ms)), max(0, int(seq or 0))
    except ValueError:
        return 0, 0


@dataclass
class RunReader:
    """Polls one run's rows and returns what changed since the last poll (see module doc)."""

    store_path: Path
    run_id: str
    last_event_id: str | None = None
    _conn: sqlite3.Connection | None = None
    _sent: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _run_sent: tuple[Any, ...] | None = None
    _ms: int = 0
    _seq: int = 0
    _since_ms: int = 0
    ended: bool = False
    #: held by ``poll`` and ``close``: the service polls in a worker thread and may close from
    #: its event loop; closing a connection while a thread reads through it crashed the
    #: process (a segfault in SQLite or in the connection's statement cache)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closed: bool = False

    def __post_init__(self) -> None:
        self._ms, self._seq = parse_event_id(self.last_event_id)
        self._since_ms = max(0, self._ms - RESUME_MARGIN_MS) if self._ms else 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"file:{Path(self.store_path).resolve()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
        return self._conn

    def close(self) -> None:
        """Close the connection once no poll is using it; later polls return nothing."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _id(self) -> str:
        return f"{self._ms}.{self._seq}"

    def _stamp(self, *times: float | None) -> int:
        ms = max((int(t * 1000) for t in times if t), default=0)
        self._ms = max(self._ms, ms)
        return ms

    def poll(self) -> list[RunEvent]:
        """Events since the last poll; after ``end`` or ``close`` always empty. Raises
        ``LookupError`` if the run does not exist."""
        with self._lock:
            if self.ended or self._closed:
                return []
            return self._poll()

    def _poll(self) -> list[RunEvent]:
        db = self._db()
        run = db.execute(
            "SELECT status, error, created_at, started_at, finished_at, owner_pid"
            " FROM runs WHERE id=?",
            (self.run_id,),
        ).fetchone()
        if run is None:
            raise LookupError(f"no run {self.run_id!r}")
        events: list[RunEvent] = []
        rows = db.execute(
            "SELECT node_id, node_type, status, attempts, error, reason, started_at,"
            " finished_at, duration_s FROM nodes WHERE run_id=? ORDER BY rowid",
            (self.run_id,),
        ).fetchall()
        for row in rows:
            state = (row["status"], row["attempts"], row["error"], row["finished_at"])
            if self._sent.get(row["node_id"]) == state:
                continue
            self._sent[row["node_id"]] = state
            changed = self._stamp(row["started_at"], row["finished_at"])
            if self._since_ms and changed and changed < self._since_ms:
                continue  # a resume: the client had this one
            data = {k: row[k] for k in row.keys()}  # noqa: SIM118 (sqlite3.Row)
            events.append(RunEvent("node", data, self._id()))
        home = Path(self.store_path).parent
        for seq, node_id, kind, payload, at in read_feed(home / FEED_FILE, self.run_id, self._seq):
            self._seq = seq
            events.append(RunEvent(kind, {"node_id": node_id, "at": at, **payload}, self._id()))
        status = run["status"]
        run_state = (status, run["error"], run["started_at"], run["finished_at"])
        if run_state != self._run_sent:
            self._run_sent = run_state
            self._stamp(run["created_at"], run["started_at"], run["finished_at"])
            data = {k: run[k] for k in ("status", "error", "started_at", "finished_at")}
            events.append(RunEvent("run", {"run_id": self.run_id, **data}, self._id()))
        if status in ENDED:
            self.ended = True
            events.append(RunEvent("end", {"run_id": self.run_id, "status": status}, self._id()))
        self._since_ms = 0
        return events
