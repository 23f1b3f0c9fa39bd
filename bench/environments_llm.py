"""The example of docs/environments.md, measured: graph nodes with torch 2.2.1 + DGL 2.1 in the
main environment, an LLM node with transformers 5 (and the newer torch it needs) in its own.

Needs an environment built beforehand (it downloads a few GB):

    autoglm env create llm5 --plugins hf --constraint 'transformers>=5' --constraint 'torch>=2.6' \
        --constraint 'torchvision>0.17.1' --constraint 'torchaudio>2.2.1'

and a small causal LM folder (``--model``; by default a tiny Qwen2 is built here with
``autoglm_hf.testing.build_tiny_causal_lm``). It runs the workflow twice with the LLM node in
``llm5`` and twice with it process-isolated in the main environment (transformers 4 there), and
appends the per-node times to ``bench/results/environments.md``.

Usage: ``python bench/environments_llm.py [--env llm5] [--model DIR] [--out FILE.md]``
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOW = """
name: graph-then-llm
nodes:
  - id: graph
    type: gnn.synthetic
    config: {{nodes: 300, classes: 3, seed: 0}}
  - id: train
    type: gnn.train
    config: {{max_epochs: 50, threads: 1}}
    inputs: {{graph: $graph.path}}
  - id: explain
    type: hf.generate
    {where}
    config: {{model: {model}, device: cpu, max_new_tokens: 16}}
    inputs: {{prompt: "the graph model"}}
"""

PROBE = "import torch, transformers; print(torch.__version__, transformers.__version__)"


def versions(python: str) -> str:
    out = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, check=True)
    torch, transformers = out.stdout.split()
    return f"torch {torch}, transformers {transformers}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="llm5")
    parser.add_argument("--model", default=None)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "environments.md"))
    args = parser.parse_args()

    import sys

    from autoglm.engine import Engine
    from autoglm.environments import describe, interpreter_of
    from autoglm.plugins import Host, PluginSelection
    from autoglm.store import RunStore, default_home
    from autoglm.workflow import parse_workflow

    model = args.model
    if model is None:
        from autoglm_hf.testing import build_tiny_causal_lm

        model = build_tiny_causal_lm(Path(tempfile.mkdtemp()) / "tiny-qwen2", family="qwen2")
    python = interpreter_of(args.env)
    describe(python)
    host = Host.load(PluginSelection(allow=("gnn", "hf")))
    store = RunStore(default_home() / "runs.sqlite")
    engine = Engine(host, store, workers=1, use_cache=False)
    rows = []
    for label, where in (
        (f"environment {args.env}", f"environment: {args.env}"),
        ("process isolation, main environment", "isolation: process"),
    ):
        workflow = parse_workflow(FLOW.format(where=where, model=model), host)
        for attempt in range(args.runs):
            result = engine.run(workflow)
            assert result.status == "succeeded", result.error
            nodes = store.node_states(result.run_id)
            times = {n: (nodes[n].duration_s or 0.0) for n in ("graph", "train", "explain")}
            rows.append((label, attempt + 1, times))
            print(label, attempt + 1, {k: round(v, 2) for k, v in times.items()}, flush=True)
    record = store.get_run(result.run_id)
    assert record is not None
    lines = [
        "",
        "## The torch/DGL + transformers 5 example (bench/environments_llm.py)",
        "",
        f"Main environment: {versions(sys.executable)}, DGL 2.1 (graph nodes). Environment "
        f"`{args.env}` (`autoglm env create {args.env} --plugins hf --constraint "
        "'transformers>=5' --constraint 'torch>=2.6' --constraint 'torchvision>0.17.1' "
        f"--constraint 'torchaudio>2.2.1'`, layered): {versions(python)}; DGL does "
        "not load there. Workflow: `gnn.synthetic` (300 nodes) -> `gnn.train` (50 epochs) -> "
        "`hf.generate` (a tiny Qwen2 built locally, 16 tokens, CPU). Per-node seconds as the "
        "engine records them:",
        "",
        "| `hf.generate` runs | run | graph (s) | train (s) | explain (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, attempt, times in rows:
        lines.append(
            f"| {label} | {attempt} | {times['graph']:.2f} | {times['train']:.2f} "
            f"| {times['explain']:.2f} |"
        )
    lines += [
        "",
        "The `explain` column is the cost of the LLM node with its crossing: a fresh interpreter "
        "that imports torch and transformers and loads the model, in both rows (process "
        "isolation starts one too); the difference between the rows is the difference between "
        "the two stacks' import and load times plus the crossing. The machine was shared "
        "(load average about 16 on 2 CPUs): the first row's graph and train include DGL's "
        "first import.",
        "",
    ]
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
