"""Prompt candidates beside the probes, as the adapt workflow runs them (issue 19).

Run from the repository root:  .venv/bin/python bench/adapt_prompts.py [hwu64|sst2 ...]
Writes bench/results/adapt_prompts.md, rewritten after every candidate (an interrupted run
leaves its figures, marked partial); its closing "Reading" paragraph is written by hand.

Same protocol as bench/adapt_hwu64.py, whose task files and SST-2 sample this imports:

* **HWU64** (64 intents): train.tsv minus the seeded, stratified 10% validation split every
  adapt candidate shares; test.tsv scored once per candidate.
* **SST-2**: 8,000 sampled train phrases, select on one half of dev.tsv, report the other.

Candidates, run in this order through one home (one on-disk embedding cache, as in a workflow
run): nearest centroid (embeds train, validation and test: the cold cost), logistic probe
(C=1), the label-name zero-shot prompt (``finetune.prompt``, no search), and the prompt
optimiser (``finetune.prompt`` searching the train split from the start of
configs/adapt-intents.yaml, every pool example at weight 1, i.e. the centroid: shots all /
0 / 16, prototype weight, batch calibration, label descriptions; ``candidates`` its budget).
The prompt candidates count their model calls and cache hits; for the probes, which do not,
the bench counts them from the cache before each run (texts already cached are hits, the
other distinct texts are calls). McNemar and a paired bootstrap are against the probe.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import adapt_hwu64  # noqa: E402  (its task files and SST-2 sample: one protocol)
import torch  # noqa: E402

torch.set_num_threads(1)  # after adapt_hwu64, which sets 2 at import

RESULTS = BENCH / "results" / "adapt_prompts.md"
SEARCH = {
    "shots": [10000, 0, 16],  # first options = the start: the pool's centroid prompt
    "example_weights": [1.0, 0.5, 0.8],
    "calibrations": ["none", "batch"],
    "candidates": 16,
}
TASKS = {
    "hwu64": {
        "title": "HWU64 (64 intents): test.tsv, 1,076 rows",
        "names": {},
        "descriptions": ["{name}", "a request about {name}"],
    },
    "sst2": {
        "title": "SST-2: held-out half of dev.tsv, 436 sentences",
        "names": {"0": "negative", "1": "positive"},
        "descriptions": ["{name}", "a {name} review", "this movie review is {name}"],
    },
}


def candidates(task: dict) -> list[tuple[str, type, dict]]:
    from autoglm_finetune.nodes import ProbeNode
    from autoglm_finetune.prompt_candidates import PromptNode

    names = {"names": task["names"]}
    return [
        ("centroid", ProbeNode, {"head": "centroid"}),
        ("probe", ProbeNode, {"head": "logistic", "C": 1.0}),
        ("zero-shot prompt (label names)", PromptNode, names),
        (
            "prompt optimiser",
            PromptNode,
            {**names, "descriptions": task["descriptions"], **SEARCH},
        ),
    ]


def probe_calls(inputs: dict, home: Path) -> tuple[int, int]:
    """The encoder work a probe node is about to do: distinct texts of its splits not in the
    cache (calls) and in it (hits)."""
    from autoglm.testing import make_context
    from autoglm_finetune.data import load_splits
    from autoglm_hf.api import from_spec

    splits = load_splits(
        inputs["train"],
        inputs.get("validation"),
        inputs.get("test"),
        validation_fraction=0.1,
        seed=0,
    )
    texts = list(dict.fromkeys(splits.texts("train") + splits.texts("validation")))
    texts = list(dict.fromkeys(texts + splits.texts("test")))
    cache = make_context(home).cache_dir("hf-embeddings")
    encoder = from_spec({"kind": "hf-encoder", "model": "default", "cache_dir": str(cache)})
    hits = encoder.count_cached(texts)
    return len(texts) - hits, hits


def table(task: dict, results: list[dict], report: dict | None, done: bool) -> list[str]:
    lines = [f"### {task['title']}{'' if done else ' (partial: run still in progress)'}", ""]
    lines += [
        "| candidate | validation acc. | test acc. | test macro-F1 | model calls | cache hits "
        "| CPU s | vs probe: diff. [95% CI], McNemar p | selected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = {r["name"]: r for r in (report or {}).get("rows", [])}
    for res in results:
        row = rows.get(res["name"], {})
        versus = adapt_hwu64.paired_cell(row, "(reference)")
        lines.append(
            f"| {res['name']} | {res['val_accuracy']:.4f} | {res['test_accuracy']:.4f} | "
            f"{res['test_macro_f1']:.4f} | {res['model_calls']:,} | {res['cache_hits']:,} | "
            f"{res['cpu_seconds']:.1f} | {versus} | {'**yes**' if row.get('chosen') else ''} |"
        )
    searched = [r for r in results if r.get("search", {}).get("searched")]
    for res in searched:
        s, point = res["search"], res["search"]["best_point"] or {}
        chosen = ", ".join(f"{k} {v}" for k, v in sorted(point.items())) or "the start"
        examples = "redrawn from the whole train split" if s["refitted"] else "as searched"
        lines += [
            "",
            f"{res['name']}: {s['candidates_scored']} candidates scored on "
            f"{s['plan']['dev']} train rows with a pool of {s['plan']['pool']}; best on those "
            f"rows {s['best_score']:.4f} (start {s['start_score']:.4f}); its own baselines on "
            f"the same rows: centroid {s['baselines']['centroid']:.4f}, probe "
            f"{s['baselines']['probe']:.4f}. Chosen point: {chosen} (shots 10000 = every "
            f"pool example; examples {examples})."
            + (
                f" Alone in an empty cache it costs {res['cold_calls']:,} model calls and "
                f"{res['cold_cpu']:.1f} CPU s (the centroid's cold cost above is the "
                "comparison)."
                if "cold_calls" in res
                else ""
            ),
        ]
    return [*lines, ""]


def main(names: list[str]) -> None:
    from autoglm.testing import run_node
    from autoglm_finetune.select import select

    header = [
        "## Prompt candidates beside the probes: zero-shot prompt, optimiser, centroid, probe "
        "(issue 19)",
        "",
        f"Machine: {os.cpu_count()} CPU cores shared with other jobs, torch {torch.__version__}, "
        "1 torch thread; all-MiniLM-L6-v2. Script: `bench/adapt_prompts.py` (the adapt "
        "workflow's candidate nodes, run in the order listed through one embedding cache). "
        "CPU seconds are process CPU time. Model calls are texts run through the encoder; "
        "cache hits are texts read from the on-disk cache (the probes' counts are read from "
        "the cache before each run). The selection reads validation only.",
        "",
    ]
    sections: dict[str, list[str]] = {}

    def write() -> None:
        RESULTS.write_text("\n".join(header + [x for n in names for x in sections.get(n, [])]))

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        for name in names:
            task = TASKS[name]
            if name == "sst2":
                inputs = adapt_hwu64.sst2_files(Path(tmp))
            else:
                paths = adapt_hwu64.TASKS["hwu64"]
                inputs = {"train": paths["train"], "test": paths["test"]}
            results: list[dict] = []
            report = None
            for label, node, config in candidates(task):
                counted = probe_calls(inputs, home) if "head" in config else None
                started = time.perf_counter()
                out = run_node(node, {"seed": 0, **config}, inputs, home=home).model_dump()
                if counted:
                    out["model_calls"], out["cache_hits"] = counted
                print(
                    f"{name} {label}: val {out['val_accuracy']:.4f} test "
                    f"{out['test_accuracy']:.4f} calls {out['model_calls']} hits "
                    f"{out['cache_hits']} cpu {out['cpu_seconds']:.0f}s wall "
                    f"{time.perf_counter() - started:.0f}s",
                    file=sys.stderr,
                )
                if out.get("search", {}).get("searched"):
                    cold = run_node(node, {"seed": 0, **config}, inputs, home=Path(tmp) / name)
                    out["cold_calls"], out["cold_cpu"] = cold.model_calls, cold.cpu_seconds
                results.append({"name": label, **out})
                report = select(results, out["test_gold"], baselines=("probe",))
                sections[name] = table(task, results, report, done=False)
                write()
            sections[name] = table(task, results, report, done=True)
            write()
    print(RESULTS.read_text())


if __name__ == "__main__":
    main(sys.argv[1:] or list(TASKS))
