"""Adapting all-MiniLM-L6-v2 to labelled intents: probes vs fine-tuning, selected on validation.

Run from the repository root:  .venv/bin/python bench/adapt_hwu64.py [hwu64|sst2 ...]
Writes bench/results/adapt_hwu64.md, or bench/results/adapt_sst2.md when run for sst2 alone
(so the two can run side by side), rewritten after every candidate: an interrupted run still
leaves its figures, marked partial.

* **HWU64** (64 intents, ../shared/data/hwu64): train on train.tsv minus a seeded, stratified
  10% validation split; every candidate is chosen and tuned on that split only; test.tsv
  (1,076 rows) is scored once per candidate.
* **SST-2**: train on a seeded, stratified sample of train.tsv (8,000 phrases), select on the
  first half of dev.tsv (seeded split), report the held-out half (issue 19's protocol).

Candidates: those of ``configs/adapt-intents.yaml`` as committed (every node feeding its
``finetune.select`` whose inputs are the workflow's own inputs), run one by one as the engine
runs them, in one home so they share the embedding cache as in a workflow run; the fine-tune
node runs at the node's defaults (``FINETUNE``). Beside them, the logistic probe at C=10 (what
the probe's tuner finds) for a side-by-side reference. The selection is the best validation
accuracy; test accuracy, CPU seconds, McNemar and a paired bootstrap against the best simple
baseline are reported for every candidate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

#: 2 on a quiet machine; 1 on a busy one, where a second thread's spin-waits inflate CPU seconds
torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "2")))

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
WORKFLOW = "configs/adapt-intents.yaml"
#: The workflow's fine-tune node config: the node's measured defaults (docs/finetune.md).
FINETUNE = {"mode": "full"}
#: Side-by-side references beside the workflow's candidates: (name, node type, config).
EXTRA = [("probe C=10", "finetune.probe", {"head": "logistic", "C": 10.0})]

TASKS = {
    "hwu64": {
        "title": "HWU64 (64 intents): test.tsv, 1,076 rows",
        "train": "hwu64/train.tsv",
        "test": "hwu64/test.tsv",
        "target": 0.925,
        "cpu_minutes": 20,
    },
    "sst2": {
        "title": "SST-2: held-out half of dev.tsv, 436 sentences",
        "target": 0.85,
    },
}


def sst2_files(folder: Path) -> dict[str, str]:
    """8,000 training phrases; dev split in halves (select on one, report the other)."""
    from autoglm_prompt.api import load_examples, sample_examples, split_examples, write_jsonl

    train = sample_examples(load_examples("sst2/train.tsv"), 8000, seed=0)
    halves = split_examples(load_examples("sst2/dev.tsv"), {"opt": 0.5, "held": 0.5}, seed=0)
    return {
        "train": write_jsonl(folder / "sst2-train.jsonl", train),
        "validation": write_jsonl(folder / "sst2-val.jsonl", halves["opt"]),
        "test": write_jsonl(folder / "sst2-heldout.jsonl", halves["held"]),
    }


def node_types() -> dict[str, type]:
    """The plugin's node types by name, as the engine registers them."""
    from autoglm_finetune import plugin

    found: dict[str, type] = {}
    plugin.register_nodes(register=lambda t: found.setdefault(t.name, t))
    return found


