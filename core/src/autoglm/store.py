"""The run store: runs, node states, outputs, errors, timings, the node cache and node journals.

Embedded SQLite in WAL mode with a busy timeout ("database is locked" is a top complaint about
workflow tools). Within a process every statement goes through one connection behind one lock:
that is the single writer path. Several processes (the service and its workers, ``autoglm run``
beside ``autoglm runs``) may open the same file; WAL lets readers go on while one writes, and the
busy timeout makes writers wait instead of failing.

Durability: each state change is its own committed transaction, so a run killed with SIGKILL at
any point keeps every node result recorded before the kill. ``synchronous=NORMAL`` in WAL mode
loses nothing on a process crash (only an OS crash can drop the last commits), and keeps a
commit in the tens of microseconds.

Ownership: a run being executed has an owner (host, pid, process start token) and a heartbeat
(see ``autoglm.ownership``). ``claim_run`` is the one way to take a run for execution: a single
``BEGIN IMMEDIATE`` compare-and-set that succeeds only when the run is queued or ended, or its
owner is dead, so two processes never execute one run. A stored ``running`` run whose owner is
dead reads as ``interrupted``: the state is derived when read, never written, so a run killed
with SIGKILL needs nobody to notice its death.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from autoglm.dbfiles import enable_wal, private_database
from autoglm.ownership import STALE_AFTER_S, Owner
from autoglm.writebudget import WriteBudget

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    workflow_path TEXT,
    workflow_source TEXT NOT NULL,
    inputs_json TEXT NOT NULL,
    selection_json TEXT NOT NULL,
    options_json TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    error TEXT,
    outputs_json TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempt INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    labels_json TEXT NOT NULL DEFAULT '{}',
    owner_host TEXT,
    owner_pid INTEGER,
    owner_start TEXT,
    owned_since REAL,
    heartbeat_at REAL
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, created_at);
CREATE INDEX IF NOT EXISTS runs_api_key ON runs(json_extract(labels_json, '$.api_key'), status);
CREATE TABLE IF NOT EXISTS nodes (
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    node_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    inputs_json TEXT,
    outputs_json TEXT,
    error TEXT,
    reason TEXT,
    cache_key TEXT,
    started_at REAL,
    finished_at REAL,
    duration_s REAL,
    PRIMARY KEY (run_id, node_id)
);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    node_type TEXT NOT NULL,
    outputs_json TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_lookup ON journal(run_id, node_id, kind, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    run_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
);
"""

#: Columns added to ``runs`` after schema version 1, with their types: added on open.
_RUN_COLUMNS_V2 = {
    "owner_host": "TEXT",
    "owner_pid": "INTEGER",
    "owner_start": "TEXT",
    "owned_since": "REAL",
    "heartbeat_at": "REAL",
}

#: Run states. ``queued`` runs wait for a worker. ``interrupted`` is never stored: it is how a
#: stored ``running`` run whose owner died reads; ``autoglm resume`` (or the service on
#: restart) continues it.
RUN_STATES = ("queued", "running", "interrupted", "succeeded", "failed", "cancelled")
ENDED_RUN_STATES = frozenset({"succeeded", "failed", "cancelled"})
#: Node states. ``skipped`` records a routing decision (a false ``when``) so resume replays it.
NODE_STATES = ("pending", "running", "succeeded", "cached", "skipped", "failed")
FINISHED_NODE_STATES = frozenset({"succeeded", "cached", "skipped"})


class RunRecord(BaseModel):
    """A run as stored. Shared by the CLI, the service and the SDK."""

    id: str
    workflow_name: str
    workflow_path: str | None = None
    status: str
    error: str | None = None
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] | None = None
    selection: dict[str, Any] = {}
    options: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    attempt: int = 0
    owner: str | None = None  # "<host>:<pid>" of the process that runs (or ran) it
    owner_pid: int | None = None
    owner_host: str | None = None
    owner_start: str | None = None  # the owner process's start token (tells a reused pid)
    owned_since: float | None = None  # when the owner took the run
    heartbeat_at: float | None = None  # the owner's last sign of life


