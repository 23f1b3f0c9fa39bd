"""textkit's nodes, run through the installed entry point as users get them."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.testing import run_node
from autoglm.workflow import parse_workflow
from autoglm_textkit.router import KeywordRouterNode
from autoglm_textkit.split import SplitNode, split_words


def test_split_overlaps_and_covers_every_word():
    text = " ".join(f"w{i}" for i in range(25))
    chunks = split_words(text, chunk_words=10, overlap_words=3)
    assert chunks[0].split() == [f"w{i}" for i in range(10)]
    assert chunks[1].split()[:3] == ["w7", "w8", "w9"]
    assert chunks[-1].split()[-1] == "w24"
    covered = {w for chunk in chunks for w in chunk.split()}
    assert covered == set(text.split())


def test_split_rejects_overlap_not_smaller_than_chunk(tmp_path):
    with pytest.raises(ValidationError, match="overlap_words"):
        run_node(SplitNode, {"chunk_words": 5, "overlap_words": 5}, {"text": "a b"}, home=tmp_path)


@pytest.mark.parametrize(
    ("text", "task", "matched"),
    [
        ("Please summarize this report", "summary", "summarize"),
        ("What is a GNN?", "qa", "?"),
        ("The weather is nice", "qa", None),
        ("An overview of how plugins load", "summary", "overview"),
    ],
)
def test_router_rules_in_order(tmp_path, text, task, matched):
    out = run_node(KeywordRouterNode, {}, {"text": text}, home=tmp_path)
    assert (out.task, out.matched) == (task, matched)


def test_installed_entry_point_is_discovered_and_attributed(autoglm_host):
    for name in [m for m in sys.modules if m.startswith("autoglm_textkit")]:
        del sys.modules[name]
    host = autoglm_host(["textkit"])
    info = host.plugins["textkit"]
    assert info.status == "loaded"
    assert info.distribution == "autoglm-textkit"
    assert set(info.node_types) == {"textkit.split", "textkit.keyword_router"}


def test_router_and_splitter_in_a_workflow(autoglm_host, autoglm_home: Path):
    host = autoglm_host(["textkit"])
    workflow = parse_workflow(
        textwrap.dedent(
            """
            name: route-then-split
            inputs:
              text: {type: str}
            nodes:
              - id: route
                type: textkit.keyword_router
                inputs: {text: $inputs.text}
              - id: split
                type: textkit.split
                config: {chunk_words: 4, overlap_words: 1}
                inputs: {text: $inputs.text}
                when: "route.task == 'summary'"
            outputs:
              chunks: $split.chunks
            """
        ),
        host,
    )
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"))
    result = engine.run(workflow, {"text": "summarize one two three four five six"})
    assert result.status == "succeeded"
    assert result.outputs["chunks"][0] == "summarize one two three"
    skipped = engine.run(workflow, {"text": "what is this?"})
    assert skipped.nodes["split"].status == "skipped"
    assert skipped.outputs["chunks"] is None
