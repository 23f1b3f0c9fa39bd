"""Hostile-load benchmark of the REST service (issue 11): does the API stay responsive while
runs from a hostile submitter spin, allocate and hang?

Starts ``autoglm serve`` on loopback, then measures two phases of the same length side by side:

* **idle** (the baseline): ``/healthz`` probed every 50 ms, and a normal user submitting a small
  workflow and waiting for it, in a loop;
* **hostile**: the same, while a submit-only key has sent four hostile requests: a
  catastrophic regular expression (``text.task_type`` rule ``(a+)+$`` on a long run of ``a``
  then ``!``), an alias bomb (8 levels of 9 aliases inside a ``core.const`` value, 530 bytes that
  expand to 43 million items), a memory hog (``sandboxnodes.hog`` from the sandbox tests' private
  plugin folder, else ``gnn.synthetic`` at its largest) and an endless sleep (``core.sleep`` at
  its maximum); with the sandbox tests' private plugin, also a pure-Python CPU spin that ignores
cancellation (what the regex did to a thread before RE2).

It reports ``/healthz`` p50/p99/max in both phases (target: p99 under 100 ms while hostile),
the normal runs completed in each, what became of each hostile request (refused at submit,
failed with a message naming a limit, or still running), and how long cancelling the ones
still running took.

Usage: ``python bench/service_hostile.py [--seconds 15] [--out
bench/results/service_hostile.md]``; ``BENCH_TMP=DIR`` puts the service's home under DIR.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from service_load import free_port, percentile, start_service

from autoglm.client import Client, ServiceError
from autoglm.service.keys import KeyStore
from autoglm.service.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[1]
SANDBOX_PLUGINS = REPO / "core" / "tests" / "service" / "sandbox_plugins"
PROBE_INTERVAL_S = 0.05
PROBE_TIMEOUT_S = 10.0

SMALL = """
name: small
nodes:
  - id: a
    type: core.const
    config: {value: 1}
  - id: b
    type: core.noop
    inputs: {value: $a.value}
outputs:
  value: $b.value
"""

REGEX = """
name: hostile-regex
inputs:
  text: {type: str}
nodes:
  - id: t
    type: text.task_type
    config: {strategy: rules, rules: {evil: ["(a+)+$"]}}
    inputs: {text: $inputs.text}
outputs:
  task: $t.task
"""


def alias_bomb(levels: int = 8, width: int = 9) -> str:
    """A workflow whose constant is ``width ** levels`` items written with few aliases."""
    lines = ["name: bomb", "nodes:", "  - id: c", "    type: core.const", "    config:"]
    lines.append("      value:")
    lines.append(f"        l0: &l0 [{', '.join(['x'] * width)}]")
    for level in range(1, levels):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"        l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def hog_workflow(private: bool) -> tuple[str, list[str] | None]:
    if private:
        text = "name: hog\nnodes:\n  - id: h\n    type: sandboxnodes.hog\n    config: {mb: 8192}\n"
        return text, ["sandboxnodes"]
    text = (
        "name: hog\nnodes:\n  - id: g\n    type: gnn.synthetic\n"
        "    config: {nodes: 1000000, features: 100, avg_degree: 20}\n"
    )
    return text, ["gnn"]


SLEEP = """
name: endless
nodes:
  - id: s
    type: core.sleep
    config: {seconds: 3600}
