"""The feedback store: what a deployed variant predicted and what users said about it.

A small SQLite database in WAL mode (readers never block the writer, so a REST service can
record feedback while a re-optimisation reads it). Four tables:

* ``predictions`` – one row per served prediction: input, output, variant, optional score.
* ``feedback`` – labels attached to predictions by a ``source`` (a user, a reviewer, a rule).
  Feedback rows are append-only with increasing ids, so "new labels since the last
  re-optimisation" is simply ``id > watermark``.
* ``decisions`` – every champion/challenger decision and re-optimisation, with its evidence.
* ``state`` – small named values: the current champion per task, watermarks.

This module imports only the standard library so that the REST service and plugin listing can
use it without loading numpy or scikit-learn.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autoglm.dbfiles import enable_wal, private_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    variant TEXT NOT NULL,
    input_json TEXT NOT NULL,
    output_json TEXT NOT NULL,
    score REAL,
    metadata_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS predictions_variant ON predictions(variant, created_at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prediction_id TEXT NOT NULL REFERENCES predictions(id),
    label_json TEXT NOT NULL,
    source TEXT NOT NULL,
    comment TEXT,
    created_at REAL NOT NULL,
    metadata_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS feedback_prediction ON feedback(prediction_id);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class UnknownPrediction(KeyError):
    """Feedback names a prediction id that the store has never seen."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Prediction:
    id: str
    created_at: float
    variant: str
    input: Any
    output: Any
    score: float | None
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Feedback:
    id: int
    prediction_id: str
    label: Any
    source: str
    comment: str | None
    created_at: float
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    id: int
    created_at: float
    kind: str
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what}: expected a JSON-serialisable value ({exc})") from exc


