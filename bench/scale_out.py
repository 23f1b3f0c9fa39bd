"""Scale-out benchmark (issue 13), side by side in one script.

* Per-node overhead of the ``dask`` executor against ``local`` on a 1,000-node fan-out of
  ``core.noop`` (the engine, its store and hooks are the same; only where attempts run
  differs). The LocalCluster's start is timed apart from the run.
* DDP with 2 gloo ranks on a 10^5-node synthetic graph (``gnn.synthetic``'s generator):
  training samples/s with gradient compression none/fp16/bf16 and with 4-step accumulation,
  against one process; bytes sent per rank and test accuracy beside each.
* A 64-trial Cora search (``tuner.search`` over ``gnn.train``) with its trials on a 2-worker
  LocalCluster against the local pool: the same leaderboard for the same seed, and the
  wall-clock ratio.

Usage: ``python bench/scale_out.py [--nodes 1000] [--graph-nodes 100000] [--steps 30]
[--cora-trials 64] [--skip overhead ddp cora] [--out bench/results/scale_out.md]``.
Torch threads: the cores shared out among the ranks; the single process gets as many as all
ranks together, so the comparison is at equal cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from autoglm.engine import Engine
from autoglm.executors import ExecutorChoice
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow


def fanout_yaml(n: int) -> str:
    lines = ["name: fanout", "nodes:", "  - id: root", "    type: core.const"]
    lines += ["    config: {value: 1}"]
    for i in range(n):
        lines += [f"  - id: n{i}", "    type: core.noop", "    inputs: {value: $root.value}"]
    return "\n".join(lines) + "\n"


def overhead(nodes: int, home: Path) -> list[str]:
    host = Host.load(PluginSelection(allow=("dask",)))
    wf = parse_workflow(fanout_yaml(nodes), host)
    rows = []
    from autoglm_dask.executor import DaskExecutor

    start = time.perf_counter()
    probe = DaskExecutor({"n_workers": 2})
    probe.start()
    cluster_start = time.perf_counter() - start
    probe.shutdown()
    for name, choice in (
        ("local (threads)", ExecutorChoice("local")),
        ("dask, 2-worker LocalCluster", ExecutorChoice("dask", {"n_workers": 2})),
    ):
        store = RunStore(home / f"{name.split()[0]}.sqlite")
        engine = Engine(host, store, use_cache=False, executor=choice)
        start = time.perf_counter()
        result = engine.run(wf)
        wall = time.perf_counter() - start
        assert result.status == "succeeded", result.error
        net = wall - (cluster_start if choice.name == "dask" else 0.0)
        rows.append(
            f"| {name} | {nodes + 1} | {wall:.1f} | {net:.1f} | {1000 * net / (nodes + 1):.1f} |"
        )
        print(rows[-1], flush=True)
    return [
        f"LocalCluster start + stop, measured apart: {cluster_start:.1f} s.",
        "",
        "| executor | nodes | run wall (s) | minus cluster start (s) | per node (ms) |",
        "|---|---|---|---|---|",
        *rows,
    ]


def ddp(graph_nodes: int, steps: int, work: Path) -> list[str]:
    from autoglm_gnn.distributed.training import Job, launch
    from autoglm_gnn.graphs import save_graph
    from autoglm_gnn.synthetic import CSBMSpec, generate_csbm

    spec = CSBMSpec(
        nodes=graph_nodes,
        classes=8,
        features=64,
        avg_degree=10,
        feature_signal=1.0,
        train_per_class=graph_nodes // 40,
        seed=0,
    )
    start = time.perf_counter()
    graph = save_graph(work / "graph.bin", generate_csbm(spec))
    made = time.perf_counter() - start
    cores = os.cpu_count() or 1
    base = dict(
        graph=graph,
        hidden=64,
        fanouts=[10, 10],
        batch_size=1024,
        max_steps=steps,
        epochs=100,
        lr=0.01,
        eval_nodes=10_000,
    )
    setups = [
        ("1 process", dict(world_size=1, threads=cores)),
        ("2 ranks, none", dict(world_size=2, threads=max(1, cores // 2))),
        ("2 ranks, fp16", dict(world_size=2, compression="fp16", threads=max(1, cores // 2))),
        ("2 ranks, bf16", dict(world_size=2, compression="bf16", threads=max(1, cores // 2))),
        (
            "2 ranks, none, accumulate 4",
            dict(world_size=2, accumulate_steps=4, threads=max(1, cores // 2)),
        ),
    ]
    rows = []
    for i, (name, changes) in enumerate(setups):
        start = time.perf_counter()
        result = launch(Job(out_dir=str(work / f"run{i}"), **base, **changes))
        wall = time.perf_counter() - start
        rows.append(
            f"| {name} | {result['samples_per_s']:.0f} | {result['bytes_sent'] / 1e6:.2f} | "
            f"{result['test_accuracy']:.4f} | {wall:.1f} |"
        )
        print(rows[-1], flush=True)
    return [
        f"Graph: {graph_nodes} nodes, 8 classes, 64 features, average degree 10 "
        f"(generated and saved in {made:.1f} s); GraphSAGE 2x64, fanouts [10, 10], global batch "
        f"1024, {steps} steps, Adam; gloo on loopback.",
        "",
        "| set-up | train samples/s | MB sent per rank | test acc | wall incl. spawn (s) |",
        "|---|---|---|---|---|",
        *rows,
    ]


def cora_yaml(trials: int) -> str:
    return f"""
