"""The run sandbox against a real service: runs execute in run processes, never in the API
process; a run that spins, allocates, hangs or records too much is stopped by its limit with a
message naming it, while ``/healthz`` keeps answering; cancel, graceful stop and SIGKILL of the
service really stop a run's processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from core_helpers import wait_until

from autoglm.client import Client
from autoglm.ownership import pid_alive
from autoglm.store import RunStore

pytestmark = pytest.mark.slow

SANDBOX_PLUGINS = Path(__file__).parent / "sandbox_plugins"
LIMITS = {
    # CPU time for a node worker to start (its imports) and for a hog to fault in 400 MB before
    # the memory limit, on a loaded machine: at 1.5 s a worker hog once hit the CPU limit first
    "cpu_s": 4,
    "memory_mb": 400,
    "address_space_mb": 2048,
    "wall_s": 60,
    "store_mb": 1,
    "output_mb": 0.5,
    "cancel_grace_s": 0.5,
}


def _sandboxed(factory: Any, config: Path, limits: dict[str, Any], *args: str) -> Any:
    """A configured server with ``limits``, the sandbox test nodes and a 1 s stop grace."""
    config.write_text(yaml.safe_dump({"limits": limits, "shutdown_grace_s": 1}))
    return factory("--config", str(config), "--plugins-dir", str(SANDBOX_PLUGINS), *args)


def _one_node(node_type: str, config: dict[str, Any] | None = None, **settings: Any) -> str:
    """A workflow of one node ``n`` (``settings``: its execution settings, e.g. isolation)."""
    node = {"id": "n", "type": node_type, "config": config or {}, **settings}
    return yaml.safe_dump(
        {"name": node_type.replace(".", "-"), "nodes": [node], "outputs": {"result": "$n"}}
    )


def _pid(path: Path) -> int:
    return wait_until(lambda: path.exists() and path.read_text() and int(path.read_text()))


@pytest.fixture(scope="module")
def sandbox(module_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A service with small limits, the sandbox test nodes and four run slots."""
    config = tmp_path_factory.mktemp("sandbox") / "service.yaml"
    return _sandboxed(module_server, config, LIMITS, "--max-runs", "4").start()


@pytest.fixture
def admin(sandbox: Any) -> Iterator[Client]:
    with Client(sandbox.url, sandbox.keys["admin"]) as client:
        yield client


def test_nodes_never_execute_in_the_api_process(sandbox: Any, admin: Client) -> None:
    run = admin.run(workflow_yaml=_one_node("sandboxnodes.where"), timeout=30)
    assert run.status == "succeeded", run.error
    pid = run.outputs["result"]["pid"]
    assert pid != sandbox.proc.pid
    # a run process of this service, which owns the run in the store
    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert parent == sandbox.proc.pid
    assert RunStore(sandbox.home / "runs.sqlite").get_run(run.id).owner_pid == pid
    # run processes are reused: six runs one after another do not need six processes
    where = _one_node("sandboxnodes.where")
    pids = {admin.run(workflow_yaml=where, timeout=30).outputs["result"]["pid"] for _ in range(6)}
    assert sandbox.proc.pid not in pids and len(pids) < 6


def test_spin_and_memory_hogs_stop_at_their_limits_while_the_api_answers(
    sandbox: Any, admin: Client, tmp_path: Path
) -> None:
    spin_pid, hog_pid, worker_pid = (tmp_path / f"{n}.pid" for n in ("spin", "hog", "worker"))
    spin = admin.submit(
        workflow_yaml=_one_node("sandboxnodes.spin", {"pid_file": str(spin_pid)})
    ).id
    hog = admin.submit(
        workflow_yaml=_one_node("sandboxnodes.hog", {"pid_file": str(hog_pid), "mb": 3000})
    ).id
    # in a node worker process of the run process: still counted with the run
    worker_hog = admin.submit(
        workflow_yaml=_one_node(
            "sandboxnodes.hog", {"pid_file": str(worker_pid), "mb": 3000}, isolation="process"
        )
    ).id
    # one 3000 MB allocation: refused at once by the address-space limit (RLIMIT_AS)
    big = admin.submit(
        workflow_yaml=_one_node("sandboxnodes.hog", {"mb": 3000, "chunk_mb": 3000})
    ).id
    ids = [spin, hog, worker_hog, big]
    latencies: list[float] = []
    with httpx.Client(base_url=sandbox.url, timeout=5) as http:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            start = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - start)
            runs = [admin.get_run(run_id) for run_id in ids]
            # "interrupted" is transient here: the run process died at its limit and the
            # service has not yet recorded the outcome (the SDK's wait() waits it out too)
            if all(r.status not in {"queued", "running", "interrupted"} for r in runs):
                break
            time.sleep(0.05)
    spun, hogged, worker_hogged, refused = (admin.get_run(run_id) for run_id in ids)
    assert spun.status == "failed" and "CPU-time limit of 4 s (limits.cpu_s)" in spun.error
    assert spun.nodes["n"].status == "failed" and "limits.cpu_s" in spun.nodes["n"].error
    for run in (hogged, worker_hogged):
        assert run.status == "failed"
        assert "memory limit of 400 MB resident (limits.memory_mb)" in run.error
    assert refused.status == "failed" and "MemoryError" in refused.error
    assert "address-space limit of 2048 MB per process (limits.address_space_mb)" in refused.error
    assert _pid(worker_pid) != _pid(hog_pid)
    for pid_file in (spin_pid, hog_pid, worker_pid):
        pid = _pid(pid_file)
        assert pid != sandbox.proc.pid
        wait_until(lambda pid=pid: not pid_alive(pid), timeout=5)
    latencies.sort()
    assert len(latencies) >= 5
    assert latencies[int(len(latencies) * 0.9)] < 0.1, latencies
    assert latencies[-1] < 1.0, latencies


