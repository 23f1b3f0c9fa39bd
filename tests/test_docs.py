"""Every node type that the repository's plugins register is documented, and the README gives
the commands CI runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.plugins import BUILTIN_PLUGIN, Host, PluginSelection

REPO = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
HOST = Host.load(PluginSelection())
NODE_TYPES = sorted(
    name for name, owner in HOST.node_owner.items() if HOST.plugins[owner].source != "local"
)


def test_repository_plugins_all_load():
    failed = {p.name: p.error for p in HOST.failed_plugins()}
    assert failed == {}
    assert {p.name for p in HOST.plugins.values() if p.status == "loaded"} >= {
        BUILTIN_PLUGIN,
        "gnn",
        "tuner",
        "hf",
        "text",
        "prompt",
        "eval",
        "textkit",
    }


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_node_type_is_documented(node_type):
    assert f"`{node_type}`" in DOCS, f"no doc in docs/*.md mentions `{node_type}`"


def test_readme_commands_are_what_ci_runs():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "./scripts/setup.sh && .venv/bin/python -m pytest" in readme
    assert "./scripts/setup.sh" in ci and ".venv/bin/python -m pytest" in ci