class FeedbackStore:
    """Thread-safe access to one feedback database (created on first use)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # feedback rows hold users' inputs and verdicts: owner-only, as the run store is
        self.path = private_database(Path(path))
        self._lock = threading.RLock()
        self._depth = 0  # nesting of transaction(): only the outermost one commits
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=30.0, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row
        enable_wal(self._conn)
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._depth:  # inside transaction(): part of the caller's commit
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def transaction(self) -> Any:
        """Group several writes (a decision, the champion, a watermark) into one commit.

        Why: a step that records an outcome *and* moves a watermark must do both or neither;
        otherwise a crash between the two loses feedback (the watermark moved past rows whose
        outcome was never recorded) or counts it twice. Writes made inside, by this thread,
        commit when the block ends and roll back together if it raises. Other threads wait."""
        return self._tx()

    def fingerprint(self, *state_keys: str) -> str:
        """What a reader of this store depends on, in a few bytes: the feedback rows (their
        count and highest id; rows are append-only) and the values of ``state_keys``. A node
        returns it from ``state_fingerprint`` so that new feedback recomputes it."""
        with self._lock:
            return _fingerprint(self._conn, state_keys)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # ------------------------------------------------------------ predictions

    def record_prediction(
        self,
        input: Any,
        output: Any,
        *,
        variant: str = "default",
        score: float | None = None,
        metadata: dict[str, Any] | None = None,
        prediction_id: str | None = None,
    ) -> str:
        """Store a served prediction; returns its id (a new UUID unless one is given)."""
        pid = prediction_id or uuid.uuid4().hex
        row = (
            pid,
            time.time(),
            str(variant),
            _dumps(input, "input"),
            _dumps(output, "output"),
            None if score is None else float(score),
            _dumps(metadata or {}, "metadata"),
        )
        with self._tx() as conn:
            conn.execute("INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        return pid

    def get_prediction(self, prediction_id: str) -> Prediction | None:
        rows = self._rows("SELECT * FROM predictions WHERE id=?", (prediction_id,))
        return _prediction(rows[0]) if rows else None

    def list_predictions(
        self, *, variant: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Prediction]:
        """Newest first."""
        where, params = ("WHERE variant=?", (variant,)) if variant is not None else ("", ())
        rows = self._rows(
            f"SELECT * FROM predictions {where} ORDER BY created_at DESC, rowid DESC "
            "LIMIT ? OFFSET ?",
            (*params, int(limit), int(offset)),
        )
        return [_prediction(r) for r in rows]

    def count_predictions(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM predictions")[0][0])

    # --------------------------------------------------------------- feedback

    def record_feedback(
        self,
        prediction_id: str,
        label: Any,
        source: str = "user",
        *,
        comment: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Feedback:
        """Attach a label to a stored prediction. Raises ``UnknownPrediction`` (a KeyError)
        when the id is not in the store, so a service can answer 404."""
        if not source or not isinstance(source, str):
            raise ValueError(f"source: expected a non-empty string, got {source!r}")
        created = time.time()
        meta = metadata or {}
        with self._tx() as conn:
            known = conn.execute("SELECT 1 FROM predictions WHERE id=?", (prediction_id,))
            if known.fetchone() is None:
                raise UnknownPrediction(f"prediction {prediction_id!r} not found in {self.path}")
            cur = conn.execute(
                "INSERT INTO feedback(prediction_id, label_json, source, comment, created_at,"
                " metadata_json) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    prediction_id,
                    _dumps(label, "label"),
                    source,
                    comment,
                    created,
                    _dumps(meta, "metadata"),
                ),
            )
            fid = int(cur.lastrowid or 0)
        return Feedback(fid, prediction_id, label, source, comment, created, meta)

    def list_feedback(
        self,
        *,
        prediction_id: str | None = None,
        source: str | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[Feedback]:
        """Oldest first; ``after_id`` returns only feedback newer than a watermark."""
        clauses, params = ["id > ?"], [int(after_id)]
        if prediction_id is not None:
            clauses.append("prediction_id = ?")
            params.append(prediction_id)
        if source is not None:
            clauses.append("source = ?")
            params.append(source)
        sql = f"SELECT * FROM feedback WHERE {' AND '.join(clauses)} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_feedback(r) for r in self._rows(sql, tuple(params))]

    def count_feedback(self, *, after_id: int = 0) -> int:
        return int(self._rows("SELECT COUNT(*) FROM feedback WHERE id > ?", (int(after_id),))[0][0])

    def last_feedback_id(self) -> int:
        return int(self._rows("SELECT COALESCE(MAX(id), 0) FROM feedback")[0][0])

    def labelled_predictions(self, *, after_id: int = 0) -> list[tuple[Prediction, list[Feedback]]]:
        """Every prediction with at least one feedback row, with all of its feedback."""
        by_prediction: dict[str, list[Feedback]] = {}
        for fb in self.list_feedback(after_id=after_id):
            by_prediction.setdefault(fb.prediction_id, []).append(fb)
        out = []
        for pid, items in by_prediction.items():
            prediction = self.get_prediction(pid)
            if prediction is not None:
                out.append((prediction, items))
        return out

    # ------------------------------------------------------ decisions & state

    def record_decision(self, kind: str, payload: dict[str, Any]) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO decisions(created_at, kind, payload_json) VALUES (?, ?, ?)",
                (time.time(), kind, _dumps(payload, "decision payload")),
            )
            return int(cur.lastrowid or 0)

    def list_decisions(self, kind: str | None = None) -> list[Decision]:
        """Oldest first."""
        if kind is None:
            rows = self._rows("SELECT * FROM decisions ORDER BY id")
        else:
            rows = self._rows("SELECT * FROM decisions WHERE kind=? ORDER BY id", (kind,))
        return [
            Decision(r["id"], r["created_at"], r["kind"], json.loads(r["payload_json"]))
            for r in rows
        ]

    def get_state(self, key: str, default: Any = None) -> Any:
        rows = self._rows("SELECT value_json FROM state WHERE key=?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_state(self, key: str, value: Any) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO state(key, value_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value_json=excluded.value_json,"
                " updated_at=excluded.updated_at",
                (key, _dumps(value, f"state {key!r}"), time.time()),
            )

    def get_champion(self, task: str = "default") -> Any:
        """The variant currently serving ``task`` (None before the first promotion)."""
        return self.get_state(f"champion:{task}")

    def set_champion(self, variant: Any, task: str = "default") -> None:
        self.set_state(f"champion:{task}", variant)


def _fingerprint(conn: sqlite3.Connection, state_keys: tuple[str, ...]) -> str:
    try:
        count, top = conn.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM feedback").fetchone()
        state = {}
        for key in state_keys:
            row = conn.execute("SELECT value_json FROM state WHERE key=?", (key,)).fetchone()
            state[key] = None if row is None else json.loads(row[0])
    except sqlite3.OperationalError as exc:  # not (yet) a feedback store: no tables
        return f"unreadable: {exc}"
    return json.dumps([int(count), int(top), state], sort_keys=True)


def store_fingerprint(path: str | os.PathLike[str], *state_keys: str) -> str:
    """``FeedbackStore.fingerprint`` of the database at ``path``, read-only: it neither creates
    the file nor adds the store's tables to a database that lacks them (a fingerprint is taken
    before every cache lookup and must change nothing)."""
    file = Path(path).expanduser()
    if not file.is_file():
        return "absent"
    conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
    try:
        return _fingerprint(conn, state_keys)
    finally:
        conn.close()


def _prediction(row: sqlite3.Row) -> Prediction:
    return Prediction(
        id=row["id"],
        created_at=row["created_at"],
        variant=row["variant"],
        input=json.loads(row["input_json"]),
        output=json.loads(row["output_json"]),
        score=row["score"],
        metadata=json.loads(row["metadata_json"]),
    )


def _feedback(row: sqlite3.Row) -> Feedback:
    return Feedback(
        id=row["id"],
        prediction_id=row["prediction_id"],
        label=json.loads(row["label_json"]),
        source=row["source"],
        comment=row["comment"],
        created_at=row["created_at"],
        metadata=json.loads(row["metadata_json"]),
    )