class Claim(NamedTuple):
    """The answer of ``claim_run``/``adopt_run``: whether the caller now owns the run, and the
    run as it was read inside the claim (whoever holds it, when refused)."""

    ok: bool
    run: RunRecord | None


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one logical submission. ``create_run`` stores it in the transaction
    that stores the run, so a retry whose first answer was lost (even to a crash right after
    the commit) finds the run instead of making a second one."""

    scope: str  # whose keys these are (the service: the API key's id)
    key: str
    fingerprint: str  # digest of the request: another request under the same key is refused
    not_before: float = 0.0  # a key stored before this time has expired and is replaced


class IdempotencyMismatch(ValueError):
    """An idempotency key came back with a different request than the one it was first used
    for: answering the old run would hide that the new request was never run."""

    def __init__(self, key: str, run_id: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for run {run_id} with a different "
            "request; use a new key for a new request"
        )
        self.run_id = run_id


class NodeRecord(BaseModel):
    """One node of one run as stored."""

    node_id: str
    node_type: str
    status: str
    attempts: int = 0
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    cache_key: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None


def default_home() -> Path:
    """Where runs, caches and artefacts live: ``$AUTOGLM_HOME`` or ``./.autoglm``.

    Read at call time, not import time, so workers and tests can point it elsewhere.
    """
    return Path(os.environ.get("AUTOGLM_HOME") or ".autoglm").resolve()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def new_run_id() -> str:
    """Sortable, unique run ids: creation time then randomness."""
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]


#: The oldest queued run whose submitting key (label ``api_key``) has fewer than ``?`` runs
#: running; runs without a key (the command line's) are not limited.
_FAIR_CLAIM = """
SELECT q.id FROM runs AS q WHERE q.status='queued' AND (
    json_extract(q.labels_json, '$.api_key') IS NULL OR (
        SELECT COUNT(*) FROM runs AS r WHERE r.status='running'
        AND json_extract(r.labels_json, '$.api_key') = json_extract(q.labels_json, '$.api_key')
    ) < ?)
