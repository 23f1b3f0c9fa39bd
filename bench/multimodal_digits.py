"""Benchmark of the multimodal plugin on FSDD spoken digits paired with written digits.

Run from the repository root:  .venv/bin/python bench/multimodal_digits.py
Writes bench/results/multimodal_digits.md. Measures, side by side:

1. Preprocessing throughput over all 3,000 FSDD recordings (MFCC features): a plain loop over
   torchaudio (``torchaudio.load`` + ``torchaudio.transforms.MFCC``, the baseline) against
   ``multimodal.audio`` with 1 and 2 worker processes (content cache off: every file decoded,
   checked, trimmed and featurised) and with a warm content cache. Best of two passes each.
2. Speaker-held-out accuracy, one fold per speaker (test on that speaker, validate on the next
   one, train on the other four), with the configuration of configs/multimodal-digits.yaml:
   audio-only, image-only, early and late fusion (``multimodal.fuse``), reported per speaker
   and as mean and spread over the six speakers. Statistics (MFCC standardisation, image
   normalisation) are refitted on each fold's training speakers.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "results" / "multimodal_digits.md"
WORKFLOW = REPO / "configs" / "multimodal-digits.yaml"
SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]


def workflow_configs() -> dict[str, dict]:
    """Node configs of the shipped workflow, so the benchmark measures what it runs."""
    nodes = yaml.safe_load(WORKFLOW.read_text())["nodes"]
    return {n["id"]: n.get("config", {}) for n in nodes}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker pool's)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measured(run, count: int) -> tuple[float, float]:
    """(files per wall second, CPU milliseconds per file) of one pass."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return count / wall, 1000 * cpu / count


def plain_loop(files: list[Path], audio: dict) -> None:
    """The baseline: torchaudio.load then torchaudio's MFCC, nothing else."""
    import torchaudio

    transform = torchaudio.transforms.MFCC(
        sample_rate=audio["sample_rate"],
        n_mfcc=audio["n_mfcc"],
        melkwargs={
            "n_fft": audio["n_fft"],
            "hop_length": audio["hop_length"],
            "n_mels": audio["n_mels"],
        },
    )
    for path in files:
        wave, _ = torchaudio.load(str(path))
        transform(wave)


def node_pass(home: Path, items: str, audio: dict, workers: int, memoize: bool) -> None:
    from autoglm.testing import run_node
    from autoglm_multimodal.nodes.audio import AudioNode

    config = audio | {"workers": workers, "memoize": memoize}
    out = run_node(AudioNode, config, {"items": items}, home=home)
    assert out.ok == 3000, out.problems


def throughput(
    home: Path, items: str, audio: dict, files: list[Path]
) -> dict[str, tuple[float, float]]:
    """Per pipeline: (files/s, CPU ms per file) of the pass with the best wall time of two."""
    count = len(files)
    passes = [
        ("plain loop over torchaudio (baseline)", lambda: plain_loop(files, audio)),
        ("multimodal.audio, 1 worker", lambda: node_pass(home, items, audio, 1, False)),
        ("multimodal.audio, 2 workers", lambda: node_pass(home, items, audio, 2, False)),
    ]
    node_pass(home, items, audio, 1, True)  # fill the content cache
    passes.append(
        ("multimodal.audio, warm content cache", lambda: node_pass(home, items, audio, 1, True))
    )
    results = {}
    for _ in range(2):  # interleaved rounds: a burst of load hits every pipeline alike
        for label, run in passes:
            speed = measured(run, count)
            if label not in results or speed[0] > results[label][0]:
                results[label] = speed
            print(f"{label}: {speed[0]:.0f} files/s, {speed[1]:.2f} CPU ms/file", flush=True)
    return results


def folds(home: Path, items: str, configs: dict[str, dict]) -> dict[str, dict[str, float]]:
    from autoglm.testing import run_node
    from autoglm_multimodal.nodes.audio import AudioNode
    from autoglm_multimodal.nodes.dataset import DatasetNode
    from autoglm_multimodal.nodes.fuse import FuseNode
    from autoglm_multimodal.nodes.image import ImageNode
    from autoglm_multimodal.nodes.source import SplitNode

    models = {
        "audio only": {"modalities": ["audio"]},
        "image only": {"modalities": ["image"]},
        "early fusion": {"modalities": ["audio", "image"], "fusion": "early"},
        "late fusion": {"modalities": ["audio", "image"], "fusion": "late"},
    }
    scores: dict[str, dict[str, float]] = {m: {} for m in models}
    for k, test in enumerate(SPEAKERS):
        val = SPEAKERS[(k + 1) % len(SPEAKERS)]
        split = run_node(
            SplitNode, {"test_groups": [test], "val_groups": [val]}, {"items": items}, home=home
        )
        audio = run_node(AudioNode, configs["audio"], {"items": split.items}, home=home)
        image = run_node(ImageNode, configs["image"], {"items": split.items}, home=home)
        features = {"audio": audio.folder, "image": image.folder}
        dataset = run_node(DatasetNode, {}, {"items": split.items, "features": features}, home=home)
        for name, config in models.items():
            out = run_node(
                FuseNode, config | {"report_test": True}, {"dataset": dataset.dataset}, home=home
            )
            scores[name][test] = out.test_acc
        print(test, {m: round(s[test], 3) for m, s in scores.items()}, flush=True)
    return scores


