"""``gnn.files`` reads files named by its config, so the engine's cache key includes their
sizes and modification times: edited labels are read again, unchanged files are a hit."""

from __future__ import annotations

from pathlib import Path

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow


def graph_files(folder: Path, labels: str) -> dict[str, Path]:
    files = {
        "edges": (folder / "edges.csv", "0,1\n1,2\n2,0\n3,4\n4,5\n5,3\n2,3\n"),
        "features": (folder / "feat.csv", "1,0\n1,0.5\n0.9,0\n0,1\n0,1\n0.1,1\n"),
        "labels": (folder / "labels.csv", labels),
    }
    for path, text in files.values():
        path.write_text(text)
    return {name: path for name, (path, _) in files.items()}


def test_edited_labels_are_read_again_and_unchanged_files_hit(tmp_path, autoglm_home, autoglm_host):
    files = graph_files(tmp_path, "cat\ncat\ncat\ndog\ndog\ndog\n")
    config = ", ".join(f"{name}: '{path}'" for name, path in files.items())
    text = (
        "nodes:\n  - id: graph\n    type: gnn.files\n"
        f"    config: {{{config}, train_fraction: 0.5, val_fraction: 0.25}}\n"
        "outputs:\n  profile: $graph.profile\n"
    )
    engine = Engine(autoglm_host(["gnn"]), RunStore(autoglm_home / "runs.sqlite"))
    workflow = parse_workflow(text, engine.host)

    def run() -> tuple[str, dict]:
        result = engine.run(workflow)
        assert result.status == "succeeded", result.error
        return result.nodes["graph"].status, result.outputs["profile"]

    status, first = run()
    assert status == "succeeded" and first["classes"] == 2
    assert run() == ("cached", first)
    files["labels"].write_text("cat\ncat\nbird\ndog\ndog\ndog\n")
    status, edited = run()
    assert status == "succeeded" and edited["classes"] == 3
    assert run() == ("cached", edited)
