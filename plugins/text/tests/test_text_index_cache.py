"""``text.index`` reads a folder named by its input, so the engine's cache key includes the
folder's files: an added document makes a rerun index again, an unchanged folder is a hit."""

from __future__ import annotations

import pytest

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow

WORKFLOW = """
inputs:
  kb: {type: str}
nodes:
  - id: index
    type: text.index
    config: {device: cpu, chunk_tokens: 64, overlap: 8}
    inputs: {folder: $inputs.kb}
outputs:
  path: $index.path
  documents: $index.documents
"""


@pytest.mark.slow
def test_an_added_document_reindexes_and_an_unchanged_folder_hits(
    tmp_path, autoglm_home, autoglm_host
):
    kb_copy = tmp_path / "kb"
    kb_copy.mkdir()
    (kb_copy / "01-runs.md").write_text("# Runs\n\nA killed run resumes where it stopped.\n")
    engine = Engine(autoglm_host(["text", "hf"]), RunStore(autoglm_home / "runs.sqlite"))
    workflow = parse_workflow(WORKFLOW, engine.host)

    def run() -> tuple[str, dict]:
        result = engine.run(workflow, {"kb": str(kb_copy)})
        assert result.status == "succeeded", result.error
        return result.nodes["index"].status, result.outputs

    status, first = run()
    assert status == "succeeded"
    assert run() == ("cached", first)
    (kb_copy / "13-extra.md").write_text("# Extra\n\nThe mascot of autoglm is a purple owl.\n")
    status, edited = run()
    assert status == "succeeded" and "13-extra.md" in edited["documents"]
    assert edited["path"] != first["path"]
    assert run() == ("cached", edited)
