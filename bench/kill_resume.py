"""Kill benchmark (issue 10): SIGKILL runs at random points, resume them, and count what ran
twice and what outlived its engine.

Each *chain* is one run of a small workflow whose four nodes all run with process isolation
(a worker process per node attempt) and leave side effects in a file: a ``start`` and a
``done`` line per execution, naming the run, the node, the engine (the worker's parent pid)
and the worker; one node also leaves a helper process behind (a ``sleep``), as a node that
starts a pool or a server would. ``autoglm run`` starts the run; at a random point (during
its start-up, or 0-0.6 s after the k-th node it starts, k drawn among the nodes left) the
engine gets SIGKILL, then ``autoglm resume`` continues it, and that one may be killed in turn,
until the run's last resume finishes. Every engine process gets a tag in its environment,
which its workers and their children inherit, so the processes an engine left behind can be
found in ``/proc`` after its death.

Per kill it records the nodes the store held as finished and as in flight, then waits up to
5 s for the dead engine's processes to end. At the end of each run it reads the side-effect
file:

* **finished nodes re-executed**: a node recorded as finished before a kill that started again
  after it (target 0);
* **side effects doubled**: a node whose effect happened more than once, beyond the node that
  was in flight at a kill and had completed its effect before the engine could record it
  (target 0);
* **effects completed by orphans**: ``done`` lines written after their engine was killed;
* **processes alive 5 s after their engine died** (target 0).

*Racing double-resumes*: a run is killed once, then two ``autoglm resume`` start at the same
moment; exactly one may proceed, the other must be refused, and the same counts apply.

Baseline, side by side: the same protocol against the code of an earlier commit
(``--baseline-rev``, by default the last one before run ownership and worker lifelines), its
``core/src`` taken with ``git archive`` and put first on ``PYTHONPATH``, with fewer rounds.
Also the wall time of one uninterrupted run, against which the cost of a kill is read.

Linux only (reads ``/proc``). Usage: ``python bench/kill_resume.py [--kills 100] [--races 20]
[--baseline-kills 20] [--baseline-races 5] [--baseline-rev REV] [--seed 0]
[--out bench/results/kill_resume.md]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autoglm.ownership import pid_alive
from autoglm.store import RunStore

REPO = Path(__file__).resolve().parents[1]
AUTOGLM = Path(sys.executable).parent / "autoglm"
DEFAULT_BASELINE = "b388e90"  # the last commit before run ownership and worker lifelines
ORPHAN_WAIT_S = 5.0
NODES = 4  # in WORKFLOW

PLUGIN = '''
"""Nodes with side effects recorded in a file, for the kill benchmark."""
import json, os, subprocess, time
from autoglm import NodeModel, NodeType, hookimpl


class EffectConfig(NodeModel):
    effects: str
    sleep: float = 0.2
    leave_helper: bool = False


class Values(NodeModel):
    value: int = 0
    other: int = 0


class Value(NodeModel):
    value: int


def _line(path, entry):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\\n")


class Effect(NodeType):
    """Records its start, sleeps, records its effect as done."""

    name = "killbench.effect"
    Config = EffectConfig
    Inputs = Values
    Outputs = Value

    def execute(self, inputs, context):
        c = self.config
        me = {"run": context.run_id, "node": context.node_id, "engine": os.getppid(),
              "worker": os.getpid()}
        _line(c.effects, {**me, "phase": "start", "t": time.time()})
        if c.leave_helper:  # a process the node starts and does not stop (a pool, a server)
            subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(c.sleep)
        _line(c.effects, {**me, "phase": "done", "t": time.time()})
        return Value(value=inputs.value + inputs.other + 1)


@hookimpl
def register_nodes(register):
    register(Effect)
'''

WORKFLOW = """
name: killbench
nodes:
  - id: a
    type: killbench.effect
    isolation: process
    config: {{effects: "{effects}", sleep: 0.3}}
  - id: b
    type: killbench.effect
    isolation: process
    config: {{effects: "{effects}", sleep: 0.5, leave_helper: true}}
    inputs: {{value: $a.value}}
  - id: c
    type: killbench.effect
    isolation: process
    config: {{effects: "{effects}", sleep: 0.2}}
    inputs: {{value: $a.value}}
  - id: d
    type: killbench.effect
    isolation: process
    config: {{effects: "{effects}", sleep: 0.3}}
    inputs: {{value: $b.value, other: $c.value}}
