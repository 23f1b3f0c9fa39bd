"""Every workflow shipped in configs/ validates against the installed plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.plugins import Host, PluginSelection
from autoglm.workflow import load_workflow

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def host() -> Host:
    return Host.load(PluginSelection(strict=True))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_workflow_is_valid(path: Path, host: Host):
    workflow = load_workflow(path, host)
    assert workflow.nodes and workflow.description
