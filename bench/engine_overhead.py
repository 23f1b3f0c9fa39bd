"""Engine overhead benchmark (issue: the core).

Measures, side by side in one process:
* a 1,000-node chain and a 1,000-wide fan-out of ``core.noop`` nodes run by the engine with the
  SQLite run store on, against a plain Python loop calling the same node functions
  (validate inputs, execute, dump outputs): the difference per node is the engine's overhead;
* wall time of ``autoglm --help`` and ``autoglm plugins`` with every plugin of the repo installed,
  beside a bare ``python -c pass``; ``autoglm plugins`` warm (every plugin already known to
  import cleanly), on its first load in a fresh home (every plugin imported in a child process
  first, ``autoglm.plugin_probe``) and with ``--check`` (always probes).

Usage: ``python bench/engine_overhead.py [--nodes 1000] [--repeat 3] [--out FILE.md]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autoglm.builtin_nodes import NoopNode, ValueIO
from autoglm.engine import Engine
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.testing import make_context
from autoglm.workflow import parse_workflow


def chain_yaml(n: int) -> str:
    lines = ["name: chain", "nodes:", "  - id: n0", "    type: core.noop", "    inputs: {value: 0}"]
    for i in range(1, n):
        lines += [f"  - id: n{i}", "    type: core.noop", f"    inputs: {{value: $n{i - 1}.value}}"]
    return "\n".join(lines) + "\n"


def fanout_yaml(n: int) -> str:
    lines = [
        "name: fanout",
        "nodes:",
        "  - id: root",
        "    type: core.const",
        "    config: {value: 1}",
    ]
    for i in range(n):
        lines += [f"  - id: n{i}", "    type: core.noop", "    inputs: {value: $root.value}"]
    return "\n".join(lines) + "\n"


def plain_loop(n: int, home: Path) -> float:
    """The same work without the engine: validate, execute, dump, for n nodes."""
    context = make_context(home)
    node = NoopNode()
    start = time.perf_counter()
    value = 0
    for _ in range(n):
        inputs = NoopNode.Inputs.model_validate({"value": value})
        out = node.execute(inputs, context)
        value = ValueIO.model_validate(out).model_dump(mode="json")["value"]
    return time.perf_counter() - start


def engine_run(text: str, host: Host, workers: int) -> tuple[float, float]:
    """Seconds to run the workflow with a fresh store; also the validation time."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        workflow = parse_workflow(text, host)
        t1 = time.perf_counter()
        engine = Engine(host, RunStore(Path(tmp) / "runs.sqlite"), workers=workers)
        result = engine.run(workflow)
        t2 = time.perf_counter()
        assert result.status == "succeeded", result.error
        return t2 - t1, t1 - t0


def cli_time(args: list[str], repeat: int, *, fresh_home: bool = False) -> tuple[float, float]:
    """Median wall and CPU time (user + system, children included: the probe's child too) of
    ``args``; CPU time barely moves when other jobs share the cores, wall time does. Each run in
    a new ``AUTOGLM_HOME`` when ``fresh_home`` (nothing remembered: the first load), else in one
    home warmed by an untimed run."""
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as warm_home:
        subprocess.run(args, capture_output=True, check=True, env=_home_env(warm_home))
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as fresh:
                env = _home_env(fresh if fresh_home else warm_home)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(args, capture_output=True, check=True, env=env)
                walls.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _home_env(home: str) -> dict[str, str]:
    return {**os.environ, "AUTOGLM_HOME": home}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default="bench/results/engine.md")
    args = parser.parse_args()
    n = args.nodes
    host = Host.load(PluginSelection(allow=()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, text, workers in (
            ("chain", chain_yaml(n), 1),
            ("fan-out", fanout_yaml(n), 4),
        ):
            engine_times, validate_times, loop_times = [], [], []
            for _ in range(args.repeat):
                loop_times.append(plain_loop(n, Path(tmp)))
                run_s, validate_s = engine_run(text, host, workers)
                engine_times.append(run_s)
                validate_times.append(validate_s)
            engine_s, loop_s = statistics.median(engine_times), statistics.median(loop_times)
            rows.append(
                (
                    f"{n:,}-node {label}",
                    loop_s,
                    engine_s,
                    (engine_s - loop_s) / n * 1000,
                    engine_s / loop_s,
                    statistics.median(validate_times),
                )
            )
    autoglm = str(Path(sys.executable).parent / "autoglm")
    startup = [
        ("`python -c pass` (baseline)", cli_time([sys.executable, "-c", "pass"], 5)),
        ("`autoglm --help`", cli_time([autoglm, "--help"], 5)),
        ("`autoglm plugins`", cli_time([autoglm, "plugins"], 5)),
        (
            "`autoglm plugins`, first load (each plugin probed in a child)",
            cli_time([autoglm, "plugins"], 5, fresh_home=True),
        ),
        ("`autoglm plugins --check`", cli_time([autoglm, "plugins", "--check"], 5)),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "## Engine overhead (core)",
        "",
        f"`python bench/engine_overhead.py --nodes {n} --repeat {args.repeat}`; median of "
        f"{args.repeat}; run store on (SQLite, WAL), cache on, no observers, logs at warning.",
        "Baseline: a plain Python loop doing the same per-node work (validate inputs, execute the",
        "node, dump outputs) in the same process.",
        "",
        "| workflow | plain loop (s) | engine (s) | overhead per node (ms) | ratio"
        " | validate (s) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {label} | {loop:.3f} | {eng:.3f} | {per:.3f} | {ratio:.0f}x | {val:.3f} |"
        for label, loop, eng, per, ratio, val in rows
    ]
    lines += [
        "",
        "Target: under 1 ms per node with the store on.",
        "",
        f"| command (every plugin of the repo installed; load average {load:.1f}) "
        "| wall time, median of 5 (s) | CPU time, median of 5 (s) |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {wall:.3f} | {cpu:.3f} |" for label, (wall, cpu) in startup]
    lines += ["", "Target: under 0.5 s for `autoglm --help` and `autoglm plugins`.", ""]
    text = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