"""


#: Pure-Python busy loop that never checks for cancellation: what the catastrophic regex did to
#: a thread before regexes ran in RE2 (only a kill stops it).
SPIN = "name: spin\nnodes:\n  - id: s\n    type: sandboxnodes.spin\n"


class Prober(threading.Thread):
    """Probes ``/healthz`` every 50 ms until stopped; a timeout counts as its full wait."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=PROBE_TIMEOUT_S) as http:
            while not self.stop.is_set():
                start = time.perf_counter()
                try:
                    ok = http.get(f"{self.url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append(time.perf_counter() - start)
                self.failures += not ok
                self.stop.wait(PROBE_INTERVAL_S)


def measure(url: str, token: str, seconds: float) -> dict[str, Any]:
    """``/healthz`` latencies and normal runs completed during ``seconds``."""
    prober = Prober(url)
    prober.start()
    completed, durations, errors = 0, [], []
    deadline = time.monotonic() + seconds
    with Client(url, token, timeout=30) as client:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                run = client.run("small", use_cache=False, timeout=max(5.0, seconds))
            except ServiceError as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            if run.status == "succeeded":
                completed += 1
                durations.append(time.perf_counter() - start)
            else:
                errors.append(f"run {run.id} {run.status}: {run.error}"[:200])
    prober.stop.set()
    prober.join()
    ms = [x * 1000 for x in prober.latencies]
    return {
        "probes": len(ms),
        "probe_failures": prober.failures,
        "p50": percentile(ms, 0.5),
        "p99": percentile(ms, 0.99),
        "max": max(ms) if ms else float("nan"),
        "completed": completed,
        "run_p50": percentile(durations, 0.5) * 1000,
        "errors": errors,
    }


def submit_hostile(client: Client, private_hog: bool) -> dict[str, dict[str, Any]]:
    """Send the hostile requests; what each got (a run id, or the refusal)."""
    hog_text, hog_plugins = hog_workflow(private_hog)
    requests = {
        "catastrophic regex": {
            "workflow_yaml": REGEX,
            "inputs": {"text": "a" * 100_000 + "!"},
            "plugins": ["text"],
        },
        "alias bomb": {"workflow_yaml": alias_bomb(), "plugins": []},
        "memory hog": {"workflow_yaml": hog_text, "plugins": hog_plugins},
        "endless sleep": {"workflow_yaml": SLEEP, "plugins": []},
    }
    if private_hog:
        requests["CPU spin ignoring cancel"] = {"workflow_yaml": SPIN, "plugins": ["sandboxnodes"]}
    outcome: dict[str, dict[str, Any]] = {}
    for name, request in requests.items():
        start = time.perf_counter()
        try:
            accepted = client.submit(**request)
            outcome[name] = {"run_id": accepted.id}
        except ServiceError as exc:
            outcome[name] = {"refused": f"{exc.status} {exc.kind}: {exc.message}"[:240]}
        outcome[name]["submit_ms"] = (time.perf_counter() - start) * 1000
        outcome[name]["bytes"] = len(request["workflow_yaml"]) + len(str(request.get("inputs", "")))
    return outcome


def settle(client: Client, outcome: dict[str, dict[str, Any]], timeout: float) -> None:
    """Wait until every accepted hostile run has started (or ended)."""
    deadline = time.monotonic() + timeout
    for entry in outcome.values():
        while "run_id" in entry and time.monotonic() < deadline:
            if client.get_run(entry["run_id"]).status != "queued":
                break
            time.sleep(0.1)


def service_config(tmp: Path) -> tuple[Path, bool]:
    """Settings for the run: room for the hostile runs and the normal ones, no quota in the
    way of the hostile key (the worst case), and a memory limit when the sandbox has one."""
    lines = [
        "max_concurrent_runs: 6",
        "max_running_runs_per_key: 6",
        "max_queued_runs_per_key: null",
    ]
    sandboxed = "limits" in ServiceSettings.model_fields
    if sandboxed:
        lines.append("limits: {memory_mb: 1024}")
    path = tmp / "service.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, sandboxed


def report(
    args: argparse.Namespace,
    idle: dict[str, Any],
    hostile: dict[str, Any],
    outcome: dict[str, dict[str, Any]],
    sandboxed: bool,
    private_hog: bool,
) -> str:
    target = hostile["p99"] < 100.0 and hostile["probe_failures"] == 0
    normal_ok = hostile["completed"] > 0 and not hostile["errors"]
    ratio = hostile["completed"] / max(1, idle["completed"])
    lines = [
        "## Service under hostile load",
        "",
        f"`python bench/service_hostile.py --seconds {args.seconds:g}`; service and load on one "
        f"machine ({os.cpu_count()} CPUs, shared with other jobs: load average "
        f"{os.getloadavg()[0]:.1f} at the end). "
        + (
            "Each run executes in a supervised run process of its own (the service's sandbox), "
            "with `limits.memory_mb: 1024`. "
            if sandboxed
            else "Runs execute in threads of the service process (no run sandbox yet). "
        )
        + "Two phases of equal length, side by side: *idle* (the baseline) and *hostile*, after a "
        "submit-only key sent the requests below; in both, `/healthz` is probed every "
        "50 ms and a normal user loops on submitting a 2-node workflow and waiting for it.",
        "",
        "| phase | /healthz probes | p50 (ms) | p99 (ms) | max (ms) | failed probes "
        "| normal runs completed | normal run p50 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("idle", idle), ("hostile", hostile)):
        lines.append(
            f"| {name} | {r['probes']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
            f"{r['probe_failures']} | {r['completed']} | {r['run_p50']:.0f} |"
        )
    lines += [
        "",
        f"**/healthz p99 under hostile load: {hostile['p99']:.1f} ms "
        f"({'meets' if target else 'MISSES'} the 100 ms target; "
        f"{hostile['p99'] / max(1e-9, idle['p99']):.1f}x the idle p99).** Normal runs completed "
        f"while hostile: {hostile['completed']} ({ratio:.2f}x the idle phase)"
        + ("" if normal_ok else f"; errors: {hostile['errors'][:3]}")
        + ".",
        "",
        "| hostile request | request bytes | submit (ms) | outcome | during the hostile phase "
        "| end | cancel took (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in outcome.items():
        if "refused" in entry:
            got = f"refused: {entry['refused']}"
            during, end, cancel = "-", "-", "-"
        else:
            got = "accepted (202)"
            during = entry.get("status_during", "?")
            end = entry.get("final", "?") + (f": {entry['error']}" if entry.get("error") else "")
            cancel = f"{entry['cancel_s']:.2f}" if "cancel_s" in entry else "-"
        got = got.replace("|", "/").replace("\n", " ")
        end = end.replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {name} | {entry['bytes']} | {entry['submit_ms']:.0f} | {got} | {during} "
            f"| {end} | {cancel} |"
        )
    hog = (
        "`sandboxnodes.hog` asking for 8 GiB (a private plugin of the sandbox tests, loaded by "
        "the operator with `--plugins-dir`)"
        if private_hog
        else "`gnn.synthetic` at its largest allowed size"
    )
    lines += [
        "",
        f"The memory hog is {hog}; the CPU spin (when present) comes from the same plugin. "
        "The regex input is 100,000 `a` then `!` (the issue's stall "
        "was 19.4 s on 27 characters with Python's backtracking `re`). Hostile runs still "
        "active at the end of the phase were cancelled by their own key; the cancel time is "
        "from the cancel request to the run's recorded end.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--out", default="bench/results/service_hostile.md")
    args = parser.parse_args()
    private_hog = (SANDBOX_PLUGINS / "sandboxnodes.py").is_file()

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp_name:
        tmp = Path(tmp_name)
        home, workflows = tmp / "home", tmp / "workflows"
        workflows.mkdir()
        (workflows / "small.yaml").write_text(SMALL)
        keys = KeyStore.in_home(home)
        _, user = keys.create("normal user", ["read", "submit"])
        _, attacker = keys.create("attacker", ["submit"])
        _, reader = keys.create("watcher", ["read", "submit"])
        keys.close()
        config, sandboxed = service_config(tmp)
        extra = ["--config", str(config)]
        if private_hog:
            extra += ["--plugins-dir", str(SANDBOX_PLUGINS)]
        port = free_port()
        proc = start_service(home, workflows, port, *extra)
        url = f"http://127.0.0.1:{port}"
        try:
            with Client(url, user, timeout=60) as warm:  # start the run processes first
                for _ in range(3):
                    warm.run("small", use_cache=False, timeout=60)
            idle = measure(url, user, args.seconds)
            print(f"idle: /healthz p99 {idle['p99']:.1f} ms, {idle['completed']} runs", flush=True)
            with Client(url, attacker, timeout=120, retries=0) as client:
                outcome = submit_hostile(client, private_hog)
            with Client(url, reader, timeout=30) as watcher:
                settle(watcher, outcome, timeout=30)
            hostile = measure(url, user, args.seconds)
            print(
                f"hostile: /healthz p99 {hostile['p99']:.1f} ms, {hostile['completed']} runs",
                flush=True,
            )
            with Client(url, reader, timeout=60) as watcher:
                for entry in outcome.values():
                    if "run_id" in entry:
                        entry["status_during"] = watcher.get_run(entry["run_id"]).status
            with Client(url, attacker, timeout=60) as client:
                cancel(client, outcome)  # a key may cancel its own runs
            with Client(url, reader, timeout=60) as watcher:
                collect(watcher, outcome)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except Exception:
                proc.kill()
    text = report(args, idle, hostile, outcome, sandboxed, private_hog)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    if hostile["p99"] >= 100.0 or hostile["completed"] == 0:
        sys.exit(1)


def cancel(client: Client, outcome: dict[str, dict[str, Any]]) -> None:
    """Cancel the hostile runs still active, noting when."""
    for entry in outcome.values():
        if entry.get("status_during") in {"queued", "running"}:
            try:
                client.cancel(entry["run_id"])
                entry["cancel_sent"] = time.time()
            except ServiceError:
                pass  # it ended meanwhile


def collect(client: Client, outcome: dict[str, dict[str, Any]]) -> None:
    """The end of each hostile run, and how long its cancel took to show."""
    for entry in outcome.values():
        if "run_id" not in entry:
            continue
        run = client.wait(entry["run_id"], timeout=90, poll_interval=0.02, max_poll_interval=0.1)
        if "cancel_sent" in entry and run.finished_at is not None:
            # the service's own end time: the runs are waited for one after another
            entry["cancel_s"] = run.finished_at - entry.pop("cancel_sent")
        entry["final"] = run.status
        entry["error"] = (run.error or "")[:200]


if __name__ == "__main__":
    main()
