"""UI benchmark (issue 14): the page at /ui in a real headless Chromium against a real service.

Measures, on loopback:

1. **First load to interactive**: navigation start to the signed-in page with its workflow
   list and plugin palette loaded (key already in the tab's ``sessionStorage``), cold and warm
   (browser cache), median of ``--loads``.
2. **A generated 300-node workflow** (20 layers of 15 nodes, each node reading two of the
   layer before): fetch, lay out (dagre, left to right) and draw, until two animation frames
   have passed.
3. **State change to colour**: a run of 40 short ``core.sleep`` nodes (4 parallel chains)
   watched in the page; for each node state the page applied, the time from the store's
   timestamp of that change (``started_at``/``finished_at``, written by the run process) to
   the moment the page set the node's colour. Target: under 300 ms (Prefect polls every 1 s,
   Airflow every 3 s).
4. **Memory after watching a 1,000-node run** (10 layers of 100: constants, then chains of
   ``core.sleep`` with 0 s): the page's JS
   heap (Chrome DevTools ``Performance.getMetrics``) and DOM node count after the run ended.
5. **100 concurrent SSE watchers**: submissions per second of 16 SDK clients (submit a 3-node
   workflow, read its status, in a loop) with no watcher, then with 100 event streams open
   (on 10 runs that last the whole phase), alternating twice.

Usage: ``python bench/ui.py [--loads 5] [--seconds 6] [--out bench/results/ui.md]``.
Needs playwright and a Chromium (``apt-get install chromium-headless-shell``, or
``$AUTOGLM_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from service_load import free_port

from autoglm.client import AsyncClient
from autoglm.service.keys import KeyStore

SMALL = """
name: small
nodes:
  - {id: a, type: core.const, config: {value: 1}}
  - {id: b, type: core.noop, inputs: {value: $a.value}}
  - {id: c, type: core.noop, inputs: {value: $b.value}}
