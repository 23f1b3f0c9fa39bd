"""What else could lift the fine-tune (issue 19)? Weight averages and heads on its embeddings,
each read from the same training runs as the fine-tune at its defaults, so every comparison is
paired run by run.

Run from the repository root:  .venv/bin/python bench/finetune_variants.py [hwu64|sst2 ...]
Writes bench/results/finetune_variants.md; each data set's runs are kept under
bench/out/finetune_variants/ (rerunning only re-reports them). ``--set field=value`` (repeatable)
changes the node's config, e.g. ``--set epochs=5`` for a longer schedule; such runs are kept and
reported apart (``finetune_variants_epochs5.md``). Two pairs of members (seeds 0-1,
the node's own, and 2-3), each pair averaged as the node averages its two members.

The fine-tune is ``finetune.classifier`` at its defaults (full mode, 1 frozen layer, 3 epochs,
LP-FT head, label smoothing 0.1, members seeded 0 and 1; the contrastive term at 0.3 on
same-label-pair batches since 2026-12-02, off in the reports written before) on the splits
its node makes (HWU64: train.tsv minus a seeded 10% validation split, scored on test.tsv;
SST-2: adapt_hwu64's 8,000 training phrases and halves of dev.tsv). Beside its own weights,
observed on the same runs:

* **EMA**: an exponential moving average of the trained weights (decays 0.99 and 0.998 per
  step), scored at every epoch's end;
* **SWA**: the uniform average of the epoch-end weights (the last two; all three);
* **heads on the fine-tuned embeddings**: a logistic probe refitted on them (C as the node's),
  and k-nearest-neighbour label votes over the training texts (k 10, 20), alone and
  interpolated with the fine-tune's probabilities (weight chosen on validation);
* **a lexical model** (``bench/lexical_model.py``: TF-IDF of words and character n-grams
  under logistic regression, fitted on the training texts once and shared by the members),
  alone and interpolated the same way: a view of the text that the encoder does not share.

Each variant keeps its own best validation epoch, as early stopping does for the fine-tune;
members are averaged as the node averages them. Validation decides; test is reported with
McNemar's test against the fine-tune.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autoglm_finetune.ensemble import accuracy
from autoglm_finetune.heads import softmax_rows

torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
RESULTS = REPO / "bench" / "results" / "finetune_variants.md"
WORK = REPO / "bench" / "out" / "finetune_variants"
SEED_PAIRS = ((0, 1), (2, 3))
EMA_DECAYS = (0.99, 0.998)
KNN = ((10, 0.05), (20, 0.1))  # (neighbours, softmax temperature over their cosines)
TITLES = {
    "hwu64": "HWU64: test.tsv, 1,076 texts",
    "sst2": "SST-2: held-out half of dev.tsv, 436 sentences",
}


def splits_of(name: str, folder: Path, changes: dict[str, Any]) -> tuple[Any, Any]:
    """(the node's config at its defaults but for ``changes``, the splits its node trains and
    scores on)."""
    from autoglm_finetune.config import ClassifierConfig, DataInputs
    from autoglm_finetune.data import node_splits

    if name == "sst2":
        from adapt_hwu64 import sst2_files

        inputs = sst2_files(folder)
    else:
        inputs = {"train": "hwu64/train.tsv", "test": "hwu64/test.tsv"}
    cfg = ClassifierConfig.model_validate({"mode": "full", "seed": 0, **changes})
    return cfg, node_splits(cfg, DataInputs.model_validate(inputs))


class WeightWatch:
    """The observers: EMAs updated every step, epoch-end snapshots, and every variant's
    validation and test probabilities at each epoch's end."""

    def __init__(self, score, averages: bool = True) -> None:
        self.score = score  # (model, head) -> {"val": probs, "test": probs}
        self.averages = averages  # False (--plain): the fine-tune's own weights only
        self.emas: dict[float, list[Any]] = {}
        self.snapshots: list[list[Any]] = []
        self.epochs: list[dict[str, dict[str, np.ndarray]]] = []

    def after_step(self, params: list[Any]) -> None:
        if not self.averages:
            return
        with torch.no_grad():
            for decay in EMA_DECAYS:
                ema = self.emas.setdefault(decay, [p.detach().clone() for p in params])
                for average, p in zip(ema, params, strict=True):
                    average.mul_(decay).add_(p.detach(), alpha=1 - decay)

    def after_epoch(self, epoch: int, model: Any, head: Any, params: list[Any]) -> None:
        if not self.averages:
            self.epochs.append({"fine-tune": self.score(model, head)})
            return
        self.snapshots.append([p.detach().clone() for p in params])
        weights = {f"EMA {d}": self.emas[d] for d in EMA_DECAYS}
        if epoch >= 2:
            weights["SWA, last 2 epochs"] = mean_weights(self.snapshots[-2:])
        if epoch >= 3:
            weights["SWA, all epochs"] = mean_weights(self.snapshots)
        row = {"fine-tune": self.score(model, head)}
        for name, values in weights.items():
            with swapped(params, values):
                row[name] = self.score(model, head)
        self.epochs.append(row)


