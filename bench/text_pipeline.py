"""Benchmark of the text nodes and the encoder adapter against simple baselines.

Run from the repository root:  .venv/bin/python bench/text_pipeline.py
Writes bench/results/text.md. Measures, side by side:

1. Knowledge-base retrieval (configs/kb, 24 hand-written questions with the file that answers
   them): dense MiniLM retrieval over token-aware passages (text.index + text.retrieve) vs
   TF-IDF (scikit-learn) over the same passages, hit@1 and hit@3 by source file.
2. Task-type recognition on 40 hand-written requests (qa / summary): text.task_type
   (rules + nearest examples) vs the contrib textkit.keyword_router.
3. Encoder adapter throughput on SST-2 dev (872 sentences, ../shared/data): cold embedding vs
   the on-disk embedding cache.
4. Latency of configs/qa-pipeline.yaml (extractive mode) through the engine, warm process.

The questions and requests were written by the author of the nodes, after the knowledge base,
so they are a smoke-scale check, not an independent benchmark.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

torch.set_num_threads(2)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AUTOGLM_DATA_DIR", REPO.parent / "shared" / "data"))
KB = REPO / "configs" / "kb"
OUT = REPO / "bench" / "results" / "text.md"

QUESTIONS = [
    ("What is autoglm?", "01-overview.md"),
    ("Is every capability a separate distribution?", "01-overview.md"),
    ("How are plugins discovered?", "02-plugins.md"),
    ("Which entry-point group do plugins use?", "02-plugins.md"),
    ("How can I keep a plugin from being imported?", "02-plugins.md"),
    ("What models describe a node's config, inputs and outputs?", "03-nodes.md"),
    ("Where should large artefacts like checkpoints go?", "03-nodes.md"),
    ("How does a node input refer to another node's output?", "04-workflows.md"),
    ("What does first_of do?", "04-workflows.md"),
    ("Can a when condition call functions?", "04-workflows.md"),
    ("How are node results cached?", "05-engine.md"),
    ("How long do retries wait between attempts?", "05-engine.md"),
    ("What happens when a node runs past its timeout?", "05-engine.md"),
    ("How do I resume a killed run?", "06-resume.md"),
    ("Where are runs and journals stored?", "06-resume.md"),
    ("Which search strategies does the tuner offer?", "07-tuner.md"),
    ("How do config fields declare a search space?", "07-tuner.md"),
    ("What accuracy does a GCN reach on Cora?", "08-gnn.md"),
    ("Which GNN layer types are available?", "08-gnn.md"),
    ("How is a new prompt variant promoted?", "09-prompts.md"),
    ("Which statistical tests compare two variants?", "09-prompts.md"),
    ("Can I use a vLLM or Ollama server?", "10-models.md"),
    ("Is remote code trusted by default?", "10-models.md"),
    ("How do I draw a workflow as a diagram?", "12-cli.md"),
]

REQUESTS = [
    ("What is a node type?", "qa"),
    ("How does the engine cache results?", "qa"),
    ("Why did my run fail", "qa"),
    ("Explain successive halving", "qa"),
    ("Tell me how retries work", "qa"),
    ("Which optimiser should I pick for 20 trials?", "qa"),
    ("Who maintains the gnn plugin?", "qa"),
    ("I need to know where artefacts are written", "qa"),
    ("Describe the run store", "qa"),
    ("Can workflows run nodes in parallel?", "qa"),
    ("Define a search space", "qa"),
    ("List the CLI commands", "qa"),
    ("Is GLM-4 supported", "qa"),
    ("Where do I put my API key", "qa"),
    ("Help me understand first_of", "qa"),
    ("When is a node skipped?", "qa"),
    ("How much memory does training on Cora need", "qa"),
    ("Does the tuner resume after a crash?", "qa"),
    ("What does trust_remote_code do", "qa"),
    ("Show me how to write a plugin", "qa"),
    ("Summarize the following meeting notes: we agreed to ship on Friday.", "summary"),
    ("Please summarise this article about graph learning.", "summary"),
    ("TL;DR: the report describes three failed experiments and one success.", "summary"),
    ("Give me the gist of this email thread", "summary"),
    ("Condense the text below into two sentences", "summary"),
    ("Key takeaways from this paper, please", "summary"),
    ("Write an abstract for the passage that follows", "summary"),
    ("Boil this changelog down to the essentials", "summary"),
    ("Shorten this paragraph for a slide", "summary"),
    ("Make this long design doc brief", "summary"),
    ("Recap what happened in the incident report below", "summary"),
    ("Provide an overview of the following release notes", "summary"),
    ("Can you sum up this discussion?", "summary"),
    ("In a nutshell, what does this document say?", "summary"),
    ("Highlight the main points of the text", "summary"),
    ("Outline the key arguments of this essay", "summary"),
    ("Digest this thread into bullet points", "summary"),
    ("Reduce this report to its core findings", "summary"),
    ("Brief me on the attached transcript", "summary"),
    ("A short synopsis of the chapter below, please", "summary"),
]


def retrieval(home: Path) -> list[str]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from autoglm.testing import run_node
    from autoglm_text.kb_index import load_index
    from autoglm_text.node_index import IndexNode
    from autoglm_text.node_retrieve import RetrieveNode

    config = {"chunk_tokens": 96, "overlap": 16, "device": "cpu"}
    started = time.perf_counter()
    index = run_node(IndexNode, config, {"folder": str(KB)}, home=home)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    again = run_node(IndexNode, config, {"folder": str(KB)}, home=home)
    reuse_s = time.perf_counter() - started
    assert again.reused
    loaded = load_index(index.path)
    texts = [p.text for p in loaded.passages]
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(texts)
    matrix = tfidf.transform(texts)
    hits = {"dense": [0, 0], "tfidf": [0, 0]}
    latencies = []
    for question, source in QUESTIONS:
        t0 = time.perf_counter()
        out = run_node(
            RetrieveNode,
            {"k": 3, "device": "cpu"},
            {"query": question, "index": index.path},
            home=home,
        )
        latencies.append(time.perf_counter() - t0)
        scores = (matrix @ tfidf.transform([question]).T).toarray().ravel()
        sparse = [loaded.passages[i].source for i in np.argsort(-scores)[:3]]
        for name, ranked in (("dense", out.sources), ("tfidf", sparse)):
            hits[name][0] += ranked[0] == source
            hits[name][1] += source in ranked
    n = len(QUESTIONS)
    dense, sparse_hits = (
        f"{h[0] / n:.3f} | {h[1] / n:.3f}" for h in (hits["dense"], hits["tfidf"])
    )
    return [
        "### Knowledge-base retrieval (configs/kb, 24 questions, hit by source file)",
        "",
        f"Index: {index.passages} passages from {len(index.documents)} files; first build "
        f"{build_s:.2f} s, reuse of the identical index {reuse_s * 1000:.0f} ms; median "
        f"retrieve latency {statistics.median(latencies) * 1000:.0f} ms.",
        "",
        "| method | hit@1 | hit@3 |",
        "|---|---|---|",
        f"| text.retrieve (MiniLM, cosine) | {dense} |",
        f"| TF-IDF baseline (same passages) | {sparse_hits} |",
        "",
    ]


def routing(home: Path) -> list[str]:
    from autoglm.testing import run_node
    from autoglm_text.node_task import TaskTypeNode
    from autoglm_textkit.router import KeywordRouterNode

    rows = []
    for name, node, config in (
        ("text.task_type (rules + nearest examples)", TaskTypeNode, {"device": "cpu"}),
        ("text.task_type (rules only)", TaskTypeNode, {"strategy": "rules"}),
        ("text.task_type (examples only)", TaskTypeNode, {"strategy": "examples", "device": "cpu"}),
        ("textkit.keyword_router (baseline)", KeywordRouterNode, {}),
    ):
        t0 = time.perf_counter()
        correct = sum(
            run_node(node, config, {"text": text}, home=home).task == gold
            for text, gold in REQUESTS
        )
        elapsed = (time.perf_counter() - t0) / len(REQUESTS)
        rows.append(f"| {name} | {correct / len(REQUESTS):.3f} | {elapsed * 1000:.1f} |")
    return [
        "### Task-type recognition (40 requests: 20 qa, 20 summary)",
        "",
        "| method | accuracy | ms / request |",
        "|---|---|---|",
        *rows,
        "",
    ]


def embedding(home: Path) -> list[str]:
    from autoglm_hf.adapters import default_encoder_path, load_encoder

    dev = DATA / "sst2" / "dev.tsv"
    texts = [line.split("\t")[0] for line in dev.read_text().splitlines()[1:]]
    encoder = load_encoder(default_encoder_path(), device="cpu", cache_dir=str(home / "emb"))
    encoder.embed(texts[:8])  # warm the model, not the cache of the rest
    t0 = time.perf_counter()
    cold = encoder.embed(texts)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = encoder.embed(texts)
    warm_s = time.perf_counter() - t0
    assert (cold == warm).all()
    return [
        f"### Encoder adapter on SST-2 dev ({len(texts)} sentences, all-MiniLM-L6-v2, CPU)",
        "",
        "| pass | seconds | sentences / s |",
        "|---|---|---|",
        f"| cold (model) | {cold_s:.2f} | {len(texts) / cold_s:.0f} |",
        f"| warm (on-disk cache) | {warm_s:.3f} | {len(texts) / warm_s:.0f} |",
        "",
    ]


def pipeline(home: Path) -> list[str]:
    from autoglm.engine import Engine
    from autoglm.store import RunStore
    from autoglm.testing import isolated_host
    from autoglm.workflow import load_workflow

    host = isolated_host(["text", "hf"])
    workflow = load_workflow(REPO / "configs" / "qa-pipeline.yaml", host)
    engine = Engine(host, RunStore(home / "runs.sqlite"), workers=2, use_cache=False)
    times, correct = [], 0
    for question, source in QUESTIONS:
        t0 = time.perf_counter()
        result = engine.run(workflow, {"text": question, "kb": str(KB)})
        times.append(time.perf_counter() - t0)
        correct += bool(result.outputs["sources"]) and result.outputs["sources"][0] == source
    return [
        "### configs/qa-pipeline.yaml end to end (extractive, engine cache off)",
        "",
        f"{len(QUESTIONS)} questions: median {statistics.median(times) * 1000:.0f} ms per run "
        f"(first run {times[0]:.2f} s, loads the encoder), top source correct for "
        f"{correct}/{len(QUESTIONS)}.",
        "",
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        sections = ["## Text nodes and encoder adapter (autoglm-text, autoglm-hf)", ""]
        sections += [
            f"Machine: {os.cpu_count()} CPU cores, torch {torch.__version__}, 2 torch threads. "
            "Script: `bench/text_pipeline.py`.",
            "",
        ]
        for part in (pipeline, retrieval, routing, embedding):
            sections += part(home)
            print("\n".join(sections[-12:]), file=sys.stderr)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(sections))
    print(OUT.read_text())


if __name__ == "__main__":
    main()
