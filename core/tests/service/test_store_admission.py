"""The run store's admission rules on a real SQLite file: idempotency keys stored in the run's
own transaction, refusals from ``admit`` inside it, the per-key claim limit, private files."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest

from autoglm.store import IdempotencyKey, IdempotencyMismatch, RunStore


def _create(store: RunStore, **options) -> str:
    return store.create_run(
        workflow_name="w",
        workflow_source="name: w",
        workflow_path=None,
        inputs={},
        selection={},
        **options,
    )


def test_idempotency_key_returns_the_first_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    key = IdempotencyKey("key-a", "k1", "digest-1")
    first = _create(store, idempotency=key)
    assert _create(store, idempotency=key) == first
    assert store.find_idempotent(key) == first
    assert _create(store, idempotency=IdempotencyKey("key-b", "k1", "digest-1")) != first
    with pytest.raises(IdempotencyMismatch, match=first):
        _create(store, idempotency=IdempotencyKey("key-a", "k1", "digest-2"))
    with pytest.raises(IdempotencyMismatch):
        store.find_idempotent(IdempotencyKey("key-a", "k1", "digest-2"))
    assert store.count_runs() == 2
    # an expired key is replaced: the same key names a new run
    later = IdempotencyKey("key-a", "k1", "digest-2", not_before=time.time() + 1)
    assert store.find_idempotent(later) is None
    renewed = _create(store, idempotency=later)
    assert renewed != first and store.count_runs() == 3
    assert store.purge_idempotency(time.time() + 10) == 2


def test_concurrent_submissions_with_one_key_make_one_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    key = IdempotencyKey("key-a", "same", "d")
    ids: list[str] = []
    threads = [
        threading.Thread(target=lambda: ids.append(_create(store, idempotency=key)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and store.count_runs() == 1


def test_admit_refuses_inside_the_transaction(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")

    def quota(key: str):
        def check() -> None:
            if store.count_by_api_key(key) >= 2:
                raise RuntimeError("over quota")

        return check

    for _ in range(2):
        _create(store, labels={"api_key": "k"}, admit=quota("k"))
    with pytest.raises(RuntimeError, match="over quota"):
        _create(store, labels={"api_key": "k"}, admit=quota("k"))
    _create(store, labels={"api_key": "other"}, admit=quota("other"))
    assert store.count_runs() == 3
    assert store.count_by_api_key("k") == 2


def test_claim_passes_over_keys_at_their_running_limit(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.max_running_per_key = 1
    a1 = _create(store, labels={"api_key": "a"})
    a2 = _create(store, labels={"api_key": "a"})
    b1 = _create(store, labels={"api_key": "b"})
    cli = _create(store)
    assert store.claim_queued_run() == a1
    assert store.claim_queued_run() == b1  # a2 is older but key a already runs one
    assert store.claim_queued_run() == cli  # runs without a key are not limited
    assert store.claim_queued_run() is None
    store.finish_run(a1, "succeeded")
    assert store.claim_queued_run() == a2


def test_database_files_are_private(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "home" / "runs.sqlite")
    _create(store)
    files = sorted(tmp_path.glob("home/runs.sqlite*"))
    assert {p.name for p in files} == {"runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
