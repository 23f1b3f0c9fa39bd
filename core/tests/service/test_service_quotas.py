"""Per-key quotas against a real service: a key over its queued runs gets 429 with
Retry-After (admin keys exempt), and a key at its running limit waits while other keys' runs
go first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from autoglm.client import Client, RateLimited


def _config(server: Any, **settings: Any) -> Any:
    path = Path(server.home).parent / "service.yaml"
    path.write_text("".join(f"{name}: {value}\n" for name, value in settings.items()))
    server.args += ["--config", str(path)]
    return server


def test_queued_quota_answers_429_with_retry_after(new_server: Any) -> None:
    server = _config(
        new_server("--max-runs", "0"), max_queued_runs_per_key=2, quota_retry_after_s=7
    ).start()
    with Client(server.url, server.keys["submit"]) as client:
        first = client.submit("quick")
        client.submit("quick")
        with pytest.raises(RateLimited) as err:
            client.submit("quick")
        assert err.value.status == 429 and err.value.retry_after == 7.0
        assert err.value.kind == "quota_exceeded"
        assert "max_queued_runs_per_key=2" in str(err.value)
        raw = httpx.post(
            f"{server.url}/v1/runs",
            json={"workflow": "quick"},
            headers={"Authorization": f"Bearer {server.keys['submit']}"},
        )
        assert raw.status_code == 429 and raw.headers["retry-after"] == "7"
        with Client(server.url, server.keys["read,submit"]) as other:
            other.submit("quick")  # another key has its own quota
        with Client(server.url, server.keys["admin"]) as admin:
            for _ in range(3):
                admin.submit("quick")  # admin keys are exempt
            admin.cancel(first.id)
        client.submit("quick")  # a slot of the quota is free again
    assert "Traceback" not in server.log()


def test_a_key_at_its_running_limit_waits_while_others_run(new_server: Any) -> None:
    server = _config(new_server("--max-runs", "2"), max_running_runs_per_key=1).start()
    with (
        Client(server.url, server.keys["submit"]) as hog,
        Client(server.url, server.keys["read,submit"]) as other,
    ):
        slow = [hog.submit("slow").id for _ in range(2)]
        time.sleep(0.3)
        quick = other.submit("quick").id
        done = other.wait(quick, timeout=20)
        assert done.status == "succeeded"
        states = {run_id: other.get_run(run_id) for run_id in slow}
        # the hog's second run did not take the free slot; it waits its turn
        assert sorted(r.status for r in states.values()) == ["queued", "running"], states
        finished = [other.wait(run_id, timeout=30) for run_id in slow]
    assert [r.status for r in finished] == ["succeeded", "succeeded"]
    first, second = sorted(finished, key=lambda r: r.started_at or 0)
    assert second.started_at >= (first.finished_at or 0) - 0.05