def workflow() -> tuple[list[tuple[str, str, dict]], tuple[str, ...], list[str]]:
    """(candidates runnable alone, baselines, candidates skipped) of the committed workflow:
    the nodes feeding ``finetune.select`` whose inputs are all ``$inputs.*``."""
    import yaml

    text = subprocess.run(
        ["git", "show", f"HEAD:{WORKFLOW}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    spec = yaml.safe_load(text)
    nodes = {n["id"]: n for n in spec["nodes"]}
    select = next(n for n in spec["nodes"] if n["type"] == "finetune.select")
    runnable, skipped = [], []
    for name, fields in select["inputs"]["candidates"].items():
        node = nodes[str(next(iter(fields.values()))).lstrip("$").split(".")[0]]
        own = all(str(v).startswith("$inputs.") for v in node.get("inputs", {}).values())
        config = dict(node.get("config") or {})
        if node["id"] == "finetune":
            config = dict(FINETUNE)
        (runnable if own else skipped).append((name, node["type"], config) if own else name)
    baselines = tuple(select.get("config", {}).get("baselines", ["centroid", "probe"]))
    return runnable, baselines, skipped


def paired_cell(row: dict, otherwise: str) -> str:
    """A finetune.select row's paired comparison as a table cell (difference, 95% interval,
    McNemar p), or ``otherwise`` for a row compared with nothing (the baseline itself)."""
    if "delta" not in row:
        return otherwise
    low, high = row["ci"]
    return f"{row['delta']:+.3f} [{low:+.3f}, {high:+.3f}], p = {row['mcnemar_p']:.2g}"


def table(name: str, task: dict, results: list[dict], report: dict | None, done: bool) -> list[str]:
    lines = [f"### {task['title']}{'' if done else ' (partial: run still in progress)'}", ""]
    lines += [
        "| candidate | validation acc. | test acc. | test macro-F1 | CPU s | vs best baseline: "
        "diff. [95% CI], McNemar p | selected |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = {r["name"]: r for r in (report or {}).get("rows", [])}
    for res in results:
        row = rows.get(res["name"], {})
        is_baseline = report and res["name"] == report["baseline"]
        versus = paired_cell(row, "(baseline)" if is_baseline else "")
        lines.append(
            f"| {res['name']} | {res['val_accuracy']:.4f} | {res['test_accuracy']:.4f} | "
            f"{res['test_macro_f1']:.4f} | {res['cpu_seconds']:.0f} | {versus} | "
            f"{'**yes**' if row.get('chosen') else ''} |"
        )
    for res in results:
        members: dict[int, list[float]] = {}
        for h in res.get("history", []):
            if "epoch" in h and "val" in h and not h.get("refit"):
                members.setdefault(h.get("member", 1), []).append(h["val"])
        if members and res.get("blend_weight") is not None:
            per_member = "; ".join(
                (f"member {m}: " if len(members) > 1 else "") + ", ".join(f"{v:.4f}" for v in vals)
                for m, vals in members.items()
            )
            refit = ""
            if res.get("refit") and res.get("test_accuracy_validated") is not None:
                gain = res["test_accuracy"] - res["test_accuracy_validated"]
                refit = (
                    " Refitted on train + validation with each member's chosen epochs: test "
                    f"{res['test_accuracy']:.4f}, against {res['test_accuracy_validated']:.4f} "
                    f"for the validated members before the refit ({gain:+.4f})."
                )
            lines += [
                "",
                f"{res['name']}: validation accuracy per epoch {per_member}; probe weight in "
                f"the blend {res['blend_weight']:.1f} (chosen on validation, kept only when it "
                f"wins there by the node's blend_margin).{refit}",
            ]
    if report and done:
        chosen = next(r for r in report["rows"] if r["chosen"])
        extras = {name for name, _, _ in EXTRA}
        total_cpu = sum(r["cpu_seconds"] for r in results if r["name"] not in extras)
        met = chosen["test_accuracy"] >= task["target"]
        budget = task.get("cpu_minutes")
        cost = (
            f" (target under {budget}: **{'met' if total_cpu / 60 < budget else 'missed'}**)"
            if budget
            else ""
        )
        lines += [
            "",
            f"Selected on validation: **{chosen['name']}**, test accuracy "
            f"{chosen['test_accuracy']:.4f} (target {task['target']}: "
            f"**{'met' if met else 'missed'}**); the workflow's candidates together "
            f"{total_cpu / 60:.1f} CPU-minutes{cost}.",
        ]
    return [*lines, ""]


def workflow_report(select, results: list[dict], gold: list[str], baselines) -> dict:
    """The selection among the workflow's candidates only; the side-by-side extras get their
    paired test against the same baseline but are never chosen."""
    extras = {name for name, _, _ in EXTRA}
    report = select([r for r in results if r["name"] not in extras], gold, baselines=baselines)
    if any(r["name"] in extras for r in results):
        rows = {r["name"]: r for r in select(results, gold, baselines=baselines)["rows"]}
        report["rows"] += [{**rows[n], "chosen": False} for n in rows if n in extras]
    return report


def main(names: list[str]) -> None:
    from autoglm.testing import run_node
    from autoglm_finetune.select import select

    types = node_types()
    runnable, baselines, skipped = workflow()
    sections: dict[str, list[str]] = {}
    header = [
        "## Adapting the encoder to labelled data: probes vs fine-tuning (issue 19)",
        "",
        f"Machine: {os.cpu_count()} CPU cores shared with other jobs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s) (`BENCH_TORCH_THREADS`); all-MiniLM-L6-v2. "
        "Script: `bench/adapt_hwu64.py`. CPU seconds are process CPU time (all threads); with 2 "
        "threads on oversubscribed cores they grow with the contention (threads spin while "
        "waiting for each other), so busy machines measure with 1. Candidates: "
        f"those of `{WORKFLOW}` (fine-tune at the node's defaults, "
        f"`{json.dumps(FINETUNE)}`), plus the probe at C=10 for reference"
        + (f"; not run alone here: {', '.join(skipped)}" if skipped else "")
        + ".",
        "",
    ]

    target = RESULTS / ("adapt_sst2.md" if names == ["sst2"] else "adapt_hwu64.md")

    def write() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(header + [line for n in names for line in sections.get(n, [])]))

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        for name in names:
            task = TASKS[name]
            if name == "sst2":
                inputs = sst2_files(Path(tmp))
            else:
                inputs = {"train": task["train"], "test": task["test"]}
            results: list[dict] = []
            for label, kind, config in [*runnable, *EXTRA]:
                started = time.perf_counter()
                out = run_node(types[kind], {"seed": 0, **config}, inputs, home=home)
                print(
                    f"{name} {label}: val {out.val_accuracy:.4f} test {out.test_accuracy:.4f} "
                    f"cpu {out.cpu_seconds:.0f}s wall {time.perf_counter() - started:.0f}s",
                    file=sys.stderr,
                )
                results.append({"name": label, **out.model_dump()})
                gold = out.test_gold
                report = workflow_report(select, results, gold, baselines)
                sections[name] = table(name, task, results, report, done=False)
                write()
            sections[name] = table(name, task, results, report, done=True)
            write()
    print(target.read_text())


if __name__ == "__main__":
    main(sys.argv[1:] or list(TASKS))
