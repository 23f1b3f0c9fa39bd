"""Prompt optimisation on SST-2 with the all-MiniLM-L6-v2 encoder, against its baselines.

SST-2 ``dev.tsv`` (872 sentences, ../shared/data/sst2) is split into two seeded, stratified
halves: the optimiser and the baselines choose on the *optimisation* half, every reported
figure is measured on the *held-out* half. Few-shot examples come from a seeded sample of
``train.tsv`` (never from the held-out half). Side by side:

1. hand-written zero-shot prompts (label descriptions), the best one chosen on the
   optimisation half;
2. the optimised prompt (Nevergrad over instruction, descriptions, shots, example draw,
   calibration and prototype weight), cold embedding cache, 2 CPU threads;
3. a logistic-regression probe on the same frozen embeddings: the ceiling of this model.

Writes ``bench/results/prompt_sst2.md``. Usage: ``python bench/prompt_sst2.py [--candidates N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from autoglm_eval.metrics import correctness
from autoglm_eval.significance import mcnemar, paired_bootstrap
from autoglm_hf.adapters import from_spec
from autoglm_prompt.budget import CallBudget
from autoglm_prompt.candidate import PromptCandidate
from autoglm_prompt.data import load_examples, sample_examples, split_examples
from autoglm_prompt.optimizer import PromptOptimizer, Settings, metric_value
from autoglm_prompt.scorers import EncoderScorer
from autoglm_prompt.space import PromptSpace

NOTES = """\
Notes. The optimised prompt uses the labelled few-shot pool as well as the optimisation half,
so the fair ceiling is the probe trained on both (0.80); the optimised prompt closes about 80% of
the gap between the best hand-written prompt and it. An earlier configuration that let the
optimiser choose among 3 seeded example draws per shot count (60 candidates, pool of 2000) reached
only 0.743 held out: picking the luckiest draw on 436 sentences overfits, so the space now has one
draw per shot count.
"""

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out" / "prompt_sst2"
RESULTS = ROOT / "results" / "prompt_sst2.md"

HAND_WRITTEN = [
    {"0": "negative", "1": "positive"},
    {"0": "bad", "1": "good"},
    {"0": "a negative review", "1": "a positive review"},
    {"0": "I hated it.", "1": "I loved it."},
    {
        "0": "This movie is terrible, boring and bad.",
        "1": "This movie is great, wonderful and good.",
    },
]

SPACE = PromptSpace(
    instructions=["", "Movie review:", "Sentiment of this movie review:"],
    verbalizers={
        "0": [v["0"] for v in HAND_WRITTEN],
        "1": [v["1"] for v in HAND_WRITTEN],
    },
    shots=[0, 32, 128, 500],
    # One seeded draw per shot count: choosing among draws on 436 sentences picks lucky
    # draws that do not carry over to held-out data (measured: 128 shots, best of 3 draws,
    # 0.78 on the optimisation half and 0.75 held out).
    example_sets=1,
    calibrations=["none", "batch"],
    example_weights=[0.5, 0.0, 0.75, 1.0],
)


def accuracy(scorer: EncoderScorer, candidate: PromptCandidate, rows: list[dict]) -> tuple:
    pred, _ = scorer.predict(candidate, [r["text"] for r in rows])
    return metric_value("accuracy", [r["label"] for r in rows], pred), pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--optimizer", default="NGOpt")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    dev = load_examples("sst2/dev.tsv")
    halves = split_examples(dev, {"opt": 0.5, "heldout": 0.5}, seed=args.seed)
    opt, heldout = halves["opt"], halves["heldout"]
    pool = sample_examples(load_examples("sst2/train.tsv"), args.pool, seed=args.seed)
    held_texts = {r["text"] for r in heldout}
    pool = [r for r in pool if r["text"] not in held_texts]  # never a held-out sentence

    cache = OUT / "embeddings"
    shutil.rmtree(cache, ignore_errors=True)  # cold cache: the timing includes every embedding
    started, cpu_started = time.perf_counter(), time.process_time()
    encoder = from_spec({"kind": "hf-encoder", "model": "default", "cache_dir": str(cache)})
    load_s = time.perf_counter() - started

    # 1. hand-written prompts: whole dev (reference), chosen on opt, reported on held-out
    scorer = EncoderScorer(encoder, CallBudget())
    hand = []
    for verbalizers in HAND_WRITTEN:
        candidate = PromptCandidate(verbalizers=verbalizers)
        hand.append(
            {
                "prompt": verbalizers,
                "dev": accuracy(scorer, candidate, dev)[0],
                "opt": accuracy(scorer, candidate, opt)[0],
                "heldout": accuracy(scorer, candidate, heldout),
            }
        )
    best_hand = max(hand, key=lambda h: h["opt"])

    # 2. optimised prompt (its own scorer and budget; the embedding cache is shared)
    t0 = time.perf_counter()
    budget = CallBudget(20_000)
    opt_scorer = EncoderScorer(encoder, budget)
    optimizer = PromptOptimizer(
        SPACE.for_encoder(),
        opt_scorer,
        opt,
        pool,
        Settings(
            candidates=args.candidates,
            seed=args.seed,
            optimizer=args.optimizer,
            max_calls=budget.max_calls,
        ),
    )
    plan = optimizer.plan()
    result = optimizer.run()
    search_s = time.perf_counter() - t0
    opt_acc, opt_pred = accuracy(opt_scorer, result.best, heldout)
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started

    # 3. logistic-regression probe on the same embeddings (plain sentences)
    from sklearn.linear_model import LogisticRegression

    def xy(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        return encoder.embed([r["text"] for r in rows]), np.array([r["label"] for r in rows])

    x_opt, y_opt = xy(opt)
    x_pool, y_pool = xy(pool)
    x_held, y_held = xy(heldout)
    probe_opt = LogisticRegression(max_iter=2000).fit(x_opt, y_opt).score(x_held, y_held)
    probe_all = (
        LogisticRegression(max_iter=2000)
        .fit(np.vstack([x_opt, x_pool]), np.concatenate([y_opt, y_pool]))
        .score(x_held, y_held)
    )

    truth = [r["label"] for r in heldout]
    a, b = correctness(truth, best_hand["heldout"][1]), correctness(truth, opt_pred)
    boot = paired_bootstrap(a, b, n_resamples=10_000)
    mc = mcnemar(a, b)
    write_results(
        args,
        hand,
        best_hand,
        result,
        plan,
        opt_acc,
        probe_opt,
        probe_all,
        boot,
        mc,
        load_s,
        search_s,
        total_s,
        cpu_s,
        len(opt),
        len(heldout),
        len(pool),
    )


def write_results(
    args,
    hand,
    best_hand,
    result,
    plan,
    opt_acc,
    probe_opt,
    probe_all,
    boot,
    mc,
    load_s,
    search_s,
    total_s,
    cpu_s,
    n_opt,
    n_held,
    n_pool,
) -> None:
    best = result.best.summary()
    lines = [
        "## Prompt optimisation on SST-2 (all-MiniLM-L6-v2 encoder)",
        "",
        f"`python bench/prompt_sst2.py --candidates {args.candidates} --pool {args.pool} "
        f"--seed {args.seed} --threads {args.threads}` on 2 CPU cores. SST-2 `dev.tsv` split in "
        f"two seeded stratified halves: {n_opt} sentences to choose on, {n_held} held out; "
        f"few-shot pool: {n_pool} phrases sampled from `train.tsv`. Every accuracy below is on "
        "the held-out half unless marked otherwise.",
        "",
        "| method | held-out accuracy | notes |",
        "|---|---|---|",
        f"| best hand-written prompt (chosen on the optimisation half) | "
        f"{best_hand['heldout'][0]:.4f} | descriptions {best_hand['prompt']} |",
        f"| **optimised prompt** (Nevergrad {args.optimizer}, {len(result.trials)} candidates) | "
        f"**{opt_acc:.4f}** | optimisation-half accuracy {result.best_score:.4f} "
        f"(start {result.start_score:.4f}) |",
        f"| logistic-regression probe, trained on the optimisation half | {probe_opt:.4f} | "
        "ceiling of the frozen encoder |",
        f"| logistic-regression probe, trained on optimisation half + pool | {probe_all:.4f} | |",
        "",
        f"Optimised vs best hand-written on the same held-out sentences: delta "
        f"{boot['delta']:+.4f}, 95% paired-bootstrap CI [{boot['ci_low']:+.4f}, "
        f"{boot['ci_high']:+.4f}]; McNemar p = {mc['p_value']:.2g} ({mc['only_b']} sentences "
        f"fixed, {mc['only_a']} broken).",
        "",
        f"Time: {total_s:.0f} s wall in all with a cold embedding cache (model load "
        f"{load_s:.1f} s, search {search_s:.0f} s), {cpu_s:.0f} s of CPU time over "
        f"{args.threads} threads; load average at the end {os.getloadavg()[0]:.1f} (the "
        f"machine is shared). Model calls (texts embedded): {result.calls}, estimated "
        f"beforehand {plan['estimated_calls']} (upper bound); candidates scored "
        f"{len(result.trials)}, of which {sum(t['reused'] for t in result.trials)} repeats "
        "cost nothing.",
        "",
        f"Best prompt: instruction {best['instruction']!r}, descriptions {best['verbalizers']}, "
        f"{best['shots']} examples per label, calibration {best['calibrate']!r}, prototype "
        f"weight {best['example_weight']}.",
        "",
        "Hand-written prompts (zero-shot, cosine to the embedded description):",
        "",
        "| descriptions | whole dev | optimisation half | held-out half |",
        "|---|---|---|---|",
    ]
    for h in hand:
        lines.append(
            f"| {h['prompt']['0']!r} / {h['prompt']['1']!r} | {h['dev']:.4f} | {h['opt']:.4f} | "
            f"{h['heldout'][0]:.4f} |"
        )
    verdict = lambda ok: "met" if ok else "missed"  # noqa: E731
    lines += [
        "",
        f"Target >= 0.77 held-out accuracy: **{verdict(opt_acc >= 0.77)}**; within 10 minutes "
        f"on 2 cores: **{verdict(total_s <= 600)}** by wall clock, "
        f"**{verdict(cpu_s <= 1200)}** by CPU time (<= 2 x 600 CPU-seconds).",
        "",
        NOTES,
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
