"""The executor extension point: plugins register executors, a workflow or the command picks
one, the engine's DAG, cache and retries stay the same whichever runs the attempts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from core_helpers import FIXTURES, PRIVATE_PLUGINS

from autoglm.engine import Engine
from autoglm.errors import AutoGLMError, WorkflowError
from autoglm.executors import ExecutorChoice, LocalExecutor, parse_options
from autoglm.plugins import Host, PluginSelection
from autoglm.workflow import parse_workflow

EXECUTORS = FIXTURES / "executor_plugins"


def host_with(*plugins: str) -> Host:
    return Host.load(
        PluginSelection(
            allow=("testnodes", *plugins),
            plugin_dirs=(str(PRIVATE_PLUGINS), str(EXECUTORS)),
        )
    )


def fanout(log: Path, executor: str | None = None) -> str:
    head = f"executor: {{name: {executor}, options: {{threads: 3}}}}\n" if executor else ""
    return head + textwrap.dedent(
        f"""
        nodes:
          - id: a
            type: testnodes.count
            config: {{log: "{log}", value: 1}}
            inputs: {{value: 1}}
          - id: b
            type: testnodes.count
            config: {{log: "{log}", value: 10}}
            inputs: {{value: $a.value}}
          - id: c
            type: testnodes.count
            config: {{log: "{log}", value: 100}}
            inputs: {{value: $a.value}}
          - id: d
            type: core.noop
            inputs: {{value: [$b.value, $c.value]}}
        outputs: {{result: $d.value}}
        """
    )


def test_core_registers_local(test_host):
    assert test_host.executors["local"] is LocalExecutor
    assert test_host.executor_owner["local"] == "core"


def test_workflow_executor_is_used_and_gives_the_same_outputs(tmp_path, store, monkeypatch):
    host = host_with("poolexec")
    submitted = tmp_path / "submitted.txt"
    monkeypatch.setenv("AUTOGLM_TEST_EXECUTOR_LOG", str(submitted))
    local = Engine(host, store).run(parse_workflow(fanout(tmp_path / "l.jsonl"), host))
    wf = parse_workflow(fanout(tmp_path / "p.jsonl", "poolexec"), host)
    assert wf.executor == {"name": "poolexec", "options": {"threads": 3}}
    pooled = Engine(host, store, use_cache=False).run(wf)
    assert local.status == pooled.status == "succeeded"
    assert local.outputs == pooled.outputs == {"result": [12, 102]}
    assert sorted(submitted.read_text().split()) == ["a", "b", "c", "d"]
    stored = store.get_run(pooled.run_id)
    assert stored is not None and stored.options["executor"]["name"] == "poolexec"


def test_command_choice_wins_over_the_workflow(tmp_path, store, monkeypatch):
    host = host_with("poolexec")
    submitted = tmp_path / "submitted.txt"
    monkeypatch.setenv("AUTOGLM_TEST_EXECUTOR_LOG", str(submitted))
    wf = parse_workflow(fanout(tmp_path / "p.jsonl", "poolexec"), host)
    engine = Engine(host, store, executor=ExecutorChoice("local"))
    assert engine.run(wf).status == "succeeded"
    assert not submitted.exists()


def test_unknown_executor_is_a_located_workflow_error(test_host):
    text = "executor: nosuch\nnodes:\n  - id: a\n    type: core.noop\n"
    with pytest.raises(WorkflowError) as info:
        parse_workflow(text, test_host, path="wf.yaml")
    [problem] = info.value.problems
    assert problem.line == 1 and problem.field == "executor.name"
    assert "unknown executor 'nosuch'" in str(problem) and "local" in str(problem)


def test_executor_options_must_be_scalars(test_host):
    text = "executor: {name: local, options: {a: [1]}}\nnodes:\n  - id: a\n    type: core.noop\n"
    with pytest.raises(WorkflowError, match="executor.options"):
        parse_workflow(text, test_host, path="wf.yaml")


BAD_PLUGIN = """
from autoglm import hookimpl
from autoglm.executors import LocalExecutor


class Impostor(LocalExecutor):
    name = "dask"


@hookimpl
def register_executors(register):
    register(Impostor)
"""


def test_executor_under_another_plugins_name_fails_that_plugin(tmp_path):
    """Written here, not kept with the fixtures: it is broken on purpose, and the fixtures
    must all follow the naming rule (tests/test_plugins.py)."""
    (tmp_path / "badexec.py").write_text(BAD_PLUGIN)
    host = Host.load(PluginSelection(allow=("badexec",), plugin_dirs=(str(tmp_path),)))
    assert host.plugins["badexec"].status == "failed"
    assert "under its own name only" in (host.plugins["badexec"].error or "")
    assert "dask" not in host.executors


def test_unknown_executor_from_the_command_fails_the_run_with_the_names(test_host, store):
    wf = parse_workflow("nodes:\n  - id: a\n    type: core.noop\n", test_host)
    result = Engine(test_host, store, executor=ExecutorChoice("nosuch")).run(wf)
    assert result.status == "failed" and "registered executors: local" in (result.error or "")


def test_parse_options_reads_scalars():
    assert parse_options(["n_workers=2", "address=tcp://h:8786", "processes=false"]) == {
        "n_workers": 2,
        "address": "tcp://h:8786",
        "processes": False,
    }
    with pytest.raises(AutoGLMError, match="key=value"):
        parse_options(["oops"])


def test_service_setting_reaches_the_run_processes_spec(tmp_path):
    """The service's ``executor`` setting travels in the spec every run process is started
    with, where the runner hands it to its engine (``ExecutorChoice.from_dict``)."""
    from autoglm.service.hosts import HostCache
    from autoglm.service.settings import ServiceSettings
    from autoglm.service.worker import WorkerPool
    from autoglm.store import RunStore

    settings = ServiceSettings(executor={"name": "dask", "options": {"n_workers": 2}})
    pool = WorkerPool(
        RunStore(tmp_path / "runs.sqlite"),
        HostCache(PluginSelection()),
        limit=1,
        executor=settings.executor,
    )
    assert ExecutorChoice.from_dict(pool.spec["executor"]) == ExecutorChoice(
        "dask", {"n_workers": 2}
    )
