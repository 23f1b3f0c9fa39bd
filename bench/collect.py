"""Collect the benchmark results under ``bench/results/`` into ``docs/benchmarks.md``.

Each benchmark script writes its own section (``bench/results/<name>.md``); this keeps one page
for readers, in a fixed order, with image links rewritten to work from ``docs/``.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
ORDER = [
    "engine",
    "fuzz_workflows",
    "kill_resume",
    "regex",
    "service_load",
    "service_durability",
    "service_hostile",
    "service_sandbox",
    "ui",
    "environments",
    "scale_out",
    "tuner_zero_cost",
    "tuner_prior",
    "graph_table",
    "gnn_models",
    "gnn_kernels",
    "gnn_defaults",
    "gcnii_depth",
    "graph_search",
    "graph_generalise",
    "graph_generalise_first_runs",
    "graph_resplit",
    "gnn_ensemble",
    "prompt_sst2",
    "text",
    "qa_eval",
    "adapt_hwu64",
    "finetune_variants",
    "contrastive_check",
    "adapt_prompts",
    "multimodal_digits",
]
HEADER = """# Benchmarks

Measured on this project's reference machine: 2 CPU cores (x86_64), no GPU, torch 2.2.1 (CPU),
DGL 2.1.0. Each section is written by its script under `bench/` (the command is given in the
section) and collected here by `python bench/collect.py`. Every figure is a ratio or comparison
against the named baseline run side by side in the same script; several were measured while
other jobs shared the two cores, which the sections say where it matters.

"""


def collect() -> str:
    sections = []
    names = ORDER + sorted(p.stem for p in RESULTS.glob("*.md") if p.stem not in ORDER)
    for name in names:
        path = RESULTS / f"{name}.md"
        if not path.exists():
            continue
        text = path.read_text().strip()
        text = re.sub(r"\]\((?!https?://|/|\.\./)([^)]+)\)", r"](../bench/results/\1)", text)
        if text.startswith("# "):  # a section written as its own page: one level down here
            text = re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)
        sections.append(text)
    return HEADER + "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    (REPO / "docs" / "benchmarks.md").write_text(collect())
    print("wrote docs/benchmarks.md")
