"""pytest fixtures for plugin authors, registered through the ``pytest11`` entry point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from autoglm.plugins import Host
from autoglm.testing import isolated_host


@pytest.fixture
def autoglm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``AUTOGLM_HOME`` (run store, caches, artefacts) for one test."""
    home = tmp_path / "autoglm-home"
    home.mkdir()
    monkeypatch.setenv("AUTOGLM_HOME", str(home))
    for name in ("AUTOGLM_PLUGINS", "AUTOGLM_BLOCK_PLUGINS", "AUTOGLM_PLUGINS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def autoglm_host(autoglm_home: Path) -> Callable[..., Host]:
    """Factory: ``autoglm_host(["textkit"], node_types=[MyNode])`` builds an isolated host."""
    return isolated_host