def main() -> None:
    from autoglm.paths import data_dir
    from autoglm.testing import run_node
    from autoglm_multimodal.nodes.source import PairDigitsNode

    configs = workflow_configs()
    recordings = data_dir() / "fsdd" / "recordings"
    files = sorted(recordings.glob("*.wav"))
    home = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    start = time.perf_counter()
    pair = run_node(PairDigitsNode, configs["pair"], {}, home=home)
    pair_seconds = time.perf_counter() - start
    from autoglm_multimodal.nodes.source import SplitNode

    split = run_node(SplitNode, configs["split"], {"items": pair.items}, home=home)
    audio = {k: v for k, v in configs["audio"].items() if k != "workers"}
    speeds = throughput(home, split.items, audio, files)
    load = os.getloadavg()[0]
    scores = folds(home, pair.items, configs)
    write_report(speeds, scores, pair_seconds, len(files), load)


def write_report(speeds: dict, scores: dict, pair_seconds: float, count: int, load: float) -> None:
    base = speeds["plain loop over torchaudio (baseline)"]
    lines = [
        "## Multimodal preprocessing and fusion (autoglm-multimodal)",
        "",
        f"Machine: 2 CPU cores shared with other jobs, torch {torch.__version__}, one torch "
        "thread per process. Script: `bench/multimodal_digits.py`; data: FSDD (3,000 "
        "recordings, 6 speakers) paired with scikit-learn's 8x8 written digits "
        f"(`multimodal.pair_digits`, {pair_seconds:.1f} s), configuration of "
        "`configs/multimodal-digits.yaml`.",
        "",
        f"### Audio preprocessing throughput ({count} recordings, MFCC, best of two passes)",
        "",
        f"Load average during the run: {load:.1f} on 2 cores (other engineers' jobs), so the "
        "wall-clock rates are what a shared machine gave, and CPU milliseconds per file "
        "(this process and its workers) is the figure that does not depend on the load.",
        "",
        "| pipeline | files / s | vs baseline | CPU ms / file | cores obtained |",
        "|---|---|---|---|---|",
    ]
    for label, (speed, cpu) in speeds.items():
        cores = speed * cpu / 1000
        lines.append(
            f"| {label} | {speed:.0f} | {speed / base[0]:.2f}x | {cpu:.2f} | {cores:.2f} |"
        )
    one, two = speeds["multimodal.audio, 1 worker"], speeds["multimodal.audio, 2 workers"]
    cores_one, cores_two = one[0] * one[1] / 1000, two[0] * two[1] / 1000
    if cores_two < 1.3 * cores_one:
        scaling = (
            "with the load above, this session got about the same share of the 2 cores with "
            f"2 processes ({cores_two:.2f} cores) as with one ({cores_one:.2f}), so a second "
            "worker had no idle core to use, and it costs some CPU of its own (forking, "
            "returning arrays). The pool pays off where cores are free, which this machine "
            "could not show during the run."
        )
    else:
        scaling = f"the pool used {cores_two:.2f} cores against {cores_one:.2f} for one process."
    lines += [
        "",
        "The node does more per file than the baseline (reads the bytes once for the content "
        "hash, checks channels and sample rate, trims silence, standardises with training "
        "statistics, writes a memory-mappable array, records problems): that is the CPU per "
        f"file of 1 worker against the plain loop ({one[1] / base[1]:.2f}x). 2 workers ran "
        f"at {two[0] / one[0]:.2f}x the rate of 1; 'cores obtained' (files/s x CPU seconds "
        f"per file) says why: {scaling} The warm cache is a second run over unchanged files "
        "and config: no file is decoded.",
        "",
        "### Speaker-held-out test accuracy (one fold per speaker)",
        "",
        "| model | " + " | ".join(SPEAKERS) + " | mean | std over speakers | worst |",
        "|---|" + "---|" * (len(SPEAKERS) + 3),
    ]
    for model, per in scores.items():
        values = [per[s] for s in SPEAKERS]
        summary = [statistics.mean(values), statistics.pstdev(values), min(values)]
        cells = " | ".join(f"{v:.3f}" for v in [*values, *summary])
        lines.append(f"| {model} | {cells} |")
    late, audio, image = scores["late fusion"], scores["audio only"], scores["image only"]
    beats = sum(late[s] > max(audio[s], image[s]) for s in SPEAKERS)
    ties = sum(late[s] == max(audio[s], image[s]) for s in SPEAKERS)
    lines += [
        "",
        f"Late fusion beats both single modalities on {beats} of 6 held-out speakers and ties "
        f"the better one on {ties}. Each test speaker is a voice the audio model never heard, "
        "and brings written digits no training item carried (each speaker has its own share of "
        "the images), so neither branch can pass by memory. Audio alone varies most from "
        "speaker to speaker (accents: see `fsdd/metadata.py`); the late-fusion head weights are "
        "chosen on the validation speaker, never on the test one. Early fusion (one MLP over "
        "the concatenated inputs) lets the larger audio input dominate and is shown as the "
        "contrast. Each fold trains one seed (seed 0).",
        "",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
