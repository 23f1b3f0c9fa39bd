"""The SQLite run store: WAL, concurrent writers in several processes, round trips."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from autoglm.ownership import Owner
from autoglm.store import RunStore


def test_wal_mode_and_busy_timeout(tmp_path: Path):
    store = RunStore(tmp_path / "runs.sqlite")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000


def test_opening_waits_for_another_writer_before_switching_to_wal(tmp_path: Path):
    """A store opened while another connection holds a write lock (another process creating
    the same store) waits for it: SQLite refuses the WAL switch at once there, without its
    busy handler, which made a CI run fail with "database is locked"."""
    import threading
    import time

    path = tmp_path / "runs.sqlite"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE other(x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other VALUES (1)")
    releaser = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    releaser.start()
    started = time.monotonic()
    store = RunStore(path)
    releaser.join()
    assert time.monotonic() - started >= 0.25  # it waited for the writer, then opened
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    writer.close()


def test_run_and_node_round_trip(tmp_path: Path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create_run(
        workflow_name="wf",
        workflow_source="nodes: []",
        workflow_path=None,
        inputs={"a": 1},
        selection={"allow": ["x"]},
    )
    assert store.claim_run(run_id, Owner.current()).ok
    store.node_started(run_id, "n", "core.noop", {"value": 1})
    store.node_finished(
        run_id,
        "n",
        "core.noop",
        "succeeded",
        outputs={"value": 1},
        cache_key="k",
        cache_outputs=True,
    )
    store.finish_run(run_id, "succeeded", outputs={"out": 1})
    run = store.get_run(run_id)
    assert (run.status, run.inputs, run.outputs, run.attempt) == (
        "succeeded",
        {"a": 1},
        {"out": 1},
        1,
    )
    node = store.node_states(run_id)["n"]
    assert (node.status, node.inputs, node.outputs) == ("succeeded", {"value": 1}, {"value": 1})
    assert store.cache_get("k") == {"value": 1}
    assert store.count_runs(status="succeeded") == 1


def test_queue_claims_each_run_once_across_processes(tmp_path: Path):
    """Four processes claim from one queue while writing journals: no run is claimed twice,
    none is lost, and no writer fails with 'database is locked'."""
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    ids = {
        store.create_run(
            workflow_name="wf", workflow_source="", workflow_path=None, inputs={}, selection={}
        )
        for _ in range(200)
    }
    worker = textwrap.dedent(
        f"""
        import sys
        from autoglm.store import RunStore
        store = RunStore({str(path)!r})
        claimed = []
        while (run_id := store.claim_queued_run()) is not None:
            store.journal_append(run_id, "n", "claim", sys.argv[1])
            store.finish_run(run_id, "succeeded")
            claimed.append(run_id)
        print("\\n".join(claimed))
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", worker, f"w{i}"], stdout=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].split() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    claimed = [run_id for out in outputs for run_id in out]
    assert sorted(claimed) == sorted(ids)
    assert all(len(store.journal_read(r, "n", "claim")) == 1 for r in ids)


def test_cancel_flag(tmp_path: Path):
    store = RunStore(tmp_path / "runs.sqlite")
    queued = store.create_run(
        workflow_name="wf", workflow_source="", workflow_path=None, inputs={}, selection={}
    )
    assert store.request_cancel(queued)
    assert store.get_run(queued).status == "cancelled"
    assert not store.request_cancel(queued)
