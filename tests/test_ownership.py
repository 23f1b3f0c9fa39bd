"""Run ownership in the store: who owns a run, whether it still lives, the atomic claim, and
the ``interrupted`` state of a run whose owner died (issue 10, finding 1)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autoglm.ownership import Heartbeat, Owner, pid_alive, process_start
from autoglm.store import SCHEMA_VERSION, RunStore

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def new_run(store: RunStore) -> str:
    return store.create_run(
        workflow_name="wf", workflow_source="nodes: []", workflow_path=None, inputs={}, selection={}
    )


def dead_owner() -> Owner:
    """A process of this host that existed and exited (its pid is free)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = Owner(socket.gethostname(), child.pid, process_start(child.pid))
    child.wait()
    return owner


def test_owner_liveness_on_this_host() -> None:
    me = Owner.current()
    assert me.alive(None) and Owner.parent().alive(None)
    assert not dead_owner().alive(None)
    assert not Owner(me.host, 0).alive(None)


@linux_only
def test_a_reused_pid_is_not_the_owner() -> None:
    """Same pid, another start time: the process that owned the run is gone."""
    me = Owner.current()
    assert me.start is not None
    impostor = Owner(me.host, me.pid, str(int(me.start) - 100))
    assert not impostor.alive(None)


@linux_only
def test_a_zombie_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = Owner(socket.gethostname(), child.pid, process_start(child.pid))
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert not pid_alive(child.pid) and not owner.alive(None)  # exited, not yet reaped
    child.wait()


def test_an_owner_on_another_host_lives_by_its_heartbeat() -> None:
    other = Owner("another-host", 1234, "99")
    now = time.time()
    assert other.alive(now - 5, now=now)
    assert not other.alive(now - 31, now=now)
    assert not other.alive(None, now=now)


