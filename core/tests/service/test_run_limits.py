"""Run limits without a server: the settings' ``limits:`` block, the messages that name a limit,
and the run store's write budget on a real SQLite store (refused writes leave nothing behind;
a resumed run counts what it recorded before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.service.limits import RunLimits
from autoglm.service.settings import SettingsError, load_settings
from autoglm.store import RunStore
from autoglm.writebudget import StoreLimitExceeded


def test_limits_settings_have_safe_defaults_and_refuse_bad_fields(tmp_path: Path) -> None:
    defaults = load_settings(None, {}).limits
    assert (defaults.memory_mb, defaults.cpu_s, defaults.wall_s) == (4096, 3600.0, 3600.0)
    assert (defaults.output_mb, defaults.store_mb, defaults.address_space_mb) == (16, 50, None)
    config = tmp_path / "service.yaml"
    config.write_text("limits: {wall_s: 5, memory_mb: null}\n")
    limits = load_settings(config, {}).limits
    assert limits.wall_s == 5 and limits.memory_mb is None
    config.write_text("limits: {wall_seconds: 5, cpu_s: -1}\n")
    with pytest.raises(SettingsError) as error:
        load_settings(config, {})
    assert "limits.wall_seconds" in str(error.value) and "limits.cpu_s" in str(error.value)


def test_messages_name_the_limit_its_value_and_its_setting() -> None:
    limits = RunLimits()
    assert limits.exceeded("wall_s") == (
        "run exceeded its wall-clock limit of 3600 s (limits.wall_s)"
    )
    assert limits.exceeded("memory_mb", "its processes held 5000 MB") == (
        "run exceeded its memory limit of 4096 MB resident (limits.memory_mb):"
        " its processes held 5000 MB"
    )


def _run(store: RunStore) -> str:
    return store.create_run(
        workflow_name="w", workflow_source="", workflow_path=None, inputs={}, selection={}
    )


def test_the_store_refuses_what_would_pass_a_runs_budget(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.write_budget = RunLimits(store_mb=0.01, output_mb=0.004).write_budget()
    run_id = _run(store)
    store.node_started(run_id, "a", "t", {"v": "x" * 3000})
    with pytest.raises(StoreLimitExceeded, match=r"output limit of 0\.004 MB .*limits\.output_mb"):
        store.node_finished(run_id, "a", "t", "succeeded", outputs={"v": "y" * 5000})
    assert store.node_states(run_id)["a"].status == "running"  # nothing was written
    # outputs, and their cache copy, count: 3 kB + 2 * 3 kB, then a 3 kB journal entry passes
    store.node_finished(
        run_id, "a", "t", "succeeded", outputs={"v": "y" * 3000}, cache_key="k", cache_outputs=True
    )
    with pytest.raises(StoreLimitExceeded, match=r"store limit of 0\.01 MB .*limits\.store_mb"):
        store.journal_append(run_id, "a", "trial", "z" * 3000)
    assert store.journal_read(run_id, "a") == []
    recorded = store.recorded_bytes(run_id)
    assert 9000 < recorded <= 10_000

    # a resumed run, in another process with a fresh budget, starts from what it recorded
    again = RunStore(tmp_path / "runs.sqlite")
    again.write_budget = RunLimits(store_mb=0.01).write_budget()
    with pytest.raises(StoreLimitExceeded):
        again.node_started(run_id, "b", "t", {"v": "x" * 1000})
    other = _run(again)  # another run has a budget of its own
    again.node_started(other, "b", "t", {"v": "x" * 1000})
