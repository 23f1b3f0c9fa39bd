"""The engine on real threads, processes and SQLite: parallelism, retries, timeouts, cache,
routing, failure isolation."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import pytest


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_independent_branches_overlap(make_workflow, engine, tmp_path):
    log = tmp_path / "log.jsonl"
    wf = make_workflow(
        f"""
        nodes:
          - id: left
            type: testnodes.count
            config: {{log: "{log}", sleep: 0.5}}
          - id: right
            type: testnodes.count
            config: {{log: "{log}", sleep: 0.5, value: 1}}
          - id: join
            type: testnodes.count
            config: {{log: "{log}"}}
            inputs: {{value: $right.value}}
        """
    )
    started = time.perf_counter()
    result = engine.run(wf)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded"
    entries = {e["node"]: e for e in read_log(log)}
    left, right = entries["left"], entries["right"]
    assert left["start"] < right["end"] and right["start"] < left["end"], "branches did not overlap"
    assert entries["join"]["start"] >= right["end"]
    assert elapsed < 0.95


def test_worker_bound_is_respected(make_workflow, test_host, store, tmp_path):
    from autoglm.engine import Engine

    log = tmp_path / "log.jsonl"
    nodes = "".join(
        f"""
          - id: n{i}
            type: testnodes.count
            config: {{log: "{log}", sleep: 0.2, value: {i}}}"""
        for i in range(4)
    )
    wf = make_workflow("nodes:" + nodes)
    result = Engine(test_host, store, workers=1).run(wf)
    assert result.status == "succeeded"
    spans = sorted((e["start"], e["end"]) for e in read_log(log))
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def test_nodes_naming_one_exclusive_resource_take_turns(make_workflow, engine, tmp_path):
    """Two seeded trainings sharing torch's global generator must not interleave; a node
    without the resource still runs beside them."""
    log = tmp_path / "log.jsonl"
    nodes = "".join(
        f"""
          - id: {name}
            type: {kind}
            config: {{log: "{log}", sleep: 0.4}}"""
        for name, kind in [
            ("first", "testnodes.exclusive_count"),
            ("second", "testnodes.exclusive_count"),
            ("free", "testnodes.count"),
        ]
    )
    result = engine.run(make_workflow("nodes:" + nodes))
    assert result.status == "succeeded"
    spans = {e["node"]: (e["start"], e["end"]) for e in read_log(log)}
    (a_start, a_end), (b_start, _) = sorted([spans["first"], spans["second"]])
    assert a_end <= b_start, "nodes naming the same resource overlapped"
    free_start, free_end = spans["free"]
    assert free_start < a_end and a_start < free_end, "a node without the resource waited"


def test_a_cancelled_node_stops_waiting_for_its_resource():
    import threading

    from autoglm.errors import NodeCancelled
    from autoglm.exclusive import holding

    cancel = threading.Event()
    with holding("held-by-test"):
        cancel.set()
        with (
            pytest.raises(NodeCancelled, match="waiting for 'held-by-test'"),
            holding("held-by-test", cancel, "node 'late'"),
        ):
            pass
    with holding("held-by-test"):  # released after the block above
        pass


def test_retry_with_backoff_then_success(make_workflow, engine, tmp_path):
    counter = tmp_path / "count"
    wf = make_workflow(
        f"""
        nodes:
          - id: f
            type: testnodes.flaky
            config: {{counter: "{counter}", fail_times: 2}}
            retry: {{attempts: 3, initial_delay: 0.05, jitter: false}}
        """
    )
    started = time.perf_counter()
    result = engine.run(wf)
    assert result.status == "succeeded"
    assert result.nodes["f"].attempts == 3
    assert result.nodes["f"].outputs == {"value": 3}
    assert time.perf_counter() - started >= 0.05 + 0.1  # two back-offs: 0.05 then 0.1


def test_retries_exhausted_fail_the_node(make_workflow, engine, tmp_path):
    wf = make_workflow(
        f"""
        nodes:
          - id: f
            type: testnodes.flaky
            config: {{counter: "{tmp_path / "c"}", fail_times: 5}}
            retry: {{attempts: 2, initial_delay: 0.01}}
        """
    )
    result = engine.run(wf)
    assert result.status == "failed"
    assert result.nodes["f"].status == "failed"
    assert "flaky failure 2" in result.nodes["f"].error


def test_timeout_kills_a_node_that_ignores_cancellation(make_workflow, engine, tmp_path):
    pid_file = tmp_path / "pid"
    wf = make_workflow(
        f"""
        nodes:
          - id: stuck
            type: testnodes.hang
            config: {{pid_file: "{pid_file}", seconds: 60}}
            timeout: 3
        """
    )
    started = time.perf_counter()
    result = engine.run(wf)
    assert time.perf_counter() - started < 15
    assert result.status == "failed"
    assert "NodeTimeout" in result.nodes["stuck"].error
    pid = int(pid_file.read_text())
    assert pid != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_thread_timeout_is_cooperative(make_workflow, engine):
    wf = make_workflow(
        """
        nodes:
          - id: nap
            type: core.sleep
            config: {seconds: 30}
            timeout: 0.2
            isolation: thread
        """
    )
    started = time.perf_counter()
    result = engine.run(wf)
    assert time.perf_counter() - started < 5
    assert "NodeTimeout" in result.nodes["nap"].error


def test_cache_hit_skips_unchanged_nodes(make_workflow, test_host, store, tmp_path):
    from autoglm.engine import Engine

    log = tmp_path / "log.jsonl"
    text = f"""
        inputs:
          v: {{type: int, default: 1}}
        nodes:
          - id: a
            type: testnodes.count
            config: {{log: "{log}", value: 10}}
            inputs: {{value: $inputs.v}}
          - id: b
            type: testnodes.count
            config: {{log: "{log}"}}
            inputs: {{value: $a.value}}
            cache: false
        """
    wf = make_workflow(text)
    engine = Engine(test_host, store)
    first = engine.run(wf)
    second = engine.run(wf)
    assert [n.status for n in second.nodes.values()] == ["cached", "succeeded"]
    assert second.outputs == first.outputs
    assert [e["node"] for e in read_log(log)] == ["a", "b", "b"]
    changed = engine.run(wf, {"v": 2})
    assert changed.nodes["a"].status == "succeeded"
    assert Engine(test_host, store, use_cache=False).run(wf).nodes["a"].status == "succeeded"


def test_routing_skips_and_first_of_takes_the_branch_that_ran(make_workflow, engine):
    wf = make_workflow(
        """
        inputs:
          task: {type: str}
        nodes:
          - id: qa
            type: core.const
            config: {value: answer}
            when: "inputs.task == 'qa'"
          - id: summary
            type: core.const
            config: {value: digest}
            when: "inputs.task in ['summary', 'tldr']"
          - id: out
            type: core.noop
            inputs:
              value: {first_of: [$qa.value, $summary.value]}
          - id: after_qa
            type: core.noop
            inputs: {value: $qa.value}
        outputs:
          result: $out.value
        """
    )
    result = engine.run(wf, {"task": "tldr"})
    assert result.outputs == {"result": "digest"}
    assert result.nodes["qa"].status == "skipped"
    assert result.nodes["qa"].reason == "when: inputs.task == 'qa' is false"
    assert result.nodes["after_qa"].status == "skipped"
    assert result.nodes["after_qa"].reason == "upstream 'qa' was skipped"


def test_a_failing_branch_does_not_stop_independent_ones(make_workflow, engine, tmp_path):
    log = tmp_path / "log.jsonl"
    wf = make_workflow(
        f"""
        nodes:
          - id: bad
            type: testnodes.boom
          - id: after_bad
            type: core.noop
            inputs: {{value: $bad.value}}
          - id: good
            type: testnodes.count
            config: {{log: "{log}", sleep: 0.2}}
        """
    )
    result = engine.run(wf)
    assert result.status == "failed"
    assert result.nodes["good"].status == "succeeded"
    assert result.nodes["bad"].error == "ValueError: boom"
    assert "after_bad" not in result.nodes  # never started: it stays pending for a resume
    assert "node 'bad' failed: ValueError: boom" in result.error
    assert "after_bad" in result.error


def test_cancel_stops_a_running_node(make_workflow, engine, store):
    import threading

    wf = make_workflow(
        """
        nodes:
          - id: nap
            type: core.sleep
            config: {seconds: 30}
          - id: later
            type: core.noop
            inputs: {value: $nap.value}
        """
    )
    run_id = engine.submit(wf)
    threading.Timer(0.3, lambda: engine.cancel(run_id)).start()
    started = time.perf_counter()
    result = engine.execute(run_id, wf)
    assert time.perf_counter() - started < 5
    assert result.status == "cancelled"
    assert store.get_run(run_id).status == "cancelled"


def test_workflow_references_name_files_beside_the_workflow(test_host, store, tmp_path):
    from autoglm.engine import Engine
    from autoglm.workflow import load_workflow

    path = tmp_path / "flows" / "wf.yaml"
    path.parent.mkdir()
    path.write_text(
        "name: here\nnodes:\n  - id: where\n    type: core.noop\n"
        "    inputs: {value: $workflow.dir}\noutputs:\n  dir: $where.value\n"
    )
    result = Engine(test_host, store).run(load_workflow(path, test_host))
    assert result.outputs == {"dir": str(path.parent.resolve())}


def test_references_nested_in_structures(make_workflow, engine):
    wf = make_workflow(
        """
        inputs:
          seed: {type: int, default: 3}
        nodes:
          - id: a
            type: core.const
            config: {value: 5}
          - id: b
            type: core.noop
            inputs:
              value: {graph: $a.value, seeds: [$inputs.seed, 4], fixed: "$$literal"}
        outputs:
          pair: [$a.value, $b.value]
        """
    )
    assert wf.nodes["b"].depends_on == {"a"}
    result = engine.run(wf)
    expected = {"graph": 5, "seeds": [3, 4], "fixed": "$literal"}
    assert result.outputs == {"pair": [5, expected]}