def mean_weights(snapshots: list[list[Any]]) -> list[Any]:
    return [sum(v) / len(v) for v in zip(*snapshots, strict=True)]


@contextmanager
def swapped(params: list[Any], values: list[Any]) -> Iterator[None]:
    """``params`` hold ``values`` inside the block, their own values again after it."""
    saved = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, v in zip(params, values, strict=True):
            p.copy_(v)
    try:
        yield
    finally:
        with torch.no_grad():
            for p, v in zip(params, saved, strict=True):
                p.copy_(v)


def knn_probabilities(query: np.ndarray, keys: np.ndarray, onehot: np.ndarray, k: int, tau: float):
    """Votes of the k most similar training texts (cosine; unit vectors), weighted by a
    softmax of their similarities at temperature ``tau``."""
    similarity = query @ keys.T
    top = np.argpartition(-similarity, k, axis=1)[:, :k]
    weights = softmax_rows(np.take_along_axis(similarity, top, axis=1) / tau)
    return np.einsum("nk,nkc->nc", weights, onehot[top])


def run_member(seed: int, setup: dict[str, Any]) -> dict[str, Any]:
    """One seeded fine-tune, observed: every variant's per-epoch probabilities, then the heads
    on its kept epoch's embeddings."""
    from dataclasses import replace

    from autoglm_finetune import encoder_train as et
    from autoglm_finetune import layer_cache as lc
    from autoglm_finetune.probe import fit_logistic

    cfg, frozen = setup["cfg"], setup["frozen"]
    train_states, val_states, test_states = setup["states"]

    def score(model: Any, head: Any) -> dict[str, np.ndarray]:
        with torch.no_grad():
            return {
                part: torch.softmax(
                    head(torch.from_numpy(lc.embed_states(model, s, frozen))), 1
                ).numpy()
                for part, s in (("val", val_states), ("test", test_states))
            }

    started = time.process_time()
    model = setup["load"]()
    watch = WeightWatch(score, averages=not setup["plain"])
    _, history, val_vectors = et.finetune_classifier(
        model,
        setup["tokenizer"],
        (setup["texts"], setup["y"]),
        (setup["val_texts"], setup["yv"]),
        setup["classes"],
        replace(setup["settings"], seed=seed),
        init_head=setup["probe"].layers[0],
        cached=(train_states, val_states),
        observers=et.Observers(watch.after_step, watch.after_epoch),
    )
    kept = et.best_epoch(history)
    variants = {}
    for name in watch.epochs[-1]:
        rows = [(i + 1, r[name]) for i, r in enumerate(watch.epochs) if name in r]
        accs = [accuracy(r["val"], setup["yv"]) for _, r in rows]
        epoch, best = rows[accs.index(max(accs))]
        variants[name] = {"epoch": epoch, **best}
    train_x = lc.embed_states(model, train_states, frozen)  # the kept epoch's weights
    test_x = lc.embed_states(model, test_states, frozen)
    refitted = fit_logistic(train_x, np.asarray(setup["y"]), C=cfg.C, seed=cfg.seed)
    variants["probe on fine-tuned embeddings"] = {
        "epoch": kept,
        "val": refitted.probabilities(val_vectors),
        "test": refitted.probabilities(test_x),
    }
    onehot = np.eye(setup["classes"])[np.asarray(setup["y"])]
    for k, tau in KNN:
        variants[f"kNN, k={k}"] = {
            "epoch": kept,
            "val": knn_probabilities(val_vectors, train_x, onehot, k, tau),
            "test": knn_probabilities(test_x, train_x, onehot, k, tau),
        }
    variants["lexical model"] = {"epoch": kept, **setup["lexical"]}
    return {"variants": variants, "cpu": time.process_time() - started}


