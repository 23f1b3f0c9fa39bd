"""The ``autoglm`` command end to end, as installed."""

from __future__ import annotations

import json
from pathlib import Path

from core_helpers import PRIVATE_PLUGINS, run_cli

GOOD = """
name: cli-demo
inputs:
  text: {type: str, default: "summarize this short text please"}
nodes:
  - id: route
    type: textkit.keyword_router
    inputs: {text: $inputs.text}
  - id: split
    type: textkit.split
    config: {chunk_words: 3, overlap_words: 1}
    inputs: {text: $inputs.text}
    when: "route.task == 'summary'"
outputs:
  task: $route.task
  chunks: $split.chunks
"""


def test_run_prints_outputs_and_records_the_run(tmp_path: Path):
    wf = tmp_path / "wf.yaml"
    wf.write_text(GOOD)
    env = {"AUTOGLM_HOME": str(tmp_path / "home")}
    result = run_cli("run", str(wf), "--plugins", "textkit", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "succeeded"
    assert data["outputs"]["task"] == "summary"
    assert data["outputs"]["chunks"][0] == "summarize this short"
    listing = run_cli("runs", "--json", env=env)
    [run] = json.loads(listing.stdout)
    assert run["id"] == data["run_id"] and run["status"] == "succeeded"
    shown = run_cli("runs", data["run_id"], env=env)
    assert "keyword_router" in shown.stdout


def test_run_input_override_and_text_output(tmp_path: Path):
    wf = tmp_path / "wf.yaml"
    wf.write_text(GOOD)
    env = {"AUTOGLM_HOME": str(tmp_path / "home")}
    result = run_cli("run", str(wf), "-i", "text=what is a graph?", env=env)
    assert result.returncode == 0, result.stderr
    assert "task: qa" in result.stdout
    assert "skipped" in result.stdout


def test_validate_reports_located_problems_and_exit_code(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - id: a\n    type: textkit.split\n    config: {chunk_words: -1}\n")
    result = run_cli("validate", str(bad), "--plugins", "textkit")
    assert result.returncode == 2
    assert f"{bad}:4: node 'a': field 'config.chunk_words'" in result.stderr
    assert "missing required input 'text'" in result.stderr
    as_json = run_cli("validate", str(bad), "--plugins", "textkit", "--json")
    problems = json.loads(as_json.stdout)[str(bad)]
    assert {p["field"] for p in problems} == {"config.chunk_words", "inputs.text"}


def test_run_refuses_an_invalid_workflow_before_running(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - id: a\n    type: core.noop\n    inputs: {value: $b.value}\n")
    result = run_cli("run", str(bad), env={"AUTOGLM_HOME": str(tmp_path / "h")})
    assert result.returncode == 2
    assert "dangling reference" in result.stderr
    assert not (tmp_path / "h" / "runs.sqlite").exists()


def test_unknown_plugin_in_allow_list(tmp_path: Path):
    result = run_cli("plugins", "--plugins", "textkit,nope")
    assert result.returncode == 1
    assert "'nope', which is not installed" in result.stderr


def test_graph_prints_mermaid(tmp_path: Path):
    wf = tmp_path / "wf.yaml"
    wf.write_text(GOOD)
    result = run_cli("graph", str(wf), "--plugins", "textkit")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    assert "    route -.->|\"when route.task == 'summary'\"| split" in lines
    assert '    route -->|"task"| outputs' in lines


def test_plugins_dir_and_block(tmp_path: Path):
    listing = run_cli("plugins", "--plugins-dir", str(PRIVATE_PLUGINS), "--block", "textkit")
    assert listing.returncode == 0, listing.stderr
    assert "testnodes [loaded] (plugins-dir" in listing.stdout
    assert "textkit 0.1.0 [blocked]" in listing.stdout


def test_help_lists_commands():
    result = run_cli("--help")
    for command in (
        "run",
        "validate",
        "plugins",
        "graph",
        "runs",
        "resume",
        "cancel",
        "serve",
        "keys",
    ):
        assert f"  {command}" in result.stdout


def test_service_commands_load_on_demand():
    result = run_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout


def test_input_values_that_are_not_yaml_are_taken_as_text(tmp_path: Path):
    wf = tmp_path / "wf.yaml"
    wf.write_text(GOOD)
    text = "summarize: this: text, please"
    result = run_cli(
        "run", str(wf), "-i", f"text={text}", "--json", env={"AUTOGLM_HOME": str(tmp_path / "h")}
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["task"] == "summary"


def test_a_string_input_that_reads_as_yaml_stays_the_text_given(tmp_path: Path):
    """Issue 19: ``-i text="Summarise: ..."`` (the QA config's own example) read as the YAML
    mapping ``{Summarise: ...}`` and failed the ``str`` type; a declared ``str`` input takes
    the text exactly as given (and ``-i text=42`` is the text "42")."""
    wf = tmp_path / "wf.yaml"
    wf.write_text(GOOD)
    env = {"AUTOGLM_HOME": str(tmp_path / "h")}
    result = run_cli("run", str(wf), "-i", "text=Summarise: a text", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)["outputs"]
    assert data["task"] == "summary" and data["chunks"][0] == "Summarise: a text"
    result = run_cli("run", str(wf), "-i", "text=42", "--json", env=env)
    assert result.returncode == 0, result.stderr


def test_runs_shows_what_a_running_node_has_journaled(tmp_path: Path):
    """A long search journals each trial: `autoglm runs RUN_ID` shows the count while it runs."""
    from autoglm.store import RunStore

    home = tmp_path / "home"
    home.mkdir()
    store = RunStore(home / "runs.sqlite")
    run_id = store.create_run(
        workflow_name="search-demo",
        workflow_source="nodes: []",
        workflow_path=None,
        inputs={},
        selection={},
        status="running",
    )
    store.node_started(run_id, "search", "tuner.search", {})
    for trial in range(3):
        store.journal_append(run_id, "search", "trial", {"trial": trial})
    store.journal_append(run_id, "search", "final", {"trial": 0})
    env = {"AUTOGLM_HOME": str(home)}
    shown = run_cli("runs", run_id, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "final 1, trial 3" in shown.stdout
    data = json.loads(run_cli("runs", run_id, "--json", env=env).stdout)
    assert data["journal_counts"] == {"search": {"final": 1, "trial": 3}}
