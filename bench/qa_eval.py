"""QA over configs/kb: answer quality and abstention, new extractive answers vs the previous ones.

Run from the repository root:  .venv/bin/python bench/qa_eval.py
Writes bench/results/qa_eval.md.

The question set is bench/data/kb_qa.jsonl: 48 questions the knowledge base answers (gold =
the sentence or sentences of configs/kb that answer them) and 24 it does not (far off topic,
and near it: licences, Kubernetes, Windows, the REST port...). Every question runs through
configs/qa-pipeline.yaml in the real engine (text.task_type -> text.index -> text.retrieve ->
text.generate, extractive, all-MiniLM-L6-v2).

* **Calibration**: the abstention threshold catches the most unanswerable calibration
  questions while keeping abstention precision >= 0.95 on them (``calibrate``): stricter than
  the 0.9 target, since a threshold fitted on a few dozen questions loses some precision on
  questions it has not seen. Figures are
  **out of fold** (3 folds): every question is judged with the threshold calibrated on the
  other folds. The shipped config's ``abstain_below`` is the threshold calibrated on all
  questions, rounded to 0.05 (the script says so if it is not).
* **Previous answers** (the baseline, side by side): the extractive step as it was before
  issue 19, on the same retrieved passages: the two sentences nearest the question by cosine,
  never abstaining.
* Metrics: SQuAD exact match and token F1 on answerable questions (an abstention scores 0),
  abstention precision and recall on unanswerable ones, and a paired bootstrap of the per
  question F1 difference.

The questions were written by the author of the answer step from the knowledge-base files, so
this is a smoke-scale, in-domain check, not an independent benchmark.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

torch.set_num_threads(2)

REPO = Path(__file__).resolve().parents[1]
KB = REPO / "configs" / "kb"
QUESTIONS = REPO / "bench" / "data" / "kb_qa.jsonl"
OUT = REPO / "bench" / "results" / "qa_eval.md"


def previous_answer(encoder, passages: list[str], question: str) -> str:
    """The extractive answer before issue 19: the two sentences nearest by cosine alone."""
    import numpy as np

    from autoglm_text.extractive import sentences

    candidates = sentences(passages)
    if not candidates:
        return ""
    scores = encoder.embed(candidates) @ encoder.embed([question])[0]
    return " ".join(candidates[i] for i in np.argsort(scores)[::-1][:2])


#: The abstention precision the threshold must keep on the calibration questions: issue 19's
#: target is 0.9 on unseen questions, so calibration asks for a margin above it.
TARGET_PRECISION = 0.95


def calibrate(scores: list[float], answerable: list[bool]) -> float:
    """The threshold (abstain below it) catching the most unanswerable calibration questions
    while at least ``TARGET_PRECISION`` of its abstentions are unanswerable; ties go to the
    lower threshold (answer when in doubt). Candidates are midpoints between sorted scores."""
    ordered = sorted(scores)
    candidates = [ordered[0] - 1e-6] + [
        (a + b) / 2 for a, b in itertools.pairwise(ordered) if b > a
    ]
    best, best_recall = candidates[0], -1.0
    unanswerable = sum(not a for a in answerable) or 1
    for threshold in candidates:
        caught = sum(s < threshold and not a for s, a in zip(scores, answerable, strict=True))
        abstained = sum(s < threshold for s in scores)
        precision = caught / abstained if abstained else 1.0
        if precision >= TARGET_PRECISION and caught / unanswerable > best_recall:
            best, best_recall = threshold, caught / unanswerable
    return best


def main() -> None:
    from autoglm.engine import Engine
    from autoglm.store import RunStore
    from autoglm.testing import isolated_host
    from autoglm.workflow import load_workflow
    from autoglm_eval.api import paired_bootstrap, qa_report
    from autoglm_hf.api import from_spec

    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    host = isolated_host(["text", "hf"])
    workflow = load_workflow(REPO / "configs" / "qa-pipeline.yaml", host)
    shipped = workflow.nodes["answer"].config["abstain_below"]
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(host, RunStore(Path(tmp) / "runs.sqlite"), workers=2)
        encoder = from_spec({"kind": "hf-encoder", "model": "default", "device": "cpu"})
        started = time.perf_counter()
        for row in rows:
            result = engine.run(workflow, {"text": row["question"], "kb": str(KB)})
            assert result.status == "succeeded", result.error
            row["answer"] = result.outputs["answer"]
            row["abstained"] = result.outputs["abstained"]
            row["score"] = result.outputs["score"]
            passages = result.nodes["retrieve"].outputs["passages"]
            row["previous"] = previous_answer(encoder, passages, row["question"])
        seconds = time.perf_counter() - started
    # Out of fold: each question is judged with a threshold calibrated on the other folds.
    folds = 3
    for fold in range(folds):
        rest = [r for i, r in enumerate(rows) if i % folds != fold]
        threshold = calibrate([r["score"] for r in rest], [bool(r["answers"]) for r in rest])
        for i, row in enumerate(rows):
            if i % folds == fold:
                row["fold_threshold"] = threshold
                row["fold_abstained"] = row["score"] < threshold
    fitted = calibrate([r["score"] for r in rows], [bool(r["answers"]) for r in rows])
    thresholds = sorted({round(r["fold_threshold"], 3) for r in rows})
    golds = [r["answers"] for r in rows]
    new = qa_report([r["answer"] for r in rows], [r["fold_abstained"] for r in rows], golds)
    as_shipped = qa_report([r["answer"] for r in rows], [r["abstained"] for r in rows], golds)
    old = qa_report([r["previous"] for r in rows], [False] * len(rows), golds)
    boot = paired_bootstrap(old["f1_per_question"], new["f1_per_question"], seed=0)

    def listed(selected: list[dict]) -> str:
        return ", ".join(f'"{r["question"]}" ({r["score"]:.2f})' for r in selected) or "none"

    rounded = round(fitted * 20) / 20
    lines = [
        "## Question answering over configs/kb: answers and abstention (issue 19)",
        "",
        f"Machine: {os.cpu_count()} CPU cores, torch {torch.__version__}, 2 torch threads. "
        "Script: `bench/qa_eval.py`; questions: `bench/data/kb_qa.jsonl` "
        f"({new['answerable']} answerable, {new['unanswerable']} unanswerable, written from the "
        f"knowledge-base files). {len(rows)} runs of configs/qa-pipeline.yaml (extractive) in "
        f"{seconds:.0f} s.",
        "",
        "Abstention threshold: the one catching the most unanswerable calibration questions while "
        f"keeping abstention precision >= {TARGET_PRECISION} on them. Figures are **out of fold** "
        f"(3 folds by question index): each question is judged with the threshold calibrated on "
        f"the other two folds ({', '.join(map(str, thresholds))}). Calibrated on all "
        f"{len(rows)} questions: {fitted:.3f}; the config ships `abstain_below: {shipped}`"
        + ("." if abs(rounded - shipped) < 1e-9 else f" (**differs** from {rounded}: update it)."),
        "",
        "| answer step | exact match | token F1 | answerable abstained | abstention precision "
        "| abstention recall |",
        "|---|---|---|---|---|---|",
        f"| previous: 2 nearest sentences by cosine, never abstains | {old['exact_match']:.3f} | "
        f"{old['f1']:.3f} | 0 | n/a | 0.000 |",
        f"| now: cosine + question-word overlap, a second sentence only for another part of the "
        f"question, abstains below the fold's threshold | {new['exact_match']:.3f} | "
        f"{new['f1']:.3f} | {new['answerable_abstained']} | {new['abstention_precision']:.3f} | "
        f"{new['abstention_recall']:.3f} |",
        f"| now, with the shipped threshold {shipped} (calibrated on these same questions) | "
        f"{as_shipped['exact_match']:.3f} | {as_shipped['f1']:.3f} | "
        f"{as_shipped['answerable_abstained']} | {as_shipped['abstention_precision']:.3f} | "
        f"{as_shipped['abstention_recall']:.3f} |",
        "",
        f"Token F1 difference (now, out of fold - previous) on the answerable questions: "
        f"{boot['delta']:+.3f}, 95% CI [{boot['ci_low']:+.3f}, {boot['ci_high']:+.3f}], one-sided "
        f"paired bootstrap p = {boot['p_value']:.4f}. Target (issue 19): abstention precision >= "
        f"0.9 out of fold: **{'met' if new['abstention_precision'] >= 0.9 else 'missed'}**.",
        "",
        "Unanswerable questions answered anyway (out of fold): "
        + listed([r for r in rows if not r["answers"] and not r["fold_abstained"]])
        + ". Answerable questions abstained on: "
        + listed([r for r in rows if r["answers"] and r["fold_abstained"]])
        + ".",
        "",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    print(OUT.read_text(), file=sys.stderr)


if __name__ == "__main__":
    main()
