"""Shared helpers of the tuner tests: run ``tuner.search`` in an isolated home with the toy
objective plugin (tests/toy_plugins) selected, so worker processes can load it too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autoglm.plugins import PluginSelection
from autoglm.testing import make_context, run_node

TOY_DIR = Path(__file__).parent / "toy_plugins"
TOY_SELECTION = PluginSelection(allow=("tuner", "toy"), plugin_dirs=(str(TOY_DIR),))

#: A search of the toy bowl small enough to run in a couple of seconds.
TOY_SEARCH: dict[str, Any] = {"objective": "toy.quadratic", "metric": "score", "budget": 8}


def search_context(home: Path, run_id: str = "run-1", selection: PluginSelection = TOY_SELECTION):
    return make_context(
        home, node_id="search", node_type="tuner.search", run_id=run_id, selection=selection
    )


@pytest.fixture
def run_search(autoglm_home: Path) -> Callable[..., Any]:
    """``run_search(config_overrides, inputs=None, run_id="run-1")`` -> outputs."""
    from autoglm_tuner.node import SearchNode

    def run(
        overrides: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        run_id: str = "run-1",
        selection: PluginSelection = TOY_SELECTION,
    ) -> Any:
        config = {**TOY_SEARCH, **(overrides or {})}
        context = search_context(autoglm_home, run_id, selection)
        return run_node(SearchNode, config, inputs or {}, home=autoglm_home, context=context)

    return run