outputs:
  total: $d.value
"""


@dataclass
class Kill:
    """One SIGKILL: when, which engine, what the store held as finished and in flight."""

    engine: int
    at: float
    finished: set[str]
    in_flight: set[str]
    left_alive: int  # the engine's processes alive ORPHAN_WAIT_S after its death


@dataclass
class Tally:
    kills: int = 0
    runs: int = 0
    runs_succeeded: int = 0
    reexecuted: int = 0
    doubled: int = 0
    orphan_effects: int = 0
    left_alive: int = 0
    races: int = 0
    races_one_refused: int = 0
    races_late: int = 0  # the second resume came after the first had finished: it ran nothing
    races_nothing_left: int = 0  # killed after its last node: neither racer had a node to run
    races_both_executed: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``KILLBENCH_ENGINE=tag``."""
    needle = f"KILLBENCH_ENGINE={tag}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes() and pid_alive(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class Bench:
    """The protocol, against one version of the code (``pythonpath`` first on the path)."""

    def __init__(self, root: Path, plugins: Path, pythonpath: str | None, rng: random.Random):
        self.root = root
        self.plugins = plugins
        self.pythonpath = pythonpath
        self.rng = rng
        self.engines = 0
        self.leftovers: list[str] = []
        self.logs: dict[int, Path] = {}  # engine pid -> its output

    def start(self, home: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
        """An engine process, its output to a file: an orphan holding a pipe would stall us."""
        self.engines += 1
        tag = f"{home.name}-{self.engines}"
        env = {**os.environ, "AUTOGLM_HOME": str(home), "KILLBENCH_ENGINE": tag}
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        log_path = home / f"engine-{self.engines}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(AUTOGLM), *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.logs[process.pid] = log_path
        return process, tag

    def new_run(self, name: str) -> tuple[Path, Path, Path]:
        home = self.root / name
        home.mkdir()
        effects = home / "effects.jsonl"
        workflow = home / "wf.yaml"
        workflow.write_text(WORKFLOW.format(effects=effects))
        return home, effects, workflow

    def run_args(self, workflow: Path) -> list[str]:
        return [
            "run",
            str(workflow),
            "--plugins-dir",
            str(self.plugins),
            "--plugins",
            "killbench",
            "--no-progress",
        ]

    def uninterrupted(self) -> float:
        home, _, workflow = self.new_run("calibrate")
        started = time.perf_counter()
        process, _ = self.start(home, *self.run_args(workflow))
        if process.wait(300) != 0:
            raise RuntimeError(f"calibration run failed: see {home}")
        return time.perf_counter() - started

    def wait_for_point(
        self, process: subprocess.Popen[bytes], effects: Path, home: Path, race: bool = False
    ) -> None:
        """Wait for a random point of this engine's work: during its start-up, or a random time
        (0-0.6 s) after the k-th node it starts, k drawn among the nodes not yet finished. For
        a race, never during start-up and never after the last node (the racers must find
        work left)."""
        remaining = NODES - len(finished_nodes(home))
        last = max(1, remaining - 1) if race else max(1, remaining)
        point = self.rng.randrange(1 if race else 0, last + 1)
        if point == 0:
            time.sleep(self.rng.uniform(0.2, 1.5))
            return
        while process.poll() is None:
            started = [
                e
                for e in read_effects(effects)
                if e["phase"] == "start" and e["engine"] == process.pid
            ]
            if len(started) >= point:
                break
            time.sleep(0.02)
        time.sleep(self.rng.uniform(0.0, 0.6))

    def kill(self, process: subprocess.Popen[bytes], tag: str, home: Path) -> Kill | None:
        """SIGKILL the engine now; None if it had already ended or had not stored the run."""
        if process.poll() is not None:
            return None
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        at = time.time()  # its death seen: what a worker does after this, it does orphaned
        store = RunStore(home / "runs.sqlite") if (home / "runs.sqlite").exists() else None
        runs = store.list_runs() if store else []
        finished, in_flight = set(), set()
        if runs:
            for node_id, node in store.node_states(runs[0].id).items():
                if node.status in {"succeeded", "cached", "skipped"}:
                    finished.add(node_id)
                elif node.status == "running":
                    in_flight.add(node_id)
        deadline = at + ORPHAN_WAIT_S
        while tagged(tag) and time.time() < deadline:
            time.sleep(0.1)
        left = tagged(tag)
        for pid in left:  # clean up, so leftovers do not load the next rounds
            self.leftovers.append(describe(pid))
            os.kill(pid, signal.SIGKILL)
        if store:
            store.close()
        if not runs:
            return None
        return Kill(process.pid, at, finished, in_flight, len(left))

    def chain(self, index: int, kills_wanted: int, tally: Tally) -> None:
        """One run killed ``kills_wanted`` times at random points, then resumed to the end."""
        home, effects, workflow = self.new_run(f"chain{index:03d}")
        kills: list[Kill] = []
        args = self.run_args(workflow)
        while True:
            process, tag = self.start(home, *args)
            if len(kills) >= kills_wanted:
                process.wait(300)
                break
            self.wait_for_point(process, effects, home)
            kill = self.kill(process, tag, home)
            if kill is None and process.returncode == 0:
                break  # the run ended before the kill: no more kills in this chain
            if kill is not None:
                kills.append(kill)
            if (home / "runs.sqlite").exists() and RunStore(home / "runs.sqlite").list_runs():
                run_id = RunStore(home / "runs.sqlite").list_runs()[0].id
                args = ["resume", run_id, "--no-progress"]
        self.account(home, effects, kills, tally)

    def race(self, index: int, tally: Tally) -> None:
        """A run killed once, then two resumes started at the same moment."""
        home, effects, workflow = self.new_run(f"race{index:03d}")
        kills: list[Kill] = []
        while not kills:
            process, tag = self.start(home, *self.run_args(workflow))
            self.wait_for_point(process, effects, home, race=True)
            kill = self.kill(process, tag, home)
            if kill is None and process.returncode == 0:  # ended first: start a fresh run
                home, effects, workflow = self.new_run(f"race{index:03d}-{self.engines}")
                continue
            if kill is not None:
                kills.append(kill)
        run_id = RunStore(home / "runs.sqlite").list_runs()[0].id
        racers = [self.start(home, "resume", run_id, "--no-progress")[0] for _ in range(2)]
        for racer in racers:
            racer.wait(300)
        executed_by = {e["engine"] for e in read_effects(effects) if e["t"] > kills[0].at}
        outcomes = sorted(self.outcome(r, executed_by) for r in racers)
        tally.races += 1
        tally.races_one_refused += outcomes == ["ran", "refused"]
        tally.races_late += outcomes == ["nothing left", "ran"]
        tally.races_nothing_left += outcomes in (
            ["nothing left", "nothing left"],
            ["nothing left", "refused"],
        )
        tally.races_both_executed += outcomes == ["ran", "ran"]
        expected = (["ran", "refused"], ["nothing left", "ran"], ["nothing left", "nothing left"])
        if outcomes not in (*expected, ["nothing left", "refused"]):
            tally.notes.append(f"race {index}: {outcomes}")
        self.account(home, effects, kills, tally)

    def outcome(self, racer: subprocess.Popen[bytes], executed_by: set[int]) -> str:
        """What one of two racing resumes did: ran nodes, was refused, or found the run
        already finished by the other (it then runs nothing)."""
        said = self.logs[racer.pid].read_text(errors="replace")
        if racer.pid in executed_by:
            return "ran"
        if racer.returncode == 1 and "being executed by another process" in " ".join(said.split()):
            return "refused"
        if racer.returncode == 0:
            return "nothing left"
        return f"exit {racer.returncode}"

    def account(self, home: Path, effects: Path, kills: list[Kill], tally: Tally) -> None:
        store = RunStore(home / "runs.sqlite")
        runs = store.list_runs()
        tally.runs += 1
        tally.runs_succeeded += bool(runs) and runs[0].status == "succeeded"
        store.close()
        lines = read_effects(effects)
        tally.kills += len(kills)
        tally.left_alive += sum(k.left_alive for k in kills)
        for kill in kills:
            again = {e["node"] for e in lines if e["phase"] == "start" and e["t"] > kill.at}
            tally.reexecuted += len(again & kill.finished)
            tally.orphan_effects += sum(
                1
                for e in lines
                if e["phase"] == "done" and e["engine"] == kill.engine and e["t"] > kill.at
            )
        done = Counter(e["node"] for e in lines if e["phase"] == "done")
        for node, times in done.items():
            # an effect completed just before a kill that cut its node off is done again
            excused = sum(
                1
                for kill in kills
                if node in kill.in_flight
                and any(
                    e["phase"] == "done"
                    and e["node"] == node
                    and e["engine"] == kill.engine
                    and e["t"] <= kill.at
                    for e in lines
                )
            )
            tally.doubled += max(0, times - 1 - excused) > 0


def describe(pid: int) -> str:
    """A process as ``ps`` would show it: pid, parent, state and command line."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} ppid {stat[1]} state {stat[0]}: {command[:160]}"


def finished_nodes(home: Path) -> set[str]:
    """Nodes the run store of ``home`` holds as finished (none if there is no run yet)."""
    if not (home / "runs.sqlite").exists():
        return set()
    store = RunStore(home / "runs.sqlite")
    try:
        runs = store.list_runs()
        nodes = store.node_states(runs[0].id) if runs else {}
    finally:
        store.close()
    return {n for n, rec in nodes.items() if rec.status in {"succeeded", "cached", "skipped"}}


def read_effects(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def protocol(bench: Bench, kills: int, races: int) -> Tally:
    tally = Tally()
    started = time.perf_counter()
    index = 0
    while tally.kills < kills:
        index += 1
        bench.chain(index, min(4, kills - tally.kills), tally)
    for index in range(races):
        bench.race(index, tally)
    tally.seconds = time.perf_counter() - started
    tally.notes += bench.leftovers
    return tally


def baseline_source(rev: str, into: Path) -> str:
    archive = subprocess.run(
        ["git", "archive", rev, "core/src"], cwd=REPO, capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return str(into / "core" / "src")


def leftovers(tally: Tally) -> str:
    """What was left alive, by command: ``2x sleep 30``; "none" when nothing was."""
    commands = Counter(
        note.split(": ", 1)[1].strip() for note in tally.notes if not note.startswith("race ")
    )
    return ", ".join(f"{n}x `{c}`" for c, n in commands.most_common()) or "none"


def races_odd(tally: Tally) -> str:
    odd = [note.split(": ", 1)[1] for note in tally.notes if note.startswith("race ")]
    return "; ".join(odd) or "none"


def row(name: str, now: float | int, before: float | int, target: str) -> str:
    return f"| {name} | {now} | {before} | {target} |"


def report(args: argparse.Namespace, now: Tally, before: Tally, calm: float) -> str:
    load = os.getloadavg()[1]

    def per(t: Tally, value: int) -> str:
        return f"{value} ({value / max(1, t.kills):.2f} per kill)"

    lines = [
        "## Kill and resume (run ownership, workers die with their engine)",
        "",
        f"`python bench/kill_resume.py --kills {args.kills} --races {args.races}"
        f" --baseline-kills {args.baseline_kills} --baseline-races {args.baseline_races}"
        f" --seed {args.seed}`; 2 CPUs shared with other jobs (load average {load:.1f} at the"
        " end). A 4-node workflow (a, then b and c"
        " in parallel, then d), every node process-isolated, sleeping 0.2-0.5 s and writing its"
        " side effects to a file; b leaves a helper process behind. Engines are `autoglm run` /"
        " `autoglm resume` processes killed with SIGKILL at a random point (during start-up,"
        " or 0-0.6 s after the k-th node the engine starts, k drawn among the nodes left),"
        " up to 4 kills per run before its last resume."
        f" Baseline: the same protocol, fewer rounds, on commit `{args.baseline_rev}` (before"
        " run ownership and worker lifelines).",
        "",
        f"| | now | baseline (`{args.baseline_rev}`) | target |",
        "|---|---|---|---|",
        row(
            "SIGKILLs at random points, each resumed (the races' first kills included)",
            now.kills,
            before.kills,
            "",
        ),
        row(
            "runs / ended `succeeded`",
            f"{now.runs} / {now.runs_succeeded}",
            f"{before.runs} / {before.runs_succeeded}",
            "all",
        ),
        row(
            "finished nodes re-executed",
            per(now, now.reexecuted),
            per(before, before.reexecuted),
            "0",
        ),
        row(
            "nodes with a doubled side effect (the cut-off node excepted)",
            now.doubled,
            before.doubled,
            "0",
        ),
        row(
            "side effects completed by orphans after their engine died",
            per(now, now.orphan_effects),
            per(before, before.orphan_effects),
            "0",
        ),
        row(
            f"processes alive {ORPHAN_WAIT_S:.0f} s after their engine died",
            per(now, now.left_alive),
            per(before, before.left_alive),
            "0",
        ),
        row("racing double-resumes", now.races, before.races, ""),
        row(
            "... one proceeded, the other refused",
            now.races_one_refused,
            before.races_one_refused,
            "",
        ),
        row(
            "... one proceeded, the other started after it ended and ran nothing",
            now.races_late,
            before.races_late,
            "",
        ),
        row(
            "... killed after its last node: no node left to run for either",
            now.races_nothing_left,
            before.races_nothing_left,
            "",
        ),
        row("... both executed nodes", now.races_both_executed, before.races_both_executed, "0"),
        row("wall time (s)", f"{now.seconds:.0f}", f"{before.seconds:.0f}", ""),
        row(
            "wall time per kill (s)",
            f"{now.seconds / max(1, now.kills + now.races):.1f}",
            f"{before.seconds / max(1, before.kills + before.races):.1f}",
            "",
        ),
        "",
        f"Left alive 5 s after their engine died: now {leftovers(now)}; baseline"
        f" {leftovers(before)}. Race outcomes other than those in the table: now"
        f" {races_odd(now)}; baseline {races_odd(before)}.",
        "",
        f"An uninterrupted run of the same workflow (`autoglm run`, process start included):"
        f" {calm:.1f} s; a kill costs about one engine start plus the cut-off node again.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--races", type=int, default=20)
    parser.add_argument("--baseline-kills", type=int, default=8)
    parser.add_argument("--baseline-races", type=int, default=4)
    parser.add_argument("--baseline-rev", default=DEFAULT_BASELINE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "kill_resume.md")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        raise SystemExit("the kill benchmark reads /proc: Linux only")
    with tempfile.TemporaryDirectory(prefix="kill-resume-") as tmp:
        root = Path(tmp)
        plugins = root / "plugins"
        plugins.mkdir()
        (plugins / "killbench.py").write_text(textwrap.dedent(PLUGIN))
        old_src = baseline_source(args.baseline_rev, root / "baseline")
        (root / "now").mkdir()
        (root / "before").mkdir()
        now_bench = Bench(root / "now", plugins, None, random.Random(args.seed))
        before_bench = Bench(root / "before", plugins, old_src, random.Random(args.seed))
        calm = now_bench.uninterrupted()
        before_calm = before_bench.uninterrupted()
        print(f"uninterrupted run: {calm:.1f} s now, {before_calm:.1f} s before", flush=True)
        before = protocol(before_bench, args.baseline_kills, args.baseline_races)
        print(f"baseline: {before}", flush=True)
        now = protocol(now_bench, args.kills, args.races)
        print(f"now: {now}", flush=True)
    text = report(args, now, before, calm)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