nodes:
  - id: graph
    type: gnn.planetoid
    config: {{name: cora}}
  - id: search
    type: tuner.search
    inputs: {{objective_inputs: {{graph: $graph.path}}}}
    config:
      objective: gnn.train
      base_config: {{max_epochs: 100, patience: 100}}
      space:
        layer: {{choice: [gcn, sage]}}
        hidden: {{choice: [16, 32, 64], ordered: true}}
        dropout: {{float: [0.0, 0.8]}}
        lr: {{float: [0.001, 0.05], log: true}}
      space_only: true
      optimizer: random
      budget: {trials}
      final_top_k: 0
      noise_outputs: [seconds, checkpoint]
      warm_start: false
      workers: 2
      seed: 0
outputs: {{search: $search}}
"""


def cora_search(trials: int, home: Path) -> list[str]:
    host = Host.load(PluginSelection(allow=("gnn", "tuner", "dask")))
    wf = parse_workflow(cora_yaml(trials), host)
    rows, boards = [], []
    for name, choice in (
        ("local pool (2 processes)", ExecutorChoice("local")),
        ("dask, 2-worker LocalCluster", ExecutorChoice("dask", {"n_workers": 2})),
    ):
        store = RunStore(home / f"cora-{choice.name}.sqlite")
        start = time.perf_counter()
        result = Engine(host, store, use_cache=False, executor=choice).run(wf)
        wall = time.perf_counter() - start
        assert result.status == "succeeded", result.error
        search = result.outputs["search"]
        boards.append([(r["trial"], r["params"], r["score"]) for r in search["leaderboard"]])
        rows.append((name, wall, search["best_score"]))
        print(rows[-1], flush=True)
    same = boards[0] == boards[1]
    return [
        f"{trials} trials of gnn.train (100 epochs) on Cora, random search seed 0, 2 trials at "
        "a time; the dask run includes starting its cluster.",
        "",
        "| trials run on | wall (s) | best val acc |",
        "|---|---|---|",
        *[f"| {n} | {w:.1f} | {b:.4f} |" for n, w, b in rows],
        "",
        f"Same leaderboard (trial, params, score) on both: {'yes' if same else 'NO'}; "
        f"wall-clock ratio dask / local: {rows[1][1] / rows[0][1]:.2f}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--graph-nodes", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--cora-trials", type=int, default=64)
    parser.add_argument("--skip", nargs="*", default=[], help="parts to leave out: overhead ddp")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scale_out.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AUTOGLM_HOME"] = tmp
        load = os.getloadavg()[0]
        lines = [
            "# Scale-out: executors and DDP",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
            f"{load:.1f} at the start (shared with other work: absolute numbers are pessimistic; "
            "compare rows).",
            "",
        ]
        if "overhead" not in args.skip:
            lines += [f"## Per-node overhead, {args.nodes}-node fan-out of core.noop", ""]
            lines += [*overhead(args.nodes, Path(tmp)), ""]
        if "ddp" not in args.skip:
            lines += ["## DDP, 2 gloo ranks against one process", ""]
            lines += [*ddp(args.graph_nodes, args.steps, Path(tmp)), ""]
            lines += ["NCCL was not measured: no GPU machine was lent to this task.", ""]
        if "cora" not in args.skip:
            lines += ["## A Cora search: trials on a LocalCluster against the local pool", ""]
            lines += cora_search(args.cora_trials, Path(tmp))
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