def test_claim_is_refused_while_the_owner_lives_and_granted_when_it_died(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = new_run(store)
    holder = Owner.parent()  # alive for the whole test, and not this process
    first = store.claim_run(run_id, holder)
    assert first.ok and first.run.status == "running" and first.run.attempt == 1
    assert first.run.owner_pid == holder.pid and first.run.heartbeat_at is not None

    refused = store.claim_run(run_id, Owner.current())
    assert not refused.ok
    assert refused.run.owner_pid == holder.pid and refused.run.attempt == 1

    corpse = dead_owner()
    store.requeue_run(run_id)
    assert store.claim_run(run_id, corpse).ok
    assert store.get_run(run_id).status == "interrupted"
    taken = store.claim_run(run_id, Owner.current())
    assert taken.ok and taken.run.attempt == 3 and taken.run.owner_pid == Owner.current().pid
    assert store.heartbeat(run_id, Owner.current())
    assert not store.heartbeat(run_id, corpse)  # the dead owner lost the run
    assert not store.finish_run(run_id, "succeeded", owner=corpse)
    assert store.get_run(run_id).status == "running"
    assert store.finish_run(run_id, "succeeded", owner=Owner.current())
    assert not store.claim_run("no-such-run", Owner.current()).ok


def test_a_stale_heartbeat_frees_a_run_owned_on_another_host(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite", stale_after_s=0.2)
    run_id = new_run(store)
    remote = Owner("another-host", 4321, "7")
    assert store.claim_run(run_id, remote).ok
    assert not store.claim_run(run_id, Owner.current()).ok  # fresh heartbeat: alive
    assert store.get_run(run_id).status == "running"
    time.sleep(0.3)
    assert store.get_run(run_id).status == "interrupted"
    assert store.claim_run(run_id, Owner.current()).ok


def test_interrupted_is_derived_in_every_read(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    live, dead, queued = new_run(store), new_run(store), new_run(store)
    store.claim_run(live, Owner.current())
    store.claim_run(dead, dead_owner())
    assert [r.id for r in store.list_runs(status="running")] == [live]
    assert [r.id for r in store.list_runs(status="interrupted")] == [dead]
    assert store.count_runs(status="running") == 1 and store.count_runs(status="interrupted") == 1
    statuses = {r.id: r.status for r in store.list_runs()}
    assert statuses == {live: "running", dead: "interrupted", queued: "queued"}
    assert store.list_runs(status="interrupted", offset=1) == []

    assert store.requeue_interrupted() == [dead]  # the recovery of a starting service
    assert store.get_run(dead).status == "queued" and store.get_run(dead).owner is None
    assert store.get_run(live).status == "running"


def test_cancelling_an_interrupted_run_ends_it_at_once(tmp_path: Path) -> None:
    """Nobody executes an interrupted run to notice a cancel flag: it is cancelled now."""
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = new_run(store)
    store.claim_run(run_id, dead_owner())
    assert store.request_cancel(run_id)
    run = store.get_run(run_id)
    assert run.status == "cancelled" and run.error == "cancelled while interrupted"


def test_adopt_takes_over_only_from_this_process_or_its_parent(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    mine, parents, strangers = new_run(store), new_run(store), new_run(store)
    assert store.claim_queued_run() == mine  # the oldest, for this process
    assert store.claim_run(parents, Owner.parent()).ok  # a supervisor's claim
    for run_id in (mine, parents):
        adopted = store.adopt_run(run_id, Owner.current())
        assert adopted.ok and adopted.run.attempt == 1  # the claim counted the attempt
        assert adopted.run.owner_pid == Owner.current().pid
    store.claim_run(strangers, Owner("another-host", 1, "1"))
    assert not store.adopt_run(strangers, Owner.current()).ok


def test_a_version_1_store_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, workflow_name TEXT NOT NULL,"
            " workflow_path TEXT, workflow_source TEXT NOT NULL, inputs_json TEXT NOT NULL,"
            " selection_json TEXT NOT NULL, options_json TEXT NOT NULL DEFAULT '{}',"
            " status TEXT NOT NULL, error TEXT, outputs_json TEXT, created_at REAL NOT NULL,"
            " started_at REAL, finished_at REAL, attempt INTEGER NOT NULL DEFAULT 0, owner TEXT,"
            " cancel_requested INTEGER NOT NULL DEFAULT 0, labels_json TEXT NOT NULL DEFAULT '{}')"
        )
        corpse = dead_owner()
        conn.execute(
            "INSERT INTO runs(id, workflow_name, workflow_source, inputs_json, selection_json,"
            " status, created_at, owner) VALUES ('old', 'wf', '', '{}', '{}', 'running', 1, ?)",
            (corpse.label,),
        )
    store = RunStore(path)
    assert store.get_run("old").status == "interrupted"  # judged from the old owner text
    version = store._query("SELECT value FROM meta WHERE key='schema_version'")[0]["value"]
    assert version == str(SCHEMA_VERSION)


def test_heartbeat_thread_beats_and_reports_a_lost_run() -> None:
    beats: list[float] = []
    lost: list[bool] = []

    def beat() -> bool:
        beats.append(time.monotonic())
        return len(beats) < 3

    with Heartbeat(beat, lambda: lost.append(True), interval=0.02):
        deadline = time.monotonic() + 5
        while not lost and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(beats) == 3 and lost == [True]


def test_pid_alive_sees_a_killed_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    assert pid_alive(child.pid)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not pid_alive(child.pid)


def test_an_engine_whose_run_was_taken_over_stops_and_writes_no_result(
    make_workflow, engine, store, tmp_path: Path
) -> None:
    """Its heartbeat finds another owner (its own went stale): it stops, and the run's result
    is left to the new owner."""
    gate, log = tmp_path / "gate", tmp_path / "log.jsonl"
    wf = make_workflow(
        f"""
        nodes:
          - id: wait
            type: testnodes.gate
            config: {{gate: "{gate}", log: "{log}"}}
        """
    )
    run_id = engine.submit(wf)
    engine.heartbeat_s = 0.05
    results = []
    thread = threading.Thread(target=lambda: results.append(engine.execute(run_id, wf)))
    thread.start()
    deadline = time.monotonic() + 30
    while not log.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    thief = Owner("another-host", 99, "1")
    store.requeue_run(run_id)
    assert store.claim_run(run_id, thief).ok
    thread.join(30)
    assert results and results[0].status == "interrupted"
    run = store.get_run(run_id)
    assert (run.status, run.owner_host, run.finished_at) == ("running", "another-host", None)
