"""Shared fixtures of the core's tests: the private test plugins, a store and an engine."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from core_helpers import PRIVATE_PLUGINS

from autoglm.engine import Engine
from autoglm.plugins import Host, PluginSelection
from autoglm.store import RunStore
from autoglm.workflow import Workflow, parse_workflow


@pytest.fixture
def test_host(autoglm_home: Path) -> Host:
    """Core nodes plus the private test nodes, and nothing else installed."""
    return Host.load(PluginSelection(allow=("testnodes",), plugin_dirs=(str(PRIVATE_PLUGINS),)))


@pytest.fixture
def store(autoglm_home: Path) -> RunStore:
    return RunStore(autoglm_home / "runs.sqlite")


@pytest.fixture
def make_workflow(test_host: Host) -> Callable[[str], Workflow]:
    def make(text: str) -> Workflow:
        return parse_workflow(textwrap.dedent(text), test_host, path="test.yaml")

    return make


@pytest.fixture
def engine(test_host: Host, store: RunStore) -> Engine:
    return Engine(test_host, store, workers=4)