def prepare(name: str, folder: Path, changes: dict[str, Any], plain: bool) -> dict[str, Any]:
    """Splits, the frozen layers' cached states and the LP-FT probe: shared by the members."""
    from lexical_model import fit_lexical

    from autoglm_finetune import encoder_train as et
    from autoglm_finetune import layer_cache as lc
    from autoglm_finetune.probe import fit_logistic
    from autoglm_hf.api import default_encoder_path, from_spec

    cfg, splits = splits_of(name, folder, changes)
    path = default_encoder_path()
    model, tokenizer = et.load_trainable(path)
    settings = et.settings_of(cfg)
    frozen = et.frozen_count(model, settings)
    texts, val_texts, test_texts = (splits.texts(p) for p in ("train", "validation", "test"))
    encoder = from_spec({"kind": "hf-encoder", "model": cfg.encoder, "device": "cpu"})
    y = splits.targets("train")
    probe = fit_logistic(encoder.embed(texts, batch_size=32), np.asarray(y), C=cfg.C, seed=0)
    lexical = fit_lexical(texts, y, classes=len(splits.labels))
    spare = [model]
    return {
        "cfg": cfg,
        "plain": plain,
        "settings": settings,
        "frozen": frozen,
        "tokenizer": tokenizer,
        "load": lambda: spare.pop() if spare else et.load_trainable(path)[0],
        "texts": texts,
        "val_texts": val_texts,
        "y": y,
        "yv": splits.targets("validation"),
        "yt": splits.targets("test"),
        "classes": len(splits.labels),
        "probe": probe,
        "lexical": {
            "val": lexical.probabilities(val_texts),
            "test": lexical.probabilities(test_texts),
        },
        "states": [
            lc.bottom_states(model, tokenizer, t, settings.max_length, frozen)
            for t in (texts, val_texts, test_texts)
        ],
    }


