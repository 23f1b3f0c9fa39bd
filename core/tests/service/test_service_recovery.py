"""A service killed with SIGKILL mid-run loses nothing: on restart the interrupted run resumes
(its finished node not run again) and the runs still queued start."""

from __future__ import annotations

from typing import Any

from core_helpers import wait_until

from autoglm.client import Client
from autoglm.store import RunStore


def test_sigkill_during_a_run_then_restart_completes_it(new_server: Any) -> None:
    server = new_server("--max-runs", "1").start()
    with Client(server.url, server.keys["admin"]) as client:
        interrupted = client.submit("slow").id
        waiting = client.submit("quick").id
        wait_until(lambda: "nap" in client.get_run(interrupted).nodes, timeout=15)
        before = client.get_run(interrupted)
        server.kill()
    assert before.nodes["quick"].status == "succeeded"
    store = RunStore(server.home / "runs.sqlite")
    # its owner (the run process) dies with the service: the kernel's signal is asynchronous,
    # so allow it a moment under load before the read must say interrupted
    wait_until(lambda: store.get_run(interrupted).status == "interrupted", timeout=10)
    assert store.get_run(waiting).status == "queued"

    server.start()
    with Client(server.url, server.keys["read"]) as client:
        resumed = client.wait(interrupted, timeout=20)
        queued = client.wait(waiting, timeout=20)
    assert resumed.status == "succeeded" and resumed.outputs == {"value": "ready"}
    quick, nap = resumed.nodes["quick"], resumed.nodes["nap"]
    assert quick.attempts == 1 and quick.finished_at == before.nodes["quick"].finished_at
    assert nap.attempts == 2  # started before the kill, and once more after the restart
    assert queued.status == "succeeded" and queued.nodes["a"].attempts == 1
    assert "requeued interrupted run" in server.log()


def test_graceful_stop_requeues_the_active_run(new_server: Any) -> None:
    server = new_server().start()
    with Client(server.url, server.keys["admin"]) as client:
        run_id = client.submit("slow").id
        wait_until(lambda: "nap" in client.get_run(run_id).nodes, timeout=15)
    server.stop()  # SIGTERM: the run is interrupted and put back in the queue
    store = RunStore(server.home / "runs.sqlite")
    assert store.get_run(run_id).status == "queued"
    server.start()
    with Client(server.url, server.keys["read"]) as client:
        run = client.wait(run_id, timeout=20)
    assert run.status == "succeeded" and run.nodes["quick"].attempts == 1


def test_a_run_whose_owner_died_reads_interrupted_in_the_api_and_sdk(new_server: Any) -> None:
    """Not ``running`` forever: the REST API and the SDK say ``interrupted`` (issue 10)."""
    from test_ownership import dead_owner

    server = new_server().start()
    store = RunStore(server.home / "runs.sqlite")
    run_id = store.create_run(
        workflow_name="quick", workflow_source="", workflow_path=None, inputs={}, selection={}
    )
    assert store.claim_run(run_id, dead_owner()).ok
    with Client(server.url, server.keys["read"]) as client:
        assert client.get_run(run_id).status == "interrupted"
        page = client.list_runs(status="interrupted")
        assert [run.id for run in page.items] == [run_id] and page.total == 1
        assert client.list_runs(status="running").total == 0
        assert client.list_runs().items[0].status == "interrupted"
