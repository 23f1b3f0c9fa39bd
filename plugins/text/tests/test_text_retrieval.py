"""The knowledge-base index (content-addressed, on disk) and top-k retrieval."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autoglm.testing import run_node
from autoglm_text.node_index import IndexNode
from autoglm_text.node_retrieve import RetrieveNode

CONFIG = {"device": "cpu", "chunk_tokens": 64, "overlap": 8}


def _index(folder: Path, home: Path, **extra):
    return run_node(IndexNode, {**CONFIG, **extra}, {"folder": str(folder)}, home=home)


def test_index_files_and_passages(kb_copy, autoglm_home):
    out = _index(kb_copy, autoglm_home)
    assert out.reused is False
    assert out.documents == sorted(p.name for p in kb_copy.glob("*.md"))
    folder = Path(out.path)
    vectors = np.load(folder / "vectors.npy")
    passages = json.loads((folder / "passages.json").read_text())
    assert vectors.shape == (out.passages, 384) == (len(passages), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for p in passages:  # every passage is the exact text of its source span
        assert (kb_copy / p["source"]).read_text()[p["start"] : p["end"]] == p["text"]
    assert not list(folder.parent.glob(".building-*"))


def test_same_documents_reuse_the_index_and_edits_rebuild(kb_copy, autoglm_home):
    first = _index(kb_copy, autoglm_home)
    again = _index(kb_copy, autoglm_home)
    assert (again.reused, again.path) == (True, first.path)
    (kb_copy / "13-extra.md").write_text("# Extra\n\nThe mascot of autoglm is a purple owl.\n")
    edited = _index(kb_copy, autoglm_home)
    assert edited.reused is False and edited.path != first.path
    assert "13-extra.md" in edited.documents
    other = _index(kb_copy, autoglm_home, chunk_tokens=32)
    assert other.path != edited.path  # settings are part of the key


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("How are plugins discovered?", "02-plugins.md"),
        ("What accuracy does a GCN reach on Cora?", "08-gnn.md"),
        ("Can a killed run be resumed?", "06-resume.md"),
        ("Which servers does the OpenAI adapter talk to?", "10-models.md"),
    ],
)
def test_retrieve_finds_the_right_document(kb_copy, autoglm_home, query, source):
    index = _index(kb_copy, autoglm_home)
    out = run_node(
        RetrieveNode,
        {"k": 3, "device": "cpu"},
        {"query": query, "index": index.path},
        home=autoglm_home,
    )
    assert out.sources[0] == source
    assert len(out.passages) == len(out.scores) == 3
    assert out.scores == sorted(out.scores, reverse=True)
    assert out.context.startswith(f"[{source}] ")


def test_min_score_drops_weak_passages(kb_copy, autoglm_home):
    index = _index(kb_copy, autoglm_home)
    out = run_node(
        RetrieveNode,
        {"k": 5, "min_score": 0.99, "device": "cpu", "context_format": "plain"},
        {"query": "bananas and tropical fruit", "index": index.path},
        home=autoglm_home,
    )
    assert out.passages == [] and out.context == ""


def test_missing_or_empty_folder_is_a_clear_error(tmp_path, autoglm_home):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _index(tmp_path / "nope", autoglm_home)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no files matching \['\*.md', '\*.txt'\]"):
        _index(tmp_path / "empty", autoglm_home)
