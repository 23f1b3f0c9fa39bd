"""Version isolation overhead (issue 18): what a node pays to run in another Python environment.

Builds, in a temporary home, two environments with ``autoglm env create`` (layered over this
one): ``np1`` (``numpy<2``, this host's numpy 1.26, so only the crossing is measured) and
``np2`` (``numpy>=2``, installed from the index), and a tiny plugin ``npver`` (a node that
imports numpy and outputs its version) installed in the host and in both. Then it runs chains
of nodes with the engine and the SQLite run store, and reads each node's duration from the
store:

* ``thread``: in the engine's thread pool (no crossing; numpy already imported);
* ``process``: process isolation in the same environment (a spawned worker per node);
* ``env np1`` / ``env np2``: ``environment: NAME`` (a ``python -m autoglm.env_worker`` per node);
* the same for ``core.noop`` (no numpy import), to separate the crossing from the imports.

*Cold* is the first node of the first run in a fresh process (first start of that interpreter
here, the environment not yet described); *warm* is the median of the other nodes. The
validation-time check (``--describe``, once per environment, then cached by mtimes) is timed
on its own.

Usage: ``python bench/environments.py [--nodes 8] [--runs 2] [--out FILE.md]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from wheel_helpers import build_plugin_wheel  # noqa: E402

PLUGIN = '''
from autoglm import NodeModel, NodeType, hookimpl


class Cfg(NodeModel):
    pass


class In(NodeModel):
    previous: str = ""


class Out(NodeModel):
    numpy: str


class Version(NodeType):
    """Imports numpy and outputs its version."""

    name = "npver.version"
    Config = Cfg
    Inputs = In
    Outputs = Out

    def execute(self, inputs, context):
        import numpy

        return Out(numpy=numpy.__version__)


@hookimpl
def register_nodes(register):
    register(Version)
'''


def chain(node_type: str, n: int, setting: str) -> str:
    lines = ["name: chain", "nodes:"]
    for i in range(n):
        lines += [f"  - id: n{i}", f"    type: {node_type}", f"    {setting}"]
        if i and node_type == "npver.version":
            lines.append(f"    inputs: {{previous: $n{i - 1}.numpy}}")
        elif node_type == "core.noop":
            lines.append(f"    inputs: {{value: {i}}}")
    return "\n".join(lines) + "\n"


def pip_install(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "environments.md"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="autoglm-envbench-"))
    home = tmp / "home"
    os.environ["AUTOGLM_HOME"] = str(home)
    os.environ["AUTOGLM_ENVIRONMENTS"] = str(home / "environments.json")
    wheel = build_plugin_wheel(tmp / "wheels", "autoglm-npver", "1.0", "npver", PLUGIN, "npver")
    site = tmp / "site"
    pip_install("--no-index", "--no-deps", "--target", str(site), str(wheel))
    sys.path.insert(0, str(site))

    from autoglm import environments
    from autoglm.engine import Engine
    from autoglm.env_create import create
    from autoglm.plugins import Host, PluginSelection
    from autoglm.store import RunStore
    from autoglm.workflow import parse_workflow

    build: dict[str, float] = {}
    for name, constraint in (("np1", "numpy<2"), ("np2", "numpy>=2,<3")):
        start = time.perf_counter()
        create(name, home / "envs" / name, constraints=[constraint])
        build[name] = time.perf_counter() - start
        python = environments.python_of(home / "envs" / name)
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        subprocess.run([*pip, "--no-index", "--no-deps", str(wheel)], check=True)

    os.environ["PYTHONPATH"] = str(site)  # process-isolated workers import it too
    host = Host.load(PluginSelection(allow=("npver",)))
    store = RunStore(home / "runs.sqlite")
    engine = Engine(host, store, workers=1, use_cache=False)

    describe: dict[str, tuple[float, float]] = {}
    for name in ("np1", "np2"):
        environments._describe_cache.clear()
        python = environments.interpreter_of(name)
        start = time.perf_counter()
        environments.describe(python)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        environments.describe(python)
        describe[name] = (cold, time.perf_counter() - start)

    modes = [
        ("npver, thread", "npver.version", "isolation: thread"),
        ("npver, process isolation", "npver.version", "isolation: process"),
        ("npver, environment np1 (numpy 1.26)", "npver.version", "environment: np1"),
        ("npver, environment np2 (numpy 2)", "npver.version", "environment: np2"),
        ("core.noop, process isolation", "core.noop", "isolation: process"),
        ("core.noop, environment np1", "core.noop", "environment: np1"),
    ]
    rows = []
    versions: dict[str, str] = {}
    for label, node_type, setting in modes:
        workflow = parse_workflow(chain(node_type, args.nodes, setting), host)
        durations: list[list[float]] = []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for _ in range(args.runs):
            result = engine.run(workflow)
            assert result.status == "succeeded", result.error
            nodes = store.node_states(result.run_id)
            durations.append([nodes[f"n{i}"].duration_s or 0.0 for i in range(args.nodes)])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        cpu = spent / (args.nodes * args.runs)  # the workers' CPU: load does not inflate it
        cold = durations[0][0]
        warm = statistics.median([d for run in durations for d in run[1:]] + durations[1][:1])
        # (the first node of a later run is warm too: the interpreter's files are cached)
        rows.append((label, cold, warm, cpu))
        print(f"{label}: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms", flush=True)
        store_nodes = store.node_states(result.run_id)
        if node_type == "npver.version":
            versions[label] = store_nodes["n0"].outputs["numpy"]  # type: ignore[index]

    base = {label: warm for label, _, warm, _ in rows}
    cpus = {label: cpu for label, _, _, cpu in rows}
    lines = [
        "# Crossing Python environments (issue 18)",
        "",
        f"`python bench/environments.py --nodes {args.nodes} --runs {args.runs}`; "
        f"{platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared with other jobs: figures are indicative).",
        "",
        "Per-node wall time as the engine records it (init + execute + the crossing), a chain "
        f"of {args.nodes} nodes, {args.runs} runs. Cold: the first node of the first run "
        "(first start of that interpreter in this process). Warm: median of the others. "
        "Worker CPU: user + system time of the node's worker processes per node.",
        "",
        "| node, where it runs | numpy seen | cold (ms) | warm (ms) | worker CPU (ms) |",
        "|---|---|---:|---:|---:|",
    ]
    for label, cold, warm, cpu in rows:
        seen = versions.get(label, "-")
        lines.append(
            f"| {label} | {seen} | {cold * 1000:.0f} | {warm * 1000:.0f} | {cpu * 1000:.0f} |"
        )
    proc = base["npver, process isolation"]
    env1 = base["npver, environment np1 (numpy 1.26)"]
    noop_p, noop_e = base["core.noop, process isolation"], base["core.noop, environment np1"]
    lines += [
        "",
        f"Crossing into another environment costs {env1 * 1000:.0f} ms per node warm against "
        f"{proc * 1000:.0f} ms for process isolation in the same environment "
        f"({(env1 - proc) * 1000:+.0f} ms); for a node that imports nothing "
        f"{noop_e * 1000:.0f} ms against {noop_p * 1000:.0f} ms. Worker CPU per node (user + "
        "system seconds of the worker processes, which the machine's load does not inflate): "
        f"{cpus['npver, environment np1 (numpy 1.26)'] * 1000:.0f} ms in another environment, "
        f"{cpus['npver, process isolation'] * 1000:.0f} ms process-isolated. Both start a fresh "
        "interpreter per attempt (a timeout or cancel kills it); an environment worker is a "
        "plain `subprocess` that imports autoglm and only the node's plugin, a process-isolated "
        "worker is a `spawn` child that unpickles the context and rebuilds the run's host.",
        "",
        "Validation-time check of an environment (`python -m autoglm.env_worker --describe`, "
        "once per environment, then cached by the interpreter's and site folders' mtimes):",
        "",
        "| environment | built in (s) | describe cold (ms) | cached (ms) |",
        "|---|---:|---:|---:|",
    ]
    for name, (cold, cached) in describe.items():
        lines.append(f"| {name} | {build[name]:.1f} | {cold * 1000:.0f} | {cached * 1000:.2f} |")
    lines += [
        "",
        "`np2` was built with `autoglm env create np2 --constraint 'numpy>=2,<3'` (layered: "
        "its own numpy 2 shadows the host's 1.26; the build time includes pip's download or "
        "cache). The real example of docs/environments.md (torch 2.2.1 + DGL 2.1 here, "
        "transformers 5 in its own environment) is described there.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
