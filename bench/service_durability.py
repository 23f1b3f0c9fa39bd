"""Durability rounds of the REST service (issue 11): 16 SDK clients submit without pause while
the service is killed with SIGKILL mid-load and restarted, five times; afterwards nothing may
be lost, duplicated or stranded.

Each client loops on *logical submissions*: one ``Idempotency-Key`` per submission, kept across
every attempt until the service answers it, so when a kill swallows the 202 of a submission
the service had already stored, the retry after the restart gets that same run back. The SDK
retries on its own first (``retries=3``); while the service is down the client keeps calling
``submit`` again with the same key. A recording transport counts the attempts that failed
after they may have reached the service (not a refused connection), and the answers the service
marked ``Idempotent-Replayed``: the lost 202s whose retry got the stored run back.

Accounting, from the run store itself once the queue drained: *lost* = a 202'd run id missing
from the store; *duplicated* = a logical submission with more than one run in the store (runs
carry their key in a label); *stored, never answered* = a run no client got a 202 for;
*stranded* = a run not finished (queued, running or interrupted) after the drain. Baseline,
side by side: the same rounds with a client that retries the same way but sends no key, each
attempt a new submission, as a client that retried had to work before idempotency.

Usage: ``python bench/service_durability.py [--rounds 5] [--clients 16] [--out
bench/results/service_durability.md]``; ``BENCH_TMP=DIR`` puts the homes under DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from service_load import WORKFLOW, drain, free_port, start_service

from autoglm.client import AsyncClient, ServiceError
from autoglm.service.keys import KeyStore

NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass
class Tally:
    """What the clients saw: the run id answered per logical submission, and the attempts
    that failed after they may have reached the service (logical key, time)."""

    answered: dict[str, str] = field(default_factory=dict)
    maybe_sent: list[tuple[str, float]] = field(default_factory=list)
    #: submissions answered with a run an earlier attempt had stored (``Idempotent-Replayed``)
    replayed: set[str] = field(default_factory=set)


class RecordingTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, noting submissions that failed after the connection was made. Each
    attempt carries its logical submission's key as ``X-Request-ID``."""

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            key = request.headers.get("x-request-id")
            if request.method == "POST" and key and not isinstance(exc, NOT_SENT):
                self.tally.maybe_sent.append((key, time.time()))
            raise
        if response.headers.get("idempotent-replayed") == "true":
            self.tally.replayed.add(request.headers.get("x-request-id", ""))
        return response


async def keyed_submit(client: AsyncClient, key: str) -> str:
    """The SDK as shipped: one Idempotency-Key for every attempt of this submission."""
    while True:
        try:
            accepted = await client.submit(
                "small",
                use_cache=False,
                labels={"logical": key},
                request_id=key,
                idempotency_key=key,
            )
            return accepted.id
        except ServiceError:
            await asyncio.sleep(0.2)  # the service is down: the same submission again


async def unkeyed_submit(http: httpx.AsyncClient, key: str) -> str:
    """A client without idempotency: every attempt is a new submission."""
    body = {"workflow": "small", "use_cache": False, "labels": {"logical": key}}
    while True:
        try:
            response = await http.post("/v1/runs", json=body, headers={"X-Request-ID": key})
            if response.status_code == 202:
                return str(response.json()["id"])
            if 400 <= response.status_code < 500 and response.status_code != 429:
                raise RuntimeError(f"submission refused: {response.text}")
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)


async def client_loop(url: str, token: str, stop: asyncio.Event, tally: Tally, keyed: bool):
    transport = RecordingTransport(tally)
    sdk = AsyncClient(url, token, timeout=10, retries=3, backoff=0.1, transport=transport)
    http = httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        transport=transport,
    )
    async with sdk, http:
        while not stop.is_set():
            key = uuid.uuid4().hex
            if keyed:
                run_id = await keyed_submit(sdk, key)
            else:
                run_id = await unkeyed_submit(http, key)
            tally.answered[key] = run_id


