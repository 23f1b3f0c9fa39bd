"""The trust policy in the engine: a node whose resolved values break the run's policy fails
before it runs, with a message naming node, field and rule; the policy travels with the run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autoglm.engine import Engine
from autoglm.plugins import Host, PluginSelection
from autoglm.policy import TrustPolicy
from autoglm.store import RunStore
from autoglm.workflow import parse_workflow

POLICY_PLUGINS = Path(__file__).parent / "fixtures" / "policy_plugins"
SECRET = "root:TOP-SECRET-CONTENT"


@pytest.fixture
def host(autoglm_home: Path) -> Host:
    return Host.load(PluginSelection(allow=("trustnodes",), plugin_dirs=(str(POLICY_PLUGINS),)))


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


def workflow(host: Host, text: str):
    return parse_workflow(textwrap.dedent(text), host, path="test.yaml")


def relay(path: Path | str) -> str:
    """A path passed on through another node: only the run-time check sees it."""
    return f"""
        nodes:
          - id: emit
            type: trustnodes.emit
            config: {{value: "{path}"}}
          - id: reader
            type: trustnodes.read
            inputs: {{path: $emit.text}}
        outputs:
          text: $reader.text
        """


def test_sandboxed_run_fails_the_node_naming_the_rule(host, autoglm_home, secret_file):
    store = RunStore(autoglm_home / "runs.sqlite")
    result = Engine(host, store, policy=TrustPolicy()).run(workflow(host, relay(secret_file)))
    assert result.status == "failed"
    node = result.nodes["reader"]
    assert node.status == "failed"
    assert "node 'reader' field 'inputs.path'" in node.error
    assert "'input_outside_roots'" in node.error
    assert SECRET not in (result.error or "") + node.error
    assert result.nodes["emit"].status == "succeeded"


def test_trusted_engine_reads_and_sandbox_allows_the_artefacts(host, autoglm_home, secret_file):
    store = RunStore(autoglm_home / "runs.sqlite")
    trusted = Engine(host, store).run(workflow(host, relay(secret_file)))
    assert trusted.outputs == {"text": SECRET}
    inside = autoglm_home / "artifacts" / "shared.txt"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_text("fine")
    sandboxed = Engine(host, store, policy=TrustPolicy()).run(workflow(host, relay(inside)))
    assert sandboxed.status == "succeeded", sandboxed.error
    widened = TrustPolicy(input_roots=[str(secret_file.parent)])
    assert Engine(host, store, policy=widened).run(workflow(host, relay(secret_file))).outputs


def test_the_stored_policy_wins_on_resume(host, autoglm_home, secret_file):
    """A run submitted under a policy keeps it, whatever engine executes it later."""
    store = RunStore(autoglm_home / "runs.sqlite")
    wf = workflow(host, relay(secret_file))
    run_id = Engine(host, store, policy=TrustPolicy()).submit(wf)
    assert store.get_run(run_id).options["policy"]["allowed_urls"] == []
    result = Engine(host, store).execute(run_id, wf)
    assert result.status == "failed"
    assert "input_outside_roots" in result.nodes["reader"].error


def test_writes_outside_the_runs_artifacts_are_refused(host, autoglm_home, tmp_path):
    store = RunStore(autoglm_home / "runs.sqlite")
    artifacts = autoglm_home / "artifacts"
    targets = {
        "keys": autoglm_home / "keys.sqlite",
        "other_run": artifacts / "someone-else" / "report.html",
        "own": artifacts / "mine" / "report.html",
    }
    (artifacts / "mine").mkdir(parents=True)
    nodes = "".join(
        f"""
          - id: {name}
            type: trustnodes.write
            config: {{out: "{target}"}}"""
        for name, target in targets.items()
    )
    result = Engine(host, store, policy=TrustPolicy()).run(
        workflow(host, "nodes:" + nodes), run_id="mine"
    )
    for name in ("keys", "other_run"):
        assert "'output_outside_roots'" in result.nodes[name].error
        assert not targets[name].exists()
    assert result.nodes["own"].status == "succeeded"
    assert targets["own"].read_text() == "written"


def test_check_workflow_sees_literals_and_run_inputs_not_upstream_values(
    host, autoglm_home, secret_file
):
    """What is fixed before a run is checked at submission; a value from another node is
    left to the engine."""
    from autoglm.policy import Places
    from autoglm.policy.submission import check_workflow

    wf = workflow(
        host,
        f"""
        inputs:
          path: {{type: str}}
        nodes:
          - id: literal
            type: trustnodes.read
            inputs: {{path: "{secret_file}"}}
          - id: by_input
            type: trustnodes.read
            inputs: {{path: $inputs.path}}
          - id: emit
            type: trustnodes.emit
            config: {{value: "{secret_file}"}}
          - id: relayed
            type: trustnodes.read
            inputs: {{path: $emit.text}}
          - id: sender
            type: trustnodes.send
            config: {{url: "http://127.0.0.1:9/x", key_env: HOME}}
        """,
    )
    policy = TrustPolicy(allowed_urls=["http://127.0.0.1:9"])
    found = check_workflow(
        wf, host, {"path": str(secret_file)}, policy, Places.of(policy, autoglm_home)
    )
    assert {(v.node, v.field, v.rule) for v in found} == {
        ("literal", "inputs.path", "input_outside_roots"),
        ("by_input", "inputs.path", "input_outside_roots"),
        ("sender", "config.key_env", "secret_not_allowed"),
    }


def test_a_workflow_may_not_choose_where_its_work_goes(autoglm_home, tmp_path):
    """``executor: {name: dask, options: {address: ...}}`` would ship the run's attempts to a
    scheduler the request chose (and read pickled results back): refused under a policy, at
    submission and when the run starts, before any connection is made."""
    from autoglm.policy import Places, executor_violation
    from autoglm.policy.submission import check_workflow

    host = Host.load(
        PluginSelection(allow=("trustnodes", "dask"), plugin_dirs=(str(POLICY_PLUGINS),))
    )
    wf = workflow(
        host,
        """
        executor: {name: dask, options: {address: "tcp://127.0.0.1:9"}}
        nodes:
          - id: emit
            type: trustnodes.emit
            config: {value: x}
        """,
    )
    policy = TrustPolicy(allowed_executors=["dask"])
    found = check_workflow(wf, host, {}, policy, Places.of(policy, autoglm_home))
    assert [(v.node, v.field, v.rule) for v in found] == [
        ("(workflow)", "executor", "executor_not_allowed")
    ]
    assert executor_violation({"name": "dask"}, policy) is None  # allowed, no options
    assert executor_violation({"name": "dask"}, TrustPolicy()) is not None
    assert executor_violation({"name": "local", "options": {"workers": 2}}, TrustPolicy()) is None

    store = RunStore(autoglm_home / "runs.sqlite")
    result = Engine(host, store, policy=TrustPolicy()).run(wf)
    assert result.status == "failed"
    assert "'executor_not_allowed'" in (result.error or "")
    trusted = Engine(host, store).submit(wf)  # an unrestricted run keeps the workflow's choice
    assert "policy" not in store.get_run(trusted).options
