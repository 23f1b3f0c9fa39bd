"""Lifecycle hooks reach observer plugins; a crashing observer is recorded, not fatal; every
hook spec is documented and exercised."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from core_helpers import OBSERVERS, PRIVATE_PLUGINS

from autoglm import hookspecs
from autoglm.engine import RUN_JOURNAL, Engine
from autoglm.plugins import Host, PluginSelection
from autoglm.workflow import parse_workflow

REPO = Path(__file__).resolve().parents[1]
HOOKS = sorted(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "autoglm_spec"))


def observed_host(*observers: str) -> Host:
    return Host.load(
        PluginSelection(
            allow=("testnodes", *observers),
            plugin_dirs=(str(PRIVATE_PLUGINS), str(OBSERVERS)),
        )
    )


WORKFLOW = """
nodes:
  - id: ok
    type: core.const
    config: {value: 7}
  - id: bad
    type: testnodes.boom
    retry: {attempts: 2, initial_delay: 0.01}
"""


def test_observer_sees_every_lifecycle_hook(tmp_path, monkeypatch, store):
    log = tmp_path / "observer.jsonl"
    monkeypatch.setenv("AUTOGLM_TEST_OBSERVER_LOG", str(log))
    host = observed_host("recorder")
    engine = Engine(host, store)
    wf = parse_workflow(WORKFLOW, host)
    result = engine.run(wf)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    hooks = [c["hook"] for c in calls]
    assert hooks[0] == "before_run" and hooks[-1] == "after_run"
    assert calls[-1]["status"] == "failed" == result.status
    ok_after = next(c for c in calls if c["hook"] == "after_node_run" and c["node"] == "ok")
    assert ok_after["outputs"] == {"value": 7} and ok_after["cached"] is False
    errors = [c for c in calls if c["hook"] == "on_node_error"]
    assert [(e["attempt"], e["final"]) for e in errors] == [(1, False), (2, True)]
    assert {c["node"] for c in calls if c["hook"] == "before_node_run"} == {"ok", "bad"}
    assert set(HOOKS) - {"register_nodes", "register_routes", "register_executors"} <= set(
        hooks
    )  # lifecycle
    # a second run hits the cache and says so
    log.write_text("")
    engine.run(wf)
    cached = [json.loads(x) for x in log.read_text().splitlines() if "after_node_run" in x]
    assert cached[0]["cached"] is True


def test_crashing_observer_is_recorded_not_fatal(store, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGLM_TEST_OBSERVER_LOG", str(tmp_path / "o.jsonl"))
    host = observed_host("crashing", "recorder")
    wf = parse_workflow("nodes:\n  - id: ok\n    type: core.const\n    config: {value: 1}\n", host)
    result = Engine(host, store).run(wf)
    assert result.status == "succeeded"
    [error] = store.journal_read(result.run_id, RUN_JOURNAL, "hook_error")
    assert error["plugin"] == "crashing" and "observer exploded" in error["error"]
    # the other observer still saw the node finish
    assert "after_node_run" in (tmp_path / "o.jsonl").read_text()


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    docs = (REPO / "docs" / "hooks.md").read_text()
    assert re.search(rf"^## `{hook}\(", docs, re.MULTILINE), f"docs/hooks.md lacks {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook):
    """Each hook has an implementation in the test plugins, which the tests above run."""
    sources = [p.read_text() for p in (REPO / "tests" / "fixtures").rglob("*.py")]
    assert any(f"def {hook}(" in s for s in sources), f"no test plugin implements {hook}"