"""


ENDED = re.compile("succeeded|failed|cancelled")


def layered(name: str, layers: int, width: int, node_type: str, sleep: float = 0.0) -> str:
    """A workflow of ``layers`` x ``width`` nodes; each reads up to two of the layer before."""
    lines = [f"name: {name}", "nodes:"]
    for layer in range(layers):
        for i in range(width):
            node = f"n{layer}_{i}"
            if layer == 0:
                lines.append(f"  - {{id: {node}, type: core.const, config: {{value: {i}}}}}")
                continue
            src = f"n{layer - 1}_{i}"
            config = f", config: {{seconds: {sleep}}}" if node_type == "core.sleep" else ""
            lines.append(
                f"  - {{id: {node}, type: {node_type}, inputs: {{value: ${src}.value}}{config}}}"
            )
            if node_type == "core.noop" and width > 1:
                other = f"n{layer - 1}_{(i + 1) % width}"  # a second reference, a second edge
                lines[-1] = (
                    f"  - {{id: {node}, type: core.noop, inputs: {{value: "
                    f"{{a: ${src}.value, b: ${other}.value}}}}}}"
                )
    return "\n".join(lines) + "\n"


def submit_named(http: httpx.Client, name: str) -> str:
    return http.post("/v1/runs", json={"workflow": name, "use_cache": False}).json()["id"]


def chromium() -> str:
    for candidate in (
        os.environ.get("AUTOGLM_CHROMIUM"),
        shutil.which("chromium-headless-shell"),
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("no Chromium: apt-get install chromium-headless-shell (or set AUTOGLM_CHROMIUM)")


class Service:
    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.workflows = root / "workflows"
        self.workflows.mkdir(parents=True)
        (self.workflows / "small.yaml").write_text(SMALL)
        (self.workflows / "big300.yaml").write_text(layered("big300", 20, 15, "core.noop"))
        (self.workflows / "sleepy.yaml").write_text(layered("sleepy", 11, 4, "core.sleep", 0.15))
        (self.workflows / "big1000.yaml").write_text(layered("big1000", 10, 100, "core.sleep", 0))
        (self.workflows / "long.yaml").write_text(layered("long", 2, 1, "core.sleep", 600))
        store = KeyStore.in_home(self.home)
        self.key = store.create("bench", ["admin"])[1]
        store.close()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "AUTOGLM_HOME": str(self.home)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autoglm.service",
                "serve",
                "--port",
                str(self.port),
                "--home",
                str(self.home),
                "--workflows-dir",
                str(self.workflows),
                "--max-runs",
                "12",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(root / "service.log").open("w"),
        )
        self.log = root / "service.log"
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("service did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def browser_figures(service: Service, loads: int) -> dict:
    from playwright.sync_api import expect, sync_playwright

    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium())
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_init_script(f"sessionStorage.setItem('autoglm.key', {service.key!r})")
        page = context.new_page()
        times = []
        for i in range(loads + 1):
            page.goto(f"{service.url}/ui")
            expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=30_000)
            times.append(page.evaluate("() => window.autoglmUI.readyAt"))
            if i == 0:
                out["load_cold_ms"] = times[0]
        out["load_warm_ms"] = statistics.median(times[1:])

        draws = []
        for _ in range(3):
            draws.append(
                page.evaluate(
                    """async () => { const t = performance.now();
                    await window.autoglmUI.openWorkflow('big300');
                    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                    return [performance.now() - t, window.autoglmUI.timings.fetch_ms,
                            window.autoglmUI.cy.nodes().length,
                            window.autoglmUI.cy.edges().length]; }"""
                )
            )
        best = sorted(draws)[len(draws) // 2]
        out["big300"] = {
            "total_ms": best[0],
            "fetch_ms": best[1],
            "nodes": best[2],
            "edges": best[3],
        }

        auth = {"Authorization": f"Bearer {service.key}"}
        with httpx.Client(base_url=service.url, headers=auth) as http:
            run_id = submit_named(http, "sleepy")
            page.evaluate("(id) => window.autoglmUI.openRun(id)", run_id)
            expect(page.locator("#run-status")).to_have_text(ENDED, timeout=120_000)
            log = page.evaluate("() => window.autoglmUI.stateLog")
            lat = sorted(e["at"] - e["changed"] * 1000 for e in log if e["changed"])
            out["latency"] = {
                "n": len(lat),
                "p50": lat[len(lat) // 2],
                "p95": lat[int(len(lat) * 0.95) - 1],
                "max": lat[-1],
            }

            cdp = context.new_cdp_session(page)
            page.goto(f"{service.url}/ui")
            expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=30_000)
            cdp.send("Performance.enable")
            cdp.send("HeapProfiler.collectGarbage")
            base = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            run_id = http.post("/v1/runs", json={"workflow": "big1000", "use_cache": False}).json()[
                "id"
            ]
            t0 = time.perf_counter()
            page.evaluate("(id) => window.autoglmUI.openRun(id)", run_id)
            expect(page.locator("#run-status")).to_have_text(ENDED, timeout=300_000)
            watched_s = time.perf_counter() - t0
            states = page.evaluate(
                "() => window.autoglmUI.cy.nodes('[kind = \"node\"]')"
                ".filter(n => n.data('state') === 'succeeded').length"
            )
            cdp.send("HeapProfiler.collectGarbage")
            after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            out["big1000"] = {
                "watched_s": watched_s,
                "succeeded_nodes_shown": states,
                "heap_before_mb": base["JSHeapUsedSize"] / 2**20,
                "heap_after_mb": after["JSHeapUsedSize"] / 2**20,
                "dom_nodes": after["Nodes"],
                "events": len(page.evaluate("() => window.autoglmUI.stateLog")),
            }
        browser.close()
    return out


async def submit_loop(url: str, key: str, seconds: float, clients: int) -> tuple[int, list[float]]:
    count, latencies = 0, []
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal count
        async with AsyncClient(url, api_key=key) as client:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                accepted = await client.submit("small", use_cache=False)
                latencies.append(time.perf_counter() - t)
                await client.get_run(accepted.id)
                count += 1

    await asyncio.gather(*(one() for _ in range(clients)))
    return count, latencies


async def with_watchers(service: Service, seconds: float, watchers: int, runs: list[str]) -> dict:
    """The submit loop while ``watchers`` event streams are open on ``runs``."""
    headers = {"Authorization": f"Bearer {service.key}"}
    opened = 0
    events = 0

    async def watch(run_id: str) -> None:
        nonlocal opened, events
        async with (
            httpx.AsyncClient(base_url=service.url, headers=headers, timeout=None) as c,
            c.stream("GET", f"/v1/runs/{run_id}/events") as response,
        ):
            assert response.status_code == 200
            opened += 1
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    events += 1

    tasks = [asyncio.create_task(watch(runs[i % len(runs)])) for i in range(watchers)]
    while opened < watchers:
        await asyncio.sleep(0.1)
    count, lat = await submit_loop(service.url, service.key, seconds, 16)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"count": count, "lat": lat, "opened": opened, "events": events}


def watcher_figures(service: Service, seconds: float) -> list[dict]:
    """Both phases with the same 10 long runs in flight; only the watchers differ."""
    auth = {"Authorization": f"Bearer {service.key}"}
    with httpx.Client(base_url=service.url, headers=auth) as http:
        runs = [submit_named(http, "long") for _ in range(10)]
        asyncio.run(submit_loop(service.url, service.key, 2.0, 16))  # warm-up, not counted
        rows = []
        for _ in range(2):
            for watchers in (0, 100):
                result = asyncio.run(with_watchers(service, seconds, watchers, runs))
                lat = sorted(result["lat"])
                rows.append(
                    {
                        "watchers": watchers,
                        "per_s": result["count"] / seconds,
                        "p50": lat[len(lat) // 2] * 1000,
                        "p99": lat[int(len(lat) * 0.99) - 1] * 1000,
                        "opened": result["opened"],
                    }
                )
                time.sleep(2)
        for run_id in runs:
            http.post(f"/v1/runs/{run_id}/cancel")
    return rows


def report(fig: dict, rows: list[dict], args: argparse.Namespace) -> str:
    lat, b300, b1000 = fig["latency"], fig["big300"], fig["big1000"]
    load = os.getloadavg()[0]
    lines = [
        "# UI benchmark (issue 14)",
        "",
        f"`python bench/ui.py --loads {args.loads} --seconds {args.seconds}`; service and "
        f"headless Chromium ({Path(chromium()).name}) on one machine ({os.cpu_count()} CPUs, "
        f"shared with other jobs: load average {load:.1f} at the end), loopback, "
        f"Python {platform.python_version()}.",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| first load to interactive, cold (signed-in page, workflows and palette loaded) "
        f"| {fig['load_cold_ms']:.0f} ms |",
        f"| first load to interactive, warm cache (median of {args.loads}) "
        f"| {fig['load_warm_ms']:.0f} ms |",
        f"| 300-node workflow ({b300['nodes']} drawn nodes, {b300['edges']} edges): fetch, "
        f"dagre layout, draw | {b300['total_ms']:.0f} ms (fetch {b300['fetch_ms']:.0f} ms) |",
        f"| store state change to node colour ({lat['n']} changes) "
        f"| p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, max {lat['max']:.0f} ms |",
        f"| 1,000-node run watched live ({b1000['watched_s']:.1f} s, {b1000['events']} state "
        f"events, {b1000['succeeded_nodes_shown']} nodes shown succeeded): JS heap "
        f"| {b1000['heap_before_mb']:.1f} MB before, {b1000['heap_after_mb']:.1f} MB after; "
        f"{b1000['dom_nodes']:.0f} DOM nodes |",
        "",
        "Target for state to colour: under 300 ms (Prefect's UI polls every 1 s, Airflow's "
        "every 3 s). The page follows `GET /v1/runs/{id}/events`; the service reads a watched "
        "run every 100 ms, once for all its watchers.",
        "",
        "## Submissions with 100 SSE watchers open",
        "",
        f"16 SDK clients submit a 3-node workflow and read its status in a loop for "
        f"{args.seconds} s, with no watcher and with 100 event streams open on 10 running runs; "
        "two rounds, alternating.",
        "",
        "| watchers | streams open | submissions/s | submit p50 (ms) | submit p99 (ms) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['watchers']} | {row['opened']} | {row['per_s']:.1f} | {row['p50']:.0f} "
            f"| {row['p99']:.0f} |"
        )
    if rows:
        without = [r["per_s"] for r in rows if not r["watchers"]]
        with_ = [r["per_s"] for r in rows if r["watchers"]]
        lines += [
            "",
            f"Reading: {min(with_):.1f}-{max(with_):.1f} submissions/s with 100 watchers "
            f"against {min(without):.1f}-{max(without):.1f} without, in alternating rounds on "
            "the same busy machine; the watchers cost one store read per watched run every "
            "100 ms (10 runs here), not one per watcher.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--out", default="bench/results/ui.md")
    parser.add_argument("--skip-watchers", action="store_true")
    parser.add_argument("--watchers-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        service = Service(Path(tmp))
        try:
            if args.watchers_only:
                print(watcher_figures(service, args.seconds))
                return
            fig = browser_figures(service, args.loads)
            rows = [] if args.skip_watchers else watcher_figures(service, args.seconds)
        except BaseException:
            print(service.log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            service.stop()
    text = report(fig, rows, args)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