def kill_rounds(
    home: Path, workflows: Path, port: int, args: tuple[str, ...], rounds: int, proc: Any
) -> tuple[Any, list[float]]:
    """SIGKILL the service at a random moment mid-load, restart it; ``rounds`` times."""
    downtimes = []
    rng = random.Random(11)
    for _ in range(rounds):
        time.sleep(rng.uniform(1.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        start = time.monotonic()
        proc = start_service(home, workflows, port, *args)
        downtimes.append(time.monotonic() - start)
    time.sleep(2.0)
    return proc, downtimes


async def drive(
    url: str, token: str, clients: int, keyed: bool, rounds_fn: Any
) -> tuple[Tally, Any]:
    tally = Tally()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(client_loop(url, token, stop, tally, keyed)) for _ in range(clients)
    ]
    outcome = await asyncio.to_thread(rounds_fn)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    return tally, outcome


def account(db: Path, tally: Tally) -> dict[str, Any]:
    """Lost, duplicated and stranded runs, from the store (plain SQL)."""
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute(
            "SELECT id, status, created_at, json_extract(labels_json, '$.logical') FROM runs"
        ).fetchall()
    by_key: dict[str, list[str]] = {}
    created: dict[str, float] = {}
    for run_id, _status, created_at, key in rows:
        by_key.setdefault(key, []).append(run_id)
        created[run_id] = created_at
    stored = {row[0] for row in rows}
    answered_ids = set(tally.answered.values())
    lost = [run_id for run_id in answered_ids if run_id not in stored]
    duplicated = {key: ids for key, ids in by_key.items() if len(ids) > 1}
    unanswered = [run_id for run_id in stored if run_id not in answered_ids]
    stranded = [row[0] for row in rows if row[1] not in ("succeeded", "failed", "cancelled")]
    failed = [row[0] for row in rows if row[1] != "succeeded"]
    return {
        "answered": len(tally.answered),
        "stored": len(stored),
        "lost": lost,
        "duplicated": duplicated,
        "unanswered": unanswered,
        "stranded": stranded,
        "not_succeeded": failed,
        "maybe_sent": len(tally.maybe_sent),
        "replayed": len(tally.replayed),
    }


def run_variant(tmp: Path, name: str, args: argparse.Namespace, keyed: bool) -> dict[str, Any]:
    home, workflows = tmp / name / "home", tmp / "workflows"
    store = KeyStore.in_home(home)
    token = store.create("bench", ["read", "submit"])[1]
    store.close()
    config = tmp / "service.yaml"
    flags = ("--max-runs", "4", "--plugins", "", "--config", str(config))
    port = free_port()
    proc = start_service(home, workflows, port, *flags)
    url = f"http://127.0.0.1:{port}"
    holder: dict[str, Any] = {}

    def rounds() -> None:
        holder["proc"], holder["downtimes"] = kill_rounds(
            home, workflows, port, flags, args.rounds, proc
        )

    start = time.monotonic()
    try:
        tally, _ = asyncio.run(drive(url, token, args.clients, keyed, rounds))
        waited = drain(home / "runs.sqlite", 300)
    finally:
        final = holder.get("proc", proc)
        final.send_signal(signal.SIGTERM)
        try:
            final.wait(30)
        except subprocess.TimeoutExpired:
            final.kill()
    result = account(home / "runs.sqlite", tally)
    result.update(
        seconds=time.monotonic() - start,
        drain_s=waited,
        downtime_s=sum(holder.get("downtimes", [0])) / max(1, len(holder.get("downtimes", []))),
    )
    return result


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> tuple[str, bool]:
    now = results["idempotent"]
    ok = not (now["lost"] or now["duplicated"] or now["unanswered"] or now["stranded"])
    lines = [
        "## Service durability: SIGKILL mid-load, with client retries",
        "",
        f"`python bench/service_durability.py --rounds {args.rounds} --clients {args.clients}`; "
        f"{os.cpu_count()} CPUs shared with other jobs. {args.clients} `AsyncClient`s submit a "
        "3-node workflow without pause; the service (4 concurrent runs, each in its run process) "
        f"is killed with SIGKILL at a random moment {args.rounds} times and restarted at once. "
        "**idempotent**: the SDK as shipped, one `Idempotency-Key` per logical submission, "
        "reused on every retry until the service answers. **no key** (the baseline, side by "
        "side): the same retries without a key, each attempt a new submission, as a client "
        "that retried had to work before idempotency. A *lost 202* is a submission whose run "
        "was stored but whose answer the kill swallowed: with a key, its retry is answered "
        "with the stored run (`Idempotent-Replayed: true`); without, its retry makes a "
        "duplicate.",
        "",
        "| client | submissions answered (202) | runs stored | lost | duplicated "
        "| stored, never answered | stranded | attempts failed after sending | lost 202s "
        "answered with the stored run | restart (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['answered']} | {r['stored']} | {len(r['lost'])} | "
            f"{sum(len(v) - 1 for v in r['duplicated'].values())} | {len(r['unanswered'])} | "
            f"{len(r['stranded'])} | {r['maybe_sent']} | {r['replayed']} | "
            f"{r['downtime_s']:.1f} |"
        )
    lines += [
        "",
        f"**{'Nothing lost, duplicated or stranded' if ok else 'DURABILITY FAILED'}** with "
        f"idempotent retries over {args.rounds} kills: {now['replayed']} lost 202s, each "
        "retry answered with the run already stored. "
        f"{len(now['not_succeeded'])} of the stored runs did not succeed; the queue drained "
        f"{now['drain_s']:.1f} s after the last restart. Without a key the same kills left "
        f"{sum(len(v) - 1 for v in results['no key']['duplicated'].values())} duplicate runs.",
        "",
    ]
    if not ok:
        lines.append(
            "Details: "
            + "; ".join(
                f"{k}: {list(v)[:5]}" for k, v in now.items() if isinstance(v, list | dict) and v
            )
        )
    return "\n".join(lines), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--out", default="bench/results/service_durability.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "workflows").mkdir()
        (tmp / "workflows" / "small.yaml").write_text(WORKFLOW)
        # one benchmark key drives everything: no per-key quota in the way
        (tmp / "service.yaml").write_text(
            "max_running_runs_per_key: 4\nmax_queued_runs_per_key: null\n"
        )
        results = {}
        for name, keyed in (("idempotent", True), ("no key", False)):
            results[name] = run_variant(tmp, name, args, keyed)
            print(
                name,
                {
                    k: v if not isinstance(v, list | dict) else len(v)
                    for k, v in results[name].items()
                },
                flush=True,
            )
    text, ok = report(args, results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
