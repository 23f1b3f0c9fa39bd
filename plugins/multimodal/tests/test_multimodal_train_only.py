"""Fitted statistics never touch test data (issue 15).

Each preprocessing node is run twice on the same items, the second time with every
validation and test item's content replaced (other recordings, other images, other words,
other table values). If the statistics were fitted on anything but training items they would
move; they must come out bit-identical, and so must the training rows' features. The check
also runs the other way round: changing a training item does move them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from autoglm.testing import run_node
from autoglm_multimodal.items import write_items
from autoglm_multimodal.nodes.audio import AudioNode
from autoglm_multimodal.nodes.image import ImageNode
from autoglm_multimodal.nodes.table import TableNode
from autoglm_multimodal.nodes.text import TextNode
from autoglm_multimodal.testing import fsdd_items, tone, write_wav


def _run(node, config: dict, inputs: dict, home: Path) -> tuple[dict, np.ndarray, object]:
    """(fitted statistics, main array, outputs), read at once: a later run in the same
    home writes into the same artefact folder."""
    out = run_node(node, config, inputs, home=home)
    name = "input_ids" if node is TextNode else "features"
    stats = json.loads(Path(out.stats_file).read_text())
    return stats, np.load(Path(out.folder) / f"{name}.npy"), out


def _train(array: np.ndarray, items: list[dict]) -> np.ndarray:
    return array[[k for k, item in enumerate(items) if item["split"] == "train"]]


def _replace_held_out(items: list[dict], key: str, make) -> list[dict]:
    return [
        item if item["split"] == "train" else {**item, key: make(k, item)}
        for k, item in enumerate(items)
    ]


def test_audio_statistics_ignore_validation_and_test_recordings(tmp_path, fsdd_recordings):
    items = fsdd_items(fsdd_recordings)
    config = {"sample_rate": 8000, "n_fft": 256, "hop_length": 80, "frames": 16}

    def run(rows: list[dict], name: str):
        manifest = str(write_items(tmp_path / f"{name}.jsonl", rows))
        return _run(AudioNode, config, {"items": manifest}, tmp_path / name)

    def loud(k: int, item: dict) -> str:
        return str(write_wav(tmp_path / f"loud{k}.wav", 3 * tone(8000, hz=200 + 10 * k), 8000))

    stats, features, out = run(items, "first")
    swapped = _replace_held_out(items, "audio", loud)
    stats2, features2, out2 = run(swapped, "second")
    assert out.ok == out2.ok == 60 and stats["fitted_on"] > 0
    assert stats == stats2
    assert np.array_equal(_train(features, items), _train(features2, swapped))
    assert not np.array_equal(features, features2)  # the held-out rows did change
    # The other way round: one training recording changed moves the statistics.
    changed = [dict(i) for i in items]
    changed[0]["audio"] = loud(0, changed[0])
    assert run(changed, "third")[0] != stats


def _png(path: Path, value: int) -> str:
    pixels = np.full((6, 6, 3), value, np.uint8)
    pixels[1:4, 2] = 255 - value
    Image.fromarray(pixels).save(path)
    return str(path)


def test_image_statistics_ignore_held_out_images(tmp_path):
    splits = ["train"] * 6 + ["val"] * 2 + ["test"] * 2
    items = [
        {"id": f"i{k}", "split": s, "image": _png(tmp_path / f"i{k}.png", 20 * k)}
        for k, s in enumerate(splits)
    ]
    config = {"size": 4, "normalize": "fit", "augment_copies": 2}

    def run(rows: list[dict], name: str):
        manifest = str(write_items(tmp_path / f"{name}.jsonl", rows))
        return _run(ImageNode, config, {"items": manifest}, tmp_path / name)

    stats, batch, out = run(items, "first")
    variants = np.load(Path(out.folder) / "augmented.npy")
    swapped = _replace_held_out(items, "image", lambda k, i: _png(tmp_path / f"x{k}.png", 250))
    stats2, batch2, _ = run(swapped, "second")
    assert stats == stats2 and stats["fitted_on"] == 6 * 4 * 4
    assert np.array_equal(_train(batch, items), _train(batch2, swapped))
    assert not np.array_equal(batch, batch2)
    # Augmented variants exist for training rows only.
    assert variants.shape == (10, 2, 3, 4, 4)
    assert np.abs(variants[:6]).sum() > 0 and not variants[6:].any()


def test_text_vocabulary_and_table_encoder_ignore_held_out_rows(tmp_path):
    splits = ["train", "train", "train", "val", "test"]
    texts = ["red apple", "green apple", "red pear", "blue plum", "violet fig"]
    items = [
        {"id": f"t{k}", "split": s, "text": t}
        for k, (s, t) in enumerate(zip(splits, texts, strict=True))
    ]
    manifest = str(write_items(tmp_path / "items.jsonl", items))
    vocab, ids, _ = _run(TextNode, {"max_length": 4}, {"items": manifest}, tmp_path / "text")
    assert vocab["tokens"] == ["[PAD]", "[UNK]", "apple", "red", "green", "pear"]
    assert ids[4].tolist() == [1, 1, 0, 0]  # 'violet fig': unknown words, then padding
    table = tmp_path / "table.csv"
    rows = ["id,size,colour", "t0,1,red", "t1,2,green", "t2,3,red", "t3,1000,blue", "t4,-50,"]
    table.write_text("\n".join(rows) + "\n")
    inputs = {"items": manifest, "table": str(table)}
    encoder, encoded, _ = _run(TableNode, {}, inputs, tmp_path / "t1")
    assert encoder["numeric"]["size"]["fill"] == 2.0 and encoder["numeric"]["size"]["mean"] == 2.0
    assert encoder["categorical"]["colour"] == ["green", "red"]  # 'blue' is only in validation
    table.write_text("\n".join([*rows[:4], "t3,7,violet", "t4,99999,pink"]) + "\n")
    encoder2, encoded2, _ = _run(TableNode, {}, inputs, tmp_path / "t2")
    assert encoder2 == encoder
    assert np.array_equal(encoded[:3], encoded2[:3]) and not np.array_equal(encoded, encoded2)