def measure(
    name: str, seeds: tuple[int, int], changes: dict[str, Any], plain: bool = False
) -> dict[str, Any]:
    """A pair of members' observed runs on one data set (kept on disk; computed once; a plain
    run's file serves only plain reports)."""
    path = WORK / f"{name}-s{seeds[0]}-{seeds[1]}{mark_of(changes, plain)}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        setup = prepare(name, Path(tmp), changes, plain)
        members = []
        for seed in seeds:
            members.append(run_member(seed, setup))
            print(f"{name} seed {seed}: {members[-1]['cpu']:.0f} CPU s", flush=True)
    result = {"members": members, "yv": setup["yv"], "yt": setup["yt"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(result))
    return result


def variant_rows(result: dict[str, Any]) -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    """(variant, validation probabilities, test probabilities, note) of a pair of members:
    each variant averaged over the members, then the fine-tune interpolated with each head on
    its embeddings, the weight chosen on validation without and with the node's margin."""
    from autoglm_finetune.ensemble import average, blend, choose_weight

    members = [m["variants"] for m in result["members"]]

    def joint(variant: str, part: str) -> np.ndarray:
        return average([m[variant][part] for m in members])

    rows = [(v, joint(v, "val"), joint(v, "test"), "") for v in members[0]]
    for variant in [v for v in members[0] if v.startswith(("kNN", "probe on", "lexical"))]:
        for margin in (0.0, 0.01):
            weight, _ = choose_weight(
                joint("fine-tune", "val"), joint(variant, "val"), result["yv"], margin=margin
            )
            rows.append(
                (
                    f"fine-tune + {variant}, margin {margin:g}",
                    blend(joint("fine-tune", "val"), joint(variant, "val"), weight),
                    blend(joint("fine-tune", "test"), joint(variant, "test"), weight),
                    f"weight {weight:.1f} chosen on validation",
                )
            )
    return rows


def correct_of(probabilities: np.ndarray, targets: list[int]) -> np.ndarray:
    return (probabilities.argmax(1) == np.asarray(targets)).astype(int)


def table(name: str, seeds: tuple[int, int], result: dict[str, Any]) -> list[str]:
    from autoglm_eval.api import mcnemar

    yv, yt = result["yv"], result["yt"]
    members = [m["variants"] for m in result["members"]]
    rows = variant_rows(result)
    lines = [
        f"### {TITLES[name]}; members seeded {seeds[0]} and {seeds[1]}",
        "",
        "| variant | epochs kept (per member) | validation | test | test vs fine-tune: "
        "difference, McNemar p | note |",
        "|---|---|---|---|---|---|",
    ]
    base_correct = correct_of(rows[0][2], yt)
    for variant, val, test, note in rows:
        correct = correct_of(test, yt)
        epochs = ", ".join(str(m[variant]["epoch"]) for m in members if variant in m)
        versus = (
            "(reference)"
            if variant == "fine-tune"
            else f"{correct.mean() - base_correct.mean():+.4f}, "
            f"p = {mcnemar(base_correct, correct)['p_value']:.2g}"
        )
        lines.append(
            f"| {variant} | {epochs} | {accuracy(val, yv):.4f} | {correct.mean():.4f} | "
            f"{versus} | {note} |"
        )
    cpu = ", ".join(f"{m['cpu']:.0f}" for m in result["members"])
    lines += ["", f"CPU s per observed member (training plus every variant's scoring): {cpu}.", ""]
    return lines


def summary(results: dict[tuple[str, tuple[int, int]], dict[str, Any]]) -> list[str]:
    """Every variant against the fine-tune in each (data set, pair) case, in points of
    validation and test accuracy, and the mean test difference over the cases."""
    cases = list(results)
    deltas: dict[str, list[tuple[float, float]]] = {}
    for case in cases:
        result = results[case]
        rows = variant_rows(result)
        base_val, base_test = (accuracy(rows[0][i], result[y]) for i, y in ((1, "yv"), (2, "yt")))
        for variant, val, test, _ in rows[1:]:
            deltas.setdefault(variant, []).append(
                (100 * (accuracy(val, result["yv"]) - base_val),
                 100 * (accuracy(test, result["yt"]) - base_test))
            )  # fmt: skip
    heads = [f"{TITLES[n].split(':')[0]} {a}-{b}" for n, (a, b) in cases]
    lines = [
        "### Summary: each variant minus the fine-tune (points; validation / test)",
        "",
        "| variant | " + " | ".join(heads) + " | mean test |",
        "|---|" + "---|" * (len(cases) + 1),
    ]
    for variant, values in deltas.items():
        cells = " | ".join(f"{v:+.2f} / {t:+.2f}" for v, t in values)
        mean = sum(t for _, t in values) / len(values)
        lines.append(f"| {variant} | {cells} | {mean:+.2f} |")
    return [*lines, ""]


def member_counts(results: dict[tuple[str, tuple[int, int]], dict[str, Any]]) -> list[str]:
    """The fine-tune with 1, 2, ... members (every observed member of a data set, in seed
    order): does spending the workflow's remaining budget on members pay?"""
    from autoglm_finetune.ensemble import average

    lines = [
        "### The fine-tune with more members (seeds 0, 1, 2, 3 averaged in order; validation "
        "/ test)",
        "",
    ]
    for name in dict.fromkeys(n for n, _ in results):
        pairs = [r for (n, _), r in results.items() if n == name]
        members = [m["variants"]["fine-tune"] for r in pairs for m in r["members"]]
        yv, yt = pairs[0]["yv"], pairs[0]["yt"]
        cells = []
        for count in range(1, len(members) + 1):
            val = accuracy(average([m["val"] for m in members[:count]]), yv)
            test = accuracy(average([m["test"] for m in members[:count]]), yt)
            cells.append(f"{count}: {val:.4f} / {test:.4f}")
        lines.append(f"* {TITLES[name].split(':')[0]}: " + "; ".join(cells))
    return [*lines, ""]


def mark_of(changes: dict[str, Any], plain: bool) -> str:
    """``{"epochs": 5}``, plain -> ``_epochs5_plain``: the file-name mark of runs with a
    changed config (their kept runs and their report alike)."""
    marks = [f"_{field}{value}" for field, value in sorted(changes.items())]
    return "".join(marks) + ("_plain" if plain else "")


def parse_changes(pairs: list[str]) -> dict[str, Any]:
    """``["epochs=5"]`` -> ``{"epochs": 5}`` (values read as JSON where they parse)."""
    changes = {}
    for pair in pairs:
        field, _, value = pair.partition("=")
        try:
            changes[field] = json.loads(value)
        except json.JSONDecodeError:
            changes[field] = value
    return changes


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"data sets ({', '.join(TITLES)}; all by default)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument(
        "--plain", action="store_true", help="no weight averages (EMA, SWA): cheaper runs"
    )
    parser.add_argument("--pairs", type=int, default=len(SEED_PAIRS), help="seed pairs to run")
    args = parser.parse_args(argv)
    changes = parse_changes(args.set)
    names = args.names or list(TITLES)
    if unknown := set(names) - set(TITLES):
        parser.error(f"unknown data set(s) {sorted(unknown)}: expected {list(TITLES)}")
    results = {
        (n, seeds): measure(n, seeds, changes, args.plain)
        for n in names
        for seeds in SEED_PAIRS[: args.pairs]
    }
    sections = summary(results) + member_counts(results)
    for (name, seeds), result in results.items():
        sections += table(name, seeds, result)
    command = " ".join([*names, *(f"--set {f}={json.dumps(v)}" for f, v in changes.items())])
    command += " --plain" * args.plain
    if args.pairs != len(SEED_PAIRS):
        command += f" --pairs {args.pairs}"
    changed = f" but {json.dumps(changes)}" if changes else ""
    pairs = " and ".join(f"{a}-{b}" for a, b in SEED_PAIRS[: args.pairs])
    observed = (
        "Only the fine-tune's own weights observed (--plain: no weight averages)"
        if args.plain
        else "EMA: moving average of the trained weights (decay per step "
        f"{', '.join(map(str, EMA_DECAYS))}); SWA: mean of epoch-end weights"
    )
    header = [
        "## Fine-tune variants: weight averages and heads on the fine-tuned embeddings (issue 19)",
        "",
        f"`python bench/finetune_variants.py {command}`: the fine-tune at "
        f"`finetune.classifier`'s defaults{changed}, two members averaged (seeds {pairs}; "
        "0-1 as the node trains them), observed during training; every variant comes from "
        f"the same runs (paired). {observed}; kNN: votes of the nearest training texts on the "
        "fine-tuned embeddings (temperature 0.05 at k=10, 0.1 at k=20); lexical model: TF-IDF of "
        "words and character n-grams under logistic regression. Each variant keeps its "
        "best validation epoch; interpolations choose their weight on validation (0, 0.1, "
        "..., 1; with margin 0.01 a blend must win there by a point, the node's rule). 1 torch "
        "thread, 2 shared cores.",
        "",
    ]
    out = RESULTS.with_name(f"{RESULTS.stem}{mark_of(changes, args.plain)}.md")
    out.write_text("\n".join(header + sections))
    print(out.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
