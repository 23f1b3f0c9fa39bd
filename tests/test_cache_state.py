"""Outside state in the cache key: a node's ``state_fingerprint`` joins its key, a fingerprint
that fails runs it uncached, and ``cacheable = False`` is never cached; the file and folder
fingerprints see edits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.engine import Engine
from autoglm.fingerprints import files_fingerprint, folder_fingerprint
from autoglm.plugins import Host, PluginSelection
from autoglm.workflow import parse_workflow


class FileConfig(NodeModel):
    path: str


class FileOutputs(NodeModel):
    text: str


class ReadFile(NodeType):
    """Reads a file named by its config: the file's state is part of its key."""

    name = "statetest.read"
    Config = FileConfig
    Outputs = FileOutputs
    fail_fingerprint: ClassVar[bool] = False

    @classmethod
    def state_fingerprint(cls, config: FileConfig, inputs: NodeModel, context: NodeContext) -> str:
        if cls.fail_fingerprint:
            raise OSError("cannot stat")
        return files_fingerprint([config.path])

    def execute(self, inputs: NodeModel, context: NodeContext) -> FileOutputs:
        assert isinstance(self.config, FileConfig)
        return FileOutputs(text=Path(self.config.path).read_text())


class Uncacheable(ReadFile):
    name = "statetest.uncached"
    cacheable = False


def engine_for(store) -> Engine:
    host = Host.load(PluginSelection(allow=()))
    host.register_node_type(ReadFile)
    host.register_node_type(Uncacheable)
    return Engine(host, store)


def run(engine: Engine, node_type: str, path: Path) -> tuple[str, str]:
    text = f"nodes:\n  - id: n\n    type: {node_type}\n    config: {{path: '{path}'}}\n"
    result = engine.run(parse_workflow(text, engine.host))
    assert result.status == "succeeded", result.error
    return result.nodes["n"].status, result.nodes["n"].outputs["text"]


def test_an_edited_file_recomputes_and_an_unchanged_one_hits(store, tmp_path):
    engine = engine_for(store)
    data = tmp_path / "data.txt"
    data.write_text("one")
    assert run(engine, "statetest.read", data) == ("succeeded", "one")
    assert run(engine, "statetest.read", data) == ("cached", "one")
    data.write_text("two!")
    assert run(engine, "statetest.read", data) == ("succeeded", "two!")
    assert run(engine, "statetest.read", data) == ("cached", "two!")


def test_a_failing_fingerprint_runs_uncached_and_uncacheable_never_hits(store, tmp_path):
    engine = engine_for(store)
    data = tmp_path / "data.txt"
    data.write_text("one")
    ReadFile.fail_fingerprint = True
    try:
        assert run(engine, "statetest.read", data) == ("succeeded", "one")
        assert run(engine, "statetest.read", data) == ("succeeded", "one")
    finally:
        ReadFile.fail_fingerprint = False
    for _ in range(2):
        assert run(engine, "statetest.uncached", data)[0] == "succeeded"


def test_folder_fingerprint_sees_added_edited_and_removed_files(tmp_path):
    kb = tmp_path / "kb"
    (kb / "sub").mkdir(parents=True)
    (kb / "a.md").write_text("a")
    first = folder_fingerprint(kb, ["*.md"])
    (kb / "notes.bin").write_bytes(b"x")  # not matched by the patterns
    assert folder_fingerprint(kb, ["*.md"]) == first
    (kb / "sub" / "b.md").write_text("b")
    added = folder_fingerprint(kb, ["*.md"])
    assert added != first
    stat = (kb / "a.md").stat()
    (kb / "a.md").write_text("A")  # same size: the modification time tells
    os.utime(kb / "a.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert folder_fingerprint(kb, ["*.md"]) != added
    (kb / "sub" / "b.md").unlink()
    assert folder_fingerprint(kb, ["*.md"]) not in {added, first}
    assert folder_fingerprint(tmp_path / "nowhere") != folder_fingerprint(tmp_path / "elsewhere")