ORDER BY q.created_at LIMIT 1
"""


class RunStore:
    """SQLite-backed store. Safe to share between threads of one process."""

    #: The queue's fairness rule: ``claim_queued_run`` passes over the queued runs of an API
    #: key that already has this many running (None: no per-key limit). The service sets it
    #: from its settings, so whichever dispatcher claims runs from this store obeys it.
    max_running_per_key: int | None = None

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, stale_after_s: float = STALE_AFTER_S
    ) -> None:
        self.path = Path(path) if path is not None else default_home() / "runs.sqlite"
        #: how old a heartbeat may be before an owner on another host counts as dead
        self.stale_after_s = stale_after_s
        #: a cap on what each run may record (a service's run process sets it); None: no cap
        self.write_budget: WriteBudget | None = None
        private_database(self.path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, timeout=30.0, check_same_thread=False, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            enable_wal(self._conn)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
            self._migrate()
            self._conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    def _migrate(self) -> None:
        """Bring a store written by an older version up to this schema (added columns only)."""
        have = {row["name"] for row in self._conn.execute("PRAGMA table_info(runs)")}
        missing = [(name, kind) for name, kind in _RUN_COLUMNS_V2.items() if name not in have]
        if not missing:
            return
        with self._tx() as conn:
            have = {row["name"] for row in conn.execute("PRAGMA table_info(runs)")}
            for name, kind in missing:
                if name not in have:  # another process may have migrated meanwhile
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    @property
    def home(self) -> Path:
        """The folder that holds the database; artefacts and caches live beside it."""
        return self.path.parent

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. ``BEGIN IMMEDIATE`` takes the write lock up front so two
        processes never deadlock upgrading read locks."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # ---------------------------------------------------------------- runs

    def create_run(
        self,
        *,
        workflow_name: str,
        workflow_source: str,
        workflow_path: str | None,
        inputs: dict[str, Any],
        selection: dict[str, Any],
        options: dict[str, Any] | None = None,
        labels: dict[str, Any] | None = None,
        status: str = "queued",
        run_id: str | None = None,
        idempotency: IdempotencyKey | None = None,
        admit: Callable[[], None] | None = None,
    ) -> str:
        """Store a new run and return its id. With ``idempotency``, a run already stored
        under that key is answered instead (``IdempotencyMismatch`` if its request differs);
        ``admit`` runs inside the same write transaction before the insert and raises to
        refuse the run (a quota), so concurrent submissions cannot all slip under a limit."""
        run_id = run_id or new_run_id()
        with self._tx() as conn:
            if idempotency is not None:
                row = conn.execute(
                    "SELECT run_id, fingerprint FROM idempotency WHERE scope=? AND key=?"
                    " AND created_at>=?",
                    (idempotency.scope, idempotency.key, idempotency.not_before),
                ).fetchone()
                if row is not None:
                    if row["fingerprint"] != idempotency.fingerprint:
                        raise IdempotencyMismatch(idempotency.key, str(row["run_id"]))
                    return str(row["run_id"])
            if admit is not None:
                admit()
            conn.execute(
                "INSERT INTO runs(id, workflow_name, workflow_path, workflow_source, inputs_json,"
                " selection_json, options_json, labels_json, status, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    workflow_name,
                    workflow_path,
                    workflow_source,
                    _dumps(inputs),
                    _dumps(selection),
                    _dumps(options or {}),
                    _dumps(labels or {}),
                    status,
                    time.time(),
                ),
            )
            if idempotency is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency(scope, key, fingerprint, run_id,"
                    " created_at) VALUES (?,?,?,?,?)",
                    (
                        idempotency.scope,
                        idempotency.key,
                        idempotency.fingerprint,
                        run_id,
                        time.time(),
                    ),
                )
        return run_id

    def find_idempotent(self, idempotency: IdempotencyKey) -> str | None:
        """The run stored under ``idempotency``'s key, if it has not expired (the service's
        fast path, before it parses the workflow again); ``IdempotencyMismatch`` if the key
        was used for another request."""
        rows = self._query(
            "SELECT run_id, fingerprint FROM idempotency WHERE scope=? AND key=? AND created_at>=?",
            (idempotency.scope, idempotency.key, idempotency.not_before),
        )
        if not rows:
            return None
        if rows[0]["fingerprint"] != idempotency.fingerprint:
            raise IdempotencyMismatch(idempotency.key, str(rows[0]["run_id"]))
        return str(rows[0]["run_id"])

    def purge_idempotency(self, before: float) -> int:
        """Forget idempotency keys stored before ``before`` (their runs stay)."""
        with self._tx() as conn:
            return conn.execute("DELETE FROM idempotency WHERE created_at<?", (before,)).rowcount

    # ----------------------------------------------------------- ownership

    def owner_alive(self, run: RunRecord | sqlite3.Row) -> bool:
        """Whether the recorded owner of ``run`` still executes it (see ``autoglm.ownership``)."""
        owner = _owner_of(run)
        return owner is not None and owner.alive(
            run["heartbeat_at"] if isinstance(run, sqlite3.Row) else run.heartbeat_at,
            stale_after=self.stale_after_s,
        )

    def claim_run(self, run_id: str, owner: Owner) -> Claim:
        """Take ``run_id`` for execution by ``owner``: one atomic compare-and-set.

        Succeeds when the run is queued or ended (a resume), or its owner is dead (same host:
        pid gone, a zombie, or reused by another process; another host: heartbeat stale). The
        attempt is counted and the heartbeat set. Refused (``Claim(False, run)``) when a live
        owner holds it; ``run`` is None when there is no such run.
        """
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                return Claim(False, None)
            if row["status"] == "running" and self.owner_alive(row):
                return Claim(False, self._record(row))
            now = time.time()
            conn.execute(
                "UPDATE runs SET status='running', started_at=COALESCE(started_at, ?),"
                " attempt=attempt+1, error=NULL, finished_at=NULL,"
                # a cancel asked of a queued or running run stands; resuming an ended one clears it
                " cancel_requested=CASE WHEN status IN ('queued', 'running')"
                " THEN cancel_requested ELSE 0 END,"
                " owner=?, owner_host=?, owner_pid=?, owner_start=?, owned_since=?, heartbeat_at=?"
                " WHERE id=?",
                (now, owner.label, owner.host, owner.pid, owner.start, now, now, run_id),
            )
            return Claim(True, self._record(self._row(conn, run_id)))

    def adopt_run(self, run_id: str, owner: Owner) -> Claim:
        """Take over a run that this process or its parent already claimed (a supervisor that
        claims a queued run and hands it to a child process): the attempt is not counted again.
        Refused when anyone else holds it, or it is not running."""
        allowed = {Owner.current(), Owner.parent()}
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                return Claim(False, None)
            if row["status"] != "running" or _owner_of(row) not in allowed:
                return Claim(False, self._record(row))
            now = time.time()
            conn.execute(
                "UPDATE runs SET owner=?, owner_host=?, owner_pid=?, owner_start=?,"
                " owned_since=?, heartbeat_at=? WHERE id=?",
                (owner.label, owner.host, owner.pid, owner.start, now, now, run_id),
            )
            return Claim(True, self._record(self._row(conn, run_id)))

    def heartbeat(self, run_id: str, owner: Owner) -> bool:
        """Refresh the heartbeat of a run ``owner`` executes; False if it is no longer its."""
        with self._tx() as conn:
            cursor = conn.execute(
                f"UPDATE runs SET heartbeat_at=? WHERE id=? AND status='running' AND {_OWNED_BY}",
                (time.time(), run_id, *_owner_params(owner)),
            )
            return cursor.rowcount == 1

    def requeue_interrupted(self) -> list[str]:
        """Put every interrupted run (running, owner dead) back in the queue, atomically, so
        that a run another process just claimed is never requeued. Returns their ids."""
        with self._tx() as conn:
            rows = conn.execute("SELECT * FROM runs WHERE status='running'").fetchall()
            dead = [row["id"] for row in rows if not self.owner_alive(row)]
            conn.executemany(
                "UPDATE runs SET status='queued', owner=NULL, owner_host=NULL, owner_pid=NULL,"
                " owner_start=NULL, owned_since=NULL, heartbeat_at=NULL, finished_at=NULL"
                " WHERE id=?",
                [(run_id,) for run_id in dead],
            )
        return dead

    def request_cancel(self, run_id: str) -> bool:
        """Flag a run for cancellation. A queued run is cancelled at once; a running one is
        stopped by the engine that runs it, which polls this flag. False if already finished."""
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None or row["status"] in ENDED_RUN_STATES:
                return False
            # nobody executes a queued or an interrupted run: cancel it now
            if row["status"] == "queued" or not self.owner_alive(row):
                conn.execute(
                    "UPDATE runs SET status='cancelled', cancel_requested=1, finished_at=?,"
                    " error=? WHERE id=?",
                    (
                        time.time(),
                        "cancelled before it started"
                        if row["status"] == "queued"
                        else "cancelled while interrupted",
                        run_id,
                    ),
                )
            else:
                conn.execute("UPDATE runs SET cancel_requested=1 WHERE id=?", (run_id,))
            return True

    def cancel_requested(self, run_id: str) -> bool:
        rows = self._query("SELECT cancel_requested FROM runs WHERE id=?", (run_id,))
        return bool(rows and rows[0]["cancel_requested"])

    def claim_queued_run(self, owner: Owner | None = None) -> str | None:
        """Atomically take the oldest queued run for ``owner`` (default: this process);
        None if none wait. The run is then owned as by ``claim_run``."""
        owner = owner or Owner.current()
        per_key = self.max_running_per_key
        with self._tx() as conn:
            if per_key is None:
                row = conn.execute(
                    "SELECT id FROM runs WHERE status='queued' ORDER BY created_at LIMIT 1"
                ).fetchone()
            else:
                row = conn.execute(_FAIR_CLAIM, (per_key,)).fetchone()
            if row is None:
                return None
            now = time.time()
            conn.execute(
                "UPDATE runs SET status='running', started_at=COALESCE(started_at, ?),"
                " attempt=attempt+1, owner=?, owner_host=?, owner_pid=?, owner_start=?,"
                " owned_since=?, heartbeat_at=? WHERE id=?",
                (now, owner.label, owner.host, owner.pid, owner.start, now, now, row["id"]),
            )
            return str(row["id"])

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        outputs: dict[str, Any] | None = None,
        owner: Owner | None = None,
    ) -> bool:
        """Record the end of a run. With ``owner``, only while that owner still holds it (an
        engine that lost its run must not overwrite the new owner's result); False if not."""
        where, params = ("id=?", (run_id,))
        if owner is not None:
            where, params = (f"id=? AND {_OWNED_BY}", (run_id, *_owner_params(owner)))
        text = None if outputs is None else _dumps(outputs)
        if text is not None:
            self._charge(run_id, "the run's outputs", text)
        with self._tx() as conn:
            cursor = conn.execute(
                f"UPDATE runs SET status=?, error=?, outputs_json=?, finished_at=? WHERE {where}",
                (status, error, text, time.time(), *params),
            )
            return cursor.rowcount == 1

    def set_run_options(self, run_id: str, values: dict[str, Any]) -> None:
        """Merge ``values`` into the run's options in one transaction (what a run learnt when
        it started executing: the plugin versions it used)."""
        with self._tx() as conn:
            row = conn.execute("SELECT options_json FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                return
            options = {**(_loads(row["options_json"]) or {}), **values}
            conn.execute("UPDATE runs SET options_json=? WHERE id=?", (_dumps(options), run_id))

    def requeue_run(self, run_id: str, owner: Owner | None = None) -> bool:
        """Put a run back in the queue (its finished nodes stay finished): a service stopping
        hands it on. With ``owner``, only while that owner still holds it."""
        where, params = ("id=?", (run_id,))
        if owner is not None:
            where, params = (f"id=? AND {_OWNED_BY}", (run_id, *_owner_params(owner)))
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE runs SET status='queued', owner=NULL, owner_host=NULL, owner_pid=NULL,"
                " owner_start=NULL, owned_since=NULL, heartbeat_at=NULL, finished_at=NULL"
                f" WHERE {where}",
                params,
            )
            return cursor.rowcount == 1

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run, with ``interrupted`` as its status if its owner died while running it."""
        rows = self._query("SELECT * FROM runs WHERE id=?", (run_id,))
        return self._record(rows[0]) if rows else None

    def _record(self, row: sqlite3.Row) -> RunRecord:
        record = _run_record(row)
        if record.status == "running" and not self.owner_alive(row):
            record.status = "interrupted"
        return record

    @staticmethod
    def _row(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        return conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()

    def get_run_source(self, run_id: str) -> str | None:
        rows = self._query("SELECT workflow_source FROM runs WHERE id=?", (run_id,))
        return str(rows[0]["workflow_source"]) if rows else None

    def list_runs(
        self, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunRecord]:
        """Runs, newest first. ``running`` and ``interrupted`` are told apart by their owner's
        liveness, so those two filters read every stored running run (there are few)."""
        order = "ORDER BY created_at DESC, id DESC"
        if status in {"running", "interrupted"}:
            rows = self._query(f"SELECT * FROM runs WHERE status='running' {order}")
            records = [r for r in map(self._record, rows) if r.status == status]
            return records[offset : offset + limit]
        where, params = ("WHERE status=?", (status,)) if status else ("", ())
        rows = self._query(
            f"SELECT * FROM runs {where} {order} LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [self._record(row) for row in rows]

    def count_by_api_key(self, api_key: str, *, status: str = "queued") -> int:
        """How many runs in stored state ``status`` the service accepted from API key
        ``api_key`` (its label ``api_key``): the per-key quota, read through an index."""
        rows = self._query(
            "SELECT COUNT(*) AS n FROM runs WHERE json_extract(labels_json, '$.api_key')=?"
            " AND status=?",
            (api_key, status),
        )
        return int(rows[0]["n"])

    def count_runs(self, *, status: str | None = None) -> int:
        if status in {"running", "interrupted"}:
            rows = self._query("SELECT * FROM runs WHERE status='running'")
            return sum(1 for row in rows if self._record(row).status == status)
        where, params = ("WHERE status=?", (status,)) if status else ("", ())
        return int(self._query(f"SELECT COUNT(*) AS n FROM runs {where}", params)[0]["n"])

    # --------------------------------------------------------------- nodes

    def node_started(
        self, run_id: str, node_id: str, node_type: str, inputs: dict[str, Any] | None
    ) -> None:
        text = _dumps(inputs)
        self._charge(run_id, f"node {node_id!r} inputs", text)
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO nodes(run_id, node_id, node_type, status, attempts, inputs_json,"
                " started_at) VALUES (?,?,?,'running',1,?,?)"
                " ON CONFLICT(run_id, node_id) DO UPDATE SET status='running',"
                " attempts=attempts+1, inputs_json=excluded.inputs_json,"
                " started_at=excluded.started_at, error=NULL",
                (run_id, node_id, node_type, text, time.time()),
            )

    def node_retrying(self, run_id: str, node_id: str) -> None:
        """Count one more attempt of a running node (a retry after a failure)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE nodes SET attempts=attempts+1 WHERE run_id=? AND node_id=?",
                (run_id, node_id),
            )

    def node_finished(
        self,
        run_id: str,
        node_id: str,
        node_type: str,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        error: str | None = None,
        reason: str | None = None,
        cache_key: str | None = None,
        duration_s: float | None = None,
        cache_outputs: bool = False,
    ) -> None:
        """Record a node's end; with ``cache_outputs`` also store them under ``cache_key``,
        in the same transaction so the cache never holds what the run does not."""
        now = time.time()
        text = None if outputs is None else _dumps(outputs)
        if text is not None:
            cached = cache_outputs and cache_key is not None
            self._charge(run_id, f"node {node_id!r} outputs", text, *([text] if cached else []))
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO nodes(run_id, node_id, node_type, status, outputs_json, error,"
                " reason, cache_key, finished_at, duration_s) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(run_id, node_id) DO UPDATE SET status=excluded.status,"
                " outputs_json=excluded.outputs_json, error=excluded.error,"
                " reason=excluded.reason, cache_key=excluded.cache_key,"
                " finished_at=excluded.finished_at, duration_s=excluded.duration_s",
                (
                    run_id,
                    node_id,
                    node_type,
                    status,
                    text,
                    error,
                    reason,
                    cache_key,
                    now,
                    duration_s,
                ),
            )
            if cache_outputs and cache_key and outputs is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO cache(key, node_type, outputs_json, created_at)"
                    " VALUES (?,?,?,?)",
                    (cache_key, node_type, text, now),
                )

    def node_states(self, run_id: str) -> dict[str, NodeRecord]:
        rows = self._query("SELECT * FROM nodes WHERE run_id=? ORDER BY rowid", (run_id,))
        return {row["node_id"]: _node_record(row) for row in rows}

    # -------------------------------------------------------- write budget

    def _charge(self, run_id: str, what: str, *texts: str) -> None:
        """Count values about to be recorded for ``run_id`` against the write budget, if any
        (``StoreLimitExceeded`` when over it)."""
        if self.write_budget is not None:
            self.write_budget.charge(run_id, what, list(texts), lambda: self.recorded_bytes(run_id))

    def recorded_bytes(self, run_id: str) -> int:
        """Bytes of the values recorded for a run: node inputs and outputs, the cache entries
        its nodes wrote, journal entries and the run's outputs."""
        rows = self._query(
            "SELECT"
            " (SELECT COALESCE(SUM(COALESCE(LENGTH(CAST(inputs_json AS BLOB)), 0)"
            " + COALESCE(LENGTH(CAST(outputs_json AS BLOB)), 0)), 0)"
            " FROM nodes WHERE run_id=?1)"
            " + (SELECT COALESCE(SUM(LENGTH(CAST(outputs_json AS BLOB))), 0) FROM cache"
            " WHERE key IN (SELECT cache_key FROM nodes WHERE run_id=?1 AND status='succeeded'))"
            " + (SELECT COALESCE(SUM(LENGTH(CAST(payload_json AS BLOB))), 0)"
            " FROM journal WHERE run_id=?1)"
            " + (SELECT COALESCE(LENGTH(CAST(outputs_json AS BLOB)), 0) FROM runs WHERE id=?1)"
            " AS n",
            (run_id,),
        )
        return int(rows[0]["n"] or 0)

    # --------------------------------------------------------------- cache

    def cache_get(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT outputs_json FROM cache WHERE key=?", (key,))
        return json.loads(rows[0]["outputs_json"]) if rows else None

    def cache_clear(self, node_type: str | None = None) -> int:
        with self._tx() as conn:
            if node_type:
                cursor = conn.execute("DELETE FROM cache WHERE node_type=?", (node_type,))
            else:
                cursor = conn.execute("DELETE FROM cache")
            return cursor.rowcount

    # ------------------------------------------------------------- journal

    def journal_append(self, run_id: str, node_id: str, kind: str, payload: Any) -> int:
        text = _dumps(payload)
        self._charge(run_id, f"a {kind!r} journal entry of node {node_id!r}", text)
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO journal(run_id, node_id, kind, payload_json, created_at)"
                " VALUES (?,?,?,?,?)",
                (run_id, node_id, kind, text, time.time()),
            )
            return int(cursor.lastrowid or 0)

    def journal_read(self, run_id: str, node_id: str, kind: str | None = None) -> list[Any]:
        if kind is None:
            rows = self._query(
                "SELECT payload_json FROM journal WHERE run_id=? AND node_id=? ORDER BY seq",
                (run_id, node_id),
            )
        else:
            rows = self._query(
                "SELECT payload_json FROM journal WHERE run_id=? AND node_id=? AND kind=?"
                " ORDER BY seq",
                (run_id, node_id, kind),
            )
        return [json.loads(row["payload_json"]) for row in rows]

    def journal_counts(self, run_id: str) -> dict[str, dict[str, int]]:
        """Journal entries per node and kind: the visible progress of a long node (a search's
        ``trial`` entries, an evaluation's ``seed`` entries) for ``autoglm runs RUN_ID``, read
        from what the node already journals rather than from a separate progress table."""
        rows = self._query(
            "SELECT node_id, kind, COUNT(*) AS n FROM journal WHERE run_id=?"
            " GROUP BY node_id, kind ORDER BY node_id, kind",
            (run_id,),
        )
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["node_id"], {})[row["kind"]] = int(row["n"])
        return counts

    def journal_search(self, kind: str, limit: int = 1000) -> list[tuple[str, str, Any]]:
        """Journal entries of ``kind`` across all runs, newest first: ``(run_id, node_id,
        payload)``. Lets a node learn from earlier runs (a tuner's warm start)."""
        rows = self._query(
            "SELECT run_id, node_id, payload_json FROM journal WHERE kind=?"
            " ORDER BY seq DESC LIMIT ?",
            (kind, limit),
        )
        return [(row["run_id"], row["node_id"], json.loads(row["payload_json"])) for row in rows]


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


