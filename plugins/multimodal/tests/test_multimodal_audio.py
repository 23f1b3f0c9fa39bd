"""multimodal.audio on real FSDD recordings and generated WAV/FLAC files: other sample rates
and channel counts, corrupt files (located, the others go on), the content cache, workers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from autoglm.testing import run_node
from autoglm_multimodal.errors import ItemsFailed, MultimodalError
from autoglm_multimodal.items import write_items
from autoglm_multimodal.nodes.audio import AudioNode
from autoglm_multimodal.testing import tone, write_wav

FSDD = {"sample_rate": 8000, "n_fft": 256, "hop_length": 80, "frames": 16}


def _features(out) -> np.ndarray:
    return np.load(Path(out.folder) / "features.npy")


def test_fsdd_slice_gives_standardised_fixed_length_features(tmp_path, fsdd_manifest):
    out = run_node(AudioNode, FSDD, {"items": str(fsdd_manifest)}, home=tmp_path)
    assert (out.items, out.ok, out.failed, out.problems) == (60, 60, 0, [])
    assert out.shape == [60, 20, 16]
    features = _features(out)
    assert np.isfinite(features).all()
    stats = json.loads(Path(out.stats_file).read_text())
    assert len(stats["mean"]) == 20 and out.fitted_on == stats["fitted_on"]
    # Training rows (the first 20 items) are standardised per coefficient by their own stats.
    assert abs(float(features[:20].mean())) < 0.3


def _items(tmp_path: Path, files: dict[str, Path]) -> Path:
    rows = [{"id": k, "split": "train", "audio": str(v)} for k, v in files.items()]
    return write_items(tmp_path / "items.jsonl", rows)


def test_other_sample_rates_are_resampled_to_the_same_features(tmp_path):
    files = {
        f"r{rate}": write_wav(tmp_path / f"tone_{rate}.wav", tone(rate, noise=0.0), rate)
        for rate in (8000, 16000, 44100)
    }
    config = FSDD | {"standardize": False, "trim_decibels": None, "length": "mean"}
    out = run_node(AudioNode, config, {"items": str(_items(tmp_path, files))}, home=tmp_path)
    assert out.ok == 3
    rows = _features(out)
    # A 440 Hz tone is the same tone at any rate once resampled: its mean MFCCs agree.
    assert np.abs(rows[1] - rows[0]).max() < 0.01 * np.abs(rows[0]).max()
    assert np.abs(rows[2] - rows[0]).max() < 0.01 * np.abs(rows[0]).max()


def test_a_rate_is_refused_when_resampling_is_off(tmp_path):
    files = {"a": write_wav(tmp_path / "a.wav", tone(8000), 8000)}
    files["b"] = write_wav(tmp_path / "b.wav", tone(22050), 22050)
    config = FSDD | {"resample": False, "standardize": False}
    out = run_node(AudioNode, config, {"items": str(_items(tmp_path, files))}, home=tmp_path)
    assert out.ok == 1
    assert out.problems == [
        f"{tmp_path / 'b.wav'}: sample rate 22050 Hz, expected 8000 Hz (set resample: true) "
        "(item 'b')"
    ]


def test_wrong_channel_count_and_corrupt_files_are_located_and_the_others_go_on(
    tmp_path, fsdd_recordings
):
    files = {f"ok{i}": fsdd_recordings / f"{i}_theo_0.wav" for i in range(4)}
    files["stereo"] = write_wav(tmp_path / "stereo.wav", tone(8000, channels=2), 8000)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(np.random.default_rng(1).bytes(3000))
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes((fsdd_recordings / "1_theo_1.wav").read_bytes()[:30])
    empty = tmp_path / "empty.wav"
    write_wav(empty, np.zeros((0, 1), np.float32), 8000)
    files |= {"garbage": garbage, "truncated": truncated, "empty": empty}
    files["missing"] = tmp_path / "nowhere.wav"
    items = _items(tmp_path, files)
    out = run_node(AudioNode, FSDD, {"items": str(items)}, home=tmp_path)
    assert (out.ok, out.failed) == (4, 5)
    lines = Path(out.problems_file).read_text().splitlines()
    by_item = {json.loads(line)["item"]: json.loads(line) for line in lines}
    assert by_item["stereo"]["file"] == str(tmp_path / "stereo.wav")
    assert "has 2 channel(s), expected 1" in by_item["stereo"]["problem"]
    assert "not a readable WAV/FLAC file" in by_item["garbage"]["problem"]
    assert "not a readable WAV/FLAC file" in by_item["truncated"]["problem"]
    assert "no samples" in by_item["empty"]["problem"]
    assert "cannot read the file" in by_item["missing"]["problem"]
    index = json.loads((Path(out.folder) / "features.json").read_text())
    assert index["ok"] == [True] * 4 + [False] * 5
    # The stereo file is usable once downmixing is allowed.
    mixed = run_node(AudioNode, FSDD | {"downmix": True}, {"items": str(items)}, home=tmp_path)
    assert mixed.ok == 5


def test_on_error_fail_lists_every_bad_file(tmp_path, fsdd_recordings):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    files = {"good": fsdd_recordings / "0_theo_0.wav", "bad": bad}
    with pytest.raises(ItemsFailed) as info:
        run_node(
            AudioNode,
            FSDD | {"on_error": "fail"},
            {"items": str(_items(tmp_path, files))},
            home=tmp_path,
        )
    assert str(bad) in str(info.value) and "1 audio item(s) failed" in str(info.value)


def test_statistics_without_training_items_say_what_to_do(tmp_path, fsdd_recordings):
    rows = [{"id": "a", "audio": str(fsdd_recordings / "0_theo_0.wav")}]  # no split yet
    manifest = str(write_items(tmp_path / "items.jsonl", rows))
    with pytest.raises(MultimodalError, match=r"no training rows .* \(multimodal.split\)"):
        run_node(AudioNode, FSDD, {"items": manifest}, home=tmp_path)
    out = run_node(AudioNode, FSDD | {"standardize": False}, {"items": manifest}, home=tmp_path)
    assert out.ok == 1 and out.stats_file is None


def test_flac_reads_like_wav(tmp_path):
    wave = tone(8000)
    files = {
        "wav": write_wav(tmp_path / "t.wav", wave, 8000),
        "flac": write_wav(tmp_path / "t.flac", wave, 8000, fmt="FLAC"),
    }
    config = FSDD | {"standardize": False}
    out = run_node(AudioNode, config, {"items": str(_items(tmp_path, files))}, home=tmp_path)
    rows = _features(out)
    # FLAC and WAV round 16-bit samples a least significant bit apart at places.
    assert out.ok == 2 and np.abs(rows[0] - rows[1]).max() < 0.01 * np.abs(rows[0]).max()


def test_content_cache_hits_on_a_copy_and_misses_on_another_config(tmp_path, fsdd_recordings):
    copy = tmp_path / "renamed.wav"
    shutil.copy(fsdd_recordings / "3_george_7.wav", copy)
    files = {"a": fsdd_recordings / "3_george_7.wav", "b": fsdd_recordings / "4_george_7.wav"}
    first = run_node(AudioNode, FSDD, {"items": str(_items(tmp_path, files))}, home=tmp_path)
    assert (first.cached, first.computed) == (0, 2)
    again = {"copy": copy, "b": fsdd_recordings / "4_george_7.wav"}
    second = run_node(AudioNode, FSDD, {"items": str(_items(tmp_path, again))}, home=tmp_path)
    assert (second.cached, second.computed) == (2, 0)
    assert np.array_equal(_features(first), _features(second))
    other = run_node(
        AudioNode, FSDD | {"n_mfcc": 13}, {"items": str(_items(tmp_path, again))}, home=tmp_path
    )
    assert (other.cached, other.computed) == (0, 2) and other.shape == [2, 13, 16]


def test_two_workers_give_the_same_features_as_one(tmp_path, fsdd_manifest):
    config = FSDD | {"memoize": False}
    one = run_node(AudioNode, config, {"items": str(fsdd_manifest)}, home=tmp_path)
    two = run_node(AudioNode, config | {"workers": 2}, {"items": str(fsdd_manifest)}, home=tmp_path)
    assert two.computed == 60
    assert np.array_equal(_features(one), _features(two))


def test_the_engine_cache_follows_a_recording_edited_in_place(tmp_path, autoglm_host, autoglm_home):
    """Same manifest path, same config: the engine would reuse the node's result, unless the
    node's state fingerprint (stat of the files the manifest names) changes with the file."""
    from autoglm import Engine, RunStore, parse_workflow

    wav = write_wav(tmp_path / "x.wav", tone(8000), 8000)
    manifest = _items(tmp_path, {"x": wav})
    text = (
        "nodes:\n  - id: audio\n    type: multimodal.audio\n"
        f"    config: {{sample_rate: 8000, n_fft: 256, hop_length: 80}}\n"
        f"    inputs: {{items: '{manifest}'}}\n"
    )
    host = autoglm_host(["multimodal"])
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"))

    def status() -> str:
        result = engine.run(parse_workflow(text, host))
        assert result.status == "succeeded", result.error
        return result.nodes["audio"].status

    assert status() == "succeeded"
    assert status() == "cached"
    write_wav(wav, tone(8000, seconds=0.7, hz=300), 8000)
    assert status() == "succeeded"