def test_cancel_kills_a_run_that_ignores_it(sandbox: Any, admin: Client, tmp_path: Path) -> None:
    pid_file = tmp_path / "spin.pid"
    run_id = admin.submit(
        workflow_yaml=_one_node("sandboxnodes.spin", {"pid_file": str(pid_file)})
    ).id
    pid = _pid(pid_file)
    start = time.monotonic()
    admin.cancel(run_id)
    run = wait_until(lambda: (r := admin.get_run(run_id)).status == "cancelled" and r, timeout=10)
    assert time.monotonic() - start < 5
    assert "limits.cancel_grace_s" in run.error
    wait_until(lambda: not pid_alive(pid), timeout=5)
    assert pid_alive(sandbox.proc.pid)


def test_a_run_cannot_fill_the_store(sandbox: Any, admin: Client) -> None:
    # a 100 kB value copied into 30 nodes' inputs, outputs and cache entries: about 9 MB
    nodes = [{"id": "blob", "type": "sandboxnodes.blob", "config": {"kb": 100}}] + [
        {"id": f"copy{i}", "type": "core.noop", "inputs": {"value": "$blob.value"}}
        for i in range(30)
    ]
    workflow = yaml.safe_dump({"name": "copies", "nodes": nodes})
    run = admin.run(workflow_yaml=workflow, timeout=30)
    assert run.status == "failed"
    assert "store limit of 1 MB (limits.store_mb)" in run.error
    store = RunStore(sandbox.home / "runs.sqlite")
    assert store.recorded_bytes(run.id) <= 1_000_000

    big = admin.run(workflow_yaml=_one_node("sandboxnodes.blob", {"kb": 600}), timeout=30)
    assert big.status == "failed"
    assert "output limit of 0.5 MB per recorded value (limits.output_mb)" in big.error
    assert store.recorded_bytes(big.id) < 100  # its inputs ({}), not the refused outputs


def test_wall_clock_graceful_stop_and_sigkill(new_server: Any, tmp_path: Path) -> None:
    limits = {"wall_s": 2, "cancel_grace_s": 0.5}
    server = _sandboxed(new_server, tmp_path / "service.yaml", limits).start()
    with Client(server.url, server.keys["admin"]) as client:
        hang = client.run(workflow_yaml=_one_node("core.sleep", {"seconds": 3600}), timeout=30)
        assert hang.status == "failed"
        assert "wall-clock limit of 2 s (limits.wall_s)" in hang.error

        # graceful stop: a run that ignores the interrupt is killed after the grace, requeued
        pid_file = tmp_path / "stop.pid"
        stopped = client.submit(
            workflow_yaml=_one_node("sandboxnodes.spin", {"pid_file": str(pid_file)})
        ).id
        pid = _pid(pid_file)
    server.stop()
    assert not pid_alive(pid)
    assert RunStore(server.home / "runs.sqlite").get_run(stopped).status == "queued"

    # the next start resumes it (and its wall clock stops it again)
    pid_file.unlink()
    server.start()
    with Client(server.url, server.keys["admin"]) as client:
        resumed = client.wait(stopped, timeout=30)
        assert resumed.status == "failed" and "limits.wall_s" in resumed.error
        pid_file.unlink()
        killed = client.submit(
            workflow_yaml=_one_node("sandboxnodes.spin", {"pid_file": str(pid_file)})
        ).id
        pid = _pid(pid_file)
    server.kill()  # SIGKILL: the run process dies with the service
    wait_until(lambda: not pid_alive(pid), timeout=5)
    assert RunStore(server.home / "runs.sqlite").get_run(killed).status == "interrupted"
    server.start()
    with Client(server.url, server.keys["admin"]) as client:
        assert client.wait(killed, timeout=30).status == "failed"
    assert "requeued interrupted run" in server.log()
    server.stop()
