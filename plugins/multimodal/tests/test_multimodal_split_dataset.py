"""multimodal.split (whole groups per split), multimodal.dataset (memory-mapped arrays, a
leak between splits refused, incomplete items dropped and listed, reuse by content+config)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autoglm.testing import run_node
from autoglm_multimodal.errors import MultimodalError
from autoglm_multimodal.items import read_items, write_items
from autoglm_multimodal.nodes.audio import AudioNode
from autoglm_multimodal.nodes.dataset import DatasetNode
from autoglm_multimodal.nodes.source import SplitNode
from autoglm_multimodal.nodes.text import TextNode
from autoglm_multimodal.testing import fsdd_items

SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")


def test_split_keeps_each_speaker_on_one_side(tmp_path, fsdd_recordings):
    items = [
        {k: v for k, v in i.items() if k != "split"}
        for i in fsdd_items(fsdd_recordings, 1, SPEAKERS)
    ]
    manifest = str(write_items(tmp_path / "items.jsonl", items))
    out = run_node(
        SplitNode,
        {"test_fraction": 0.2, "val_fraction": 0.2, "seed": 3},
        {"items": manifest},
        home=tmp_path,
    )
    assert sum(out.counts.values()) == 60
    assert len(out.groups["test"]) == 2 and len(out.groups["val"]) == 1  # ceil(1.2), ceil(0.8)
    sides = {}
    for item in read_items(out.items):
        sides.setdefault(item["group"], set()).add(item["split"])
    assert all(len(s) == 1 for s in sides.values())
    named = run_node(
        SplitNode,
        {"test_groups": ["theo"], "val_groups": ["lucas"]},
        {"items": manifest},
        home=tmp_path,
    )
    assert named.groups == {
        "train": ["george", "jackson", "nicolas", "yweweler"],
        "val": ["lucas"],
        "test": ["theo"],
    }
    with pytest.raises(MultimodalError, match=r"unknown group\(s\) \['bob'\]"):
        run_node(SplitNode, {"test_groups": ["bob"]}, {"items": manifest}, home=tmp_path)


def _text_folder(tmp_path: Path, rows: list[dict], name: str) -> str:
    manifest = str(write_items(tmp_path / f"{name}.jsonl", rows))
    return run_node(TextNode, {"max_length": 3}, {"items": manifest}, home=tmp_path / name).folder


def test_a_group_in_two_splits_is_refused(tmp_path):
    rows = [
        {"id": "a", "label": 0, "group": "ann", "split": "train", "text": "x"},
        {"id": "b", "label": 1, "group": "ann", "split": "test", "text": "y"},
        {"id": "c", "label": 1, "group": "bob", "split": "val", "text": "y"},
    ]
    folder = _text_folder(tmp_path, rows, "t")
    manifest = str(write_items(tmp_path / "items.jsonl", rows))
    with pytest.raises(MultimodalError, match=r"'ann' in test\+train"):
        run_node(DatasetNode, {}, {"items": manifest, "features": {"text": folder}}, home=tmp_path)


def test_dataset_memory_maps_drops_incomplete_items_and_is_reused(tmp_path, fsdd_manifest):
    items = read_items(fsdd_manifest)
    items[5]["audio"] = str(tmp_path / "missing.wav")  # one recording is gone
    for item in items:
        item["text"] = f"digit {item['label']}"
    manifest = str(write_items(tmp_path / "items.jsonl", items))
    audio = run_node(
        AudioNode,
        {"sample_rate": 8000, "n_fft": 256, "hop_length": 80, "frames": 8},
        {"items": manifest},
        home=tmp_path / "a",
    )
    text = run_node(TextNode, {"max_length": 4}, {"items": manifest}, home=tmp_path / "t")
    inputs = {"items": manifest, "features": {"audio": audio.folder, "text": text.folder}}
    home = tmp_path / "home"
    out = run_node(DatasetNode, {}, inputs, home=home)
    assert (out.rows, out.dropped, out.reused) == (59, 1, False)
    assert out.counts == {"train": 19, "val": 20, "test": 20}
    assert out.groups == {"train": ["george"], "val": ["jackson"], "test": ["theo"]}
    folder = Path(out.dataset)
    manifest_json = json.loads((folder / "manifest.json").read_text())
    assert manifest_json["dropped_items"] == [{"id": items[5]["id"], "lacks": ["audio"]}]
    mapped = np.load(folder / "audio.features.npy", mmap_mode="r")
    assert isinstance(mapped, np.memmap) and mapped.shape == (59, 20, 8)
    assert np.load(folder / "text.input_ids.npy").shape == (59, 4)
    assert np.load(folder / "labels.npy").tolist()[:5] == [0, 0, 1, 1, 2]
    again = run_node(DatasetNode, {}, inputs, home=home)
    assert (again.reused, again.key, again.dataset) == (True, out.key, out.dataset)
    with pytest.raises(MultimodalError, match="1 item\\(s\\) lack a modality"):
        run_node(DatasetNode, {"drop_incomplete": False}, inputs, home=home)
