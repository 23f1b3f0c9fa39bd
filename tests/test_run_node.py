"""``autoglm run-node``: each node of a workflow run in its own process, upstream outputs passed
as files, gives what ``autoglm run`` gives.

Every step below is a real ``autoglm`` subprocess with a home (run store, artefacts) of its
own, as a pod per node has: files and artefact folders are the only thing passed on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "export"
ALL_NODES = FIXTURES / "all-nodes.yaml"
#: configs/quickstart.yaml with the same node types and wiring, on a tiny graph and a 3-trial
#: search: the full one trains for minutes
QUICKSTART_SMALL = FIXTURES / "quickstart-small.yaml"
AUTOGLM = [str(Path(sys.executable).with_name("autoglm"))]


def autoglm(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOGLM_HOME": str(home)}
    return subprocess.run(
        [*AUTOGLM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def full_run(workflow: Path, plugins: str, tmp_path: Path) -> dict[str, Any]:
    proc = autoglm(
        "run", str(workflow), "--plugins", plugins, "--json", "--no-progress",
        home=tmp_path / "full-home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    # stdout is the JSON document alone: spawned workers (the tuner's trials) log to stderr
    return json.loads(proc.stdout)


def run_each_node(
    workflow: Path, order: list[str], deps: dict[str, list[str]], plugins: str, tmp_path: Path
) -> dict[str, dict[str, Any]]:
    """Run every node in its own process and home; each artefact folder is copied to a new
    place (a download) before the next node reads it."""
    docs: dict[str, dict[str, Any]] = {}
    for node in order:
        args = [str(workflow), "--node", node, "--plugins", plugins]
        for dep in deps[node]:
            downloaded = tmp_path / "downloads" / node / dep
            shutil.copytree(tmp_path / "out" / dep, downloaded)
            args += ["--upstream", f"{dep}={tmp_path / f'{dep}.json'}"]
            args += ["--upstream-artifacts", f"{dep}={downloaded}"]
        args += ["--outputs-file", str(tmp_path / f"{node}.json")]
        args += ["--artifacts-out", str(tmp_path / "out" / node)]
        proc = autoglm("run-node", *args, home=tmp_path / f"home-{node}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        shutil.rmtree(tmp_path / f"home-{node}")  # nothing of this pod survives but its files
        docs[node] = json.loads((tmp_path / f"{node}.json").read_text())
    return docs


def test_each_node_of_a_routing_workflow_gives_the_full_runs_results(tmp_path: Path):
    full = full_run(ALL_NODES, "textkit", tmp_path)
    assert full["status"] == "succeeded"
    order = ["route", "size", "split", "question", "after_question", "wait", "count"]
    deps = {
        "route": [],
        "size": [],
        "split": ["route"],
        "question": ["route"],
        "after_question": ["question"],
        "wait": ["split", "question"],
        "count": ["route", "split"],
    }
    docs = run_each_node(ALL_NODES, order, deps, "textkit", tmp_path)
    # the same statuses: `when` false skips, a skipped upstream skips, first_of takes the branch
    assert {n: d["status"] for n, d in docs.items()} == {
        n: rec["status"] for n, rec in full["nodes"].items()
    }
    assert docs["question"]["reason"] == "when: route.task == 'qa' is false"
    assert docs["after_question"]["reason"] == "upstream 'question' was skipped"
    for node, record in full["nodes"].items():
        assert docs[node]["outputs"] == record["outputs"], node
    assert docs["wait"]["outputs"]["value"] == full["outputs"]["chunks"]


@pytest.mark.slow
def test_each_node_of_the_quickstart_gives_the_full_runs_results(tmp_path: Path):
    full = full_run(QUICKSTART_SMALL, "gnn,tuner", tmp_path)
    assert full["status"] == "succeeded"
    deps = {"graph": [], "search": ["graph"], "evaluate": ["graph", "search"]}
    docs = run_each_node(QUICKSTART_SMALL, list(deps), deps, "gnn,tuner", tmp_path)
    assert all(d["status"] == "succeeded" for d in docs.values()), docs
    search, evaluate = docs["search"]["outputs"], docs["evaluate"]["outputs"]
    assert search["best_config"] == full["outputs"]["best_config"]
    assert search["best_score"] == full["outputs"]["best_val_acc"]
    assert evaluate["test_mean"] == full["outputs"]["test_mean"]
    # the graph file moved with its artefact folder, and the report with the search's
    assert Path(docs["graph"]["outputs"]["path"]).is_relative_to(tmp_path / "out" / "graph")
    assert Path(search["report_path"]) == tmp_path / "out" / "search" / "report.html"
    assert Path(search["report_path"]).is_file()


def test_missing_upstream_is_a_clear_error(tmp_path: Path):
    proc = autoglm(
        "run-node", str(ALL_NODES), "--node", "wait", "--plugins", "textkit",
        home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "node 'wait' needs the outputs of 'split', 'question'" in proc.stderr


def test_a_failed_upstream_is_refused_and_a_failing_node_exits_1(tmp_path: Path):
    failed = tmp_path / "route.json"
    failed.write_text(json.dumps({"node": "route", "status": "failed", "error": "boom"}))
    proc = autoglm(
        "run-node", str(ALL_NODES), "--node", "split", "--plugins", "textkit",
        "--upstream", f"route={failed}", home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "upstream 'route'" in proc.stderr and "'failed'" in proc.stderr
    assert "boom" in proc.stderr


def test_unknown_node_and_unread_upstream_are_named(tmp_path: Path):
    proc = autoglm(
        "run-node", str(ALL_NODES), "--node", "nope", "--plugins", "textkit",
        home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1 and "no node 'nope'" in proc.stderr and "route" in proc.stderr
    given = tmp_path / "size.json"
    given.write_text(json.dumps({"value": 6}))  # a bare mapping: outputs of a node that ran
    proc = autoglm(
        "run-node", str(ALL_NODES), "--node", "route", "--plugins", "textkit",
        "--upstream", f"size={given}", home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1 and "does not read 'size'" in proc.stderr


def test_run_inputs_and_output_parameters(tmp_path: Path):
    """Run inputs as JSON and -i; each output field to its own file (an orchestrator's
    parameters): a string as it is, anything else as JSON."""
    proc = autoglm(
        "run-node", str(ALL_NODES), "--node", "route", "--plugins", "textkit",
        "--inputs-json", json.dumps({"text": "What is a plugin?", "words": 4}),
        "--output-param", f"task={tmp_path / 'task.txt'}",
        "--output-param", f"matched={tmp_path / 'matched.txt'}",
        "--json", home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "succeeded" and doc["outputs"]["task"] == "qa"
    assert (tmp_path / "task.txt").read_text() == "qa"
    assert (tmp_path / "matched.txt").read_text() == doc["outputs"]["matched"]


def test_sandbox_policy_applies_to_run_node(tmp_path: Path):
    """The trust policy of `autoglm run --sandbox` holds for one node as for a full run."""
    wf = tmp_path / "read.yaml"
    wf.write_text(
        "nodes:\n  - id: index\n    type: text.index\n    inputs: {folder: /etc}\n",
        encoding="utf-8",
    )
    proc = autoglm(
        "run-node", str(wf), "--node", "index", "--plugins", "text", "--sandbox",
        home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "refused by the trust policy" in proc.stderr


def test_a_run_node_run_is_not_resumed_as_a_whole_workflow(tmp_path: Path):
    """The run store keeps the whole workflow's source; resuming a one-node run would run
    every other node, so it is refused."""
    proc = autoglm(
        "run-node", str(ALL_NODES), "--node", "route", "--plugins", "textkit", "--json",
        home=tmp_path / "home", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads(proc.stdout)["run_id"]
    proc = autoglm("resume", run_id, home=tmp_path / "home", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"run {run_id} ran node 'route' alone (autoglm run-node)" in proc.stderr