#: SQL condition: the run is held by the owner given as ``_owner_params``.
_OWNED_BY = "owner_host=? AND owner_pid=? AND owner_start IS ?"


def _owner_params(owner: Owner) -> tuple[str, int, str | None]:
    return (owner.host, owner.pid, owner.start)


def _owner_of(run: RunRecord | sqlite3.Row) -> Owner | None:
    """The recorded owner of a run row or record; rows of stores older than schema 2 only
    have ``owner`` as ``<host>:<pid>`` text, read without a start token."""
    if isinstance(run, RunRecord):
        host, pid, start, label = run.owner_host, run.owner_pid, run.owner_start, run.owner
    else:
        host, pid, start, label = (
            run["owner_host"],
            run["owner_pid"],
            run["owner_start"],
            run["owner"],
        )
    if host is not None and pid is not None:
        return Owner(host, int(pid), start)
    name, _, pid_text = (label or "").rpartition(":")
    return Owner(name, int(pid_text), None) if name and pid_text.isdigit() else None


def _run_record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        workflow_name=row["workflow_name"],
        workflow_path=row["workflow_path"],
        status=row["status"],
        error=row["error"],
        inputs=_loads(row["inputs_json"]) or {},
        outputs=_loads(row["outputs_json"]),
        selection=_loads(row["selection_json"]) or {},
        options=_loads(row["options_json"]) or {},
        labels=_loads(row["labels_json"]) or {},
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        attempt=row["attempt"],
        owner=row["owner"],
        owner_pid=row["owner_pid"],
        owner_host=row["owner_host"],
        owner_start=row["owner_start"],
        owned_since=row["owned_since"],
        heartbeat_at=row["heartbeat_at"],
    )


def _node_record(row: sqlite3.Row) -> NodeRecord:
    return NodeRecord(
        node_id=row["node_id"],
        node_type=row["node_type"],
        status=row["status"],
        attempts=row["attempts"],
        inputs=_loads(row["inputs_json"]),
        outputs=_loads(row["outputs_json"]),
        error=row["error"],
        reason=row["reason"],
        cache_key=row["cache_key"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        duration_s=row["duration_s"],
    )
