"""Regression tests of the validator's findings (issue 10, finding 6; issue 11, the alias bomb):
each input once crashed ``autoglm validate`` with a traceback, hung it, or was accepted although
it cannot work. Now each is a located problem (file, line, node, field) found in well under a
second, or a node that fails with a message at run time."""

from __future__ import annotations

import codecs
import json
import textwrap
import time
from pathlib import Path

import pytest
from core_helpers import run_cli

from autoglm.engine import Engine
from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.plugins import Host, PluginSelection
from autoglm.service.catalogue import Catalogue, check_inline_yaml
from autoglm.testing.workflow_fuzz import alias_bomb
from autoglm.workflow import ParseLimits, load_workflow, parse_workflow

BASE = """\
name: demo
nodes:
  - id: a
    type: core.const
    config: {value: 1}
"""


def problems_of(call, *args, **kwargs) -> list[WorkflowProblem]:
    started = time.process_time()  # CPU time: the cost, however loaded the shared cores are
    with pytest.raises(WorkflowError) as info:
        call(*args, **kwargs)
    assert time.process_time() - started < 2.0
    return info.value.problems


def text_problems(host: Host, text: str, **kwargs) -> list[WorkflowProblem]:
    return problems_of(parse_workflow, textwrap.dedent(text), host, path="wf.yaml", **kwargs)


def file_problems(host: Host, tmp_path: Path, data: bytes) -> list[WorkflowProblem]:
    path = tmp_path / "wf.yaml"
    path.write_bytes(data)
    found = problems_of(load_workflow, path, host)
    assert all(p.file == str(path) for p in found)
    return found


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (BASE.encode("utf-16"), "UTF-16 (little-endian) text"),
        (codecs.BOM_UTF16_BE + BASE.encode("utf-16-be"), "UTF-16 (big-endian) text"),
        (BASE.encode("utf-32"), "UTF-32 (little-endian) text"),
        (BASE.encode("utf-16-le"), "UTF-16 or UTF-32 text without a byte-order mark"),
        (bytes(range(256)) * 4, "binary file"),
    ],
)
def test_non_utf8_files_are_named_not_decoded(test_host, tmp_path, data, expected):
    [problem] = file_problems(test_host, tmp_path, data)
    assert expected in problem.message


def test_latin1_file_names_the_line_and_byte(test_host, tmp_path):
    data = (BASE + "description: caf\xe9\n").encode("latin-1")
    [problem] = file_problems(test_host, tmp_path, data)
    assert problem.line == 6 and "byte 0xe9" in problem.message and "UTF-8" in problem.message


def test_utf8_with_byte_order_mark_is_read(test_host, tmp_path):
    path = tmp_path / "wf.yaml"
    path.write_bytes(codecs.BOM_UTF8 + BASE.encode())
    assert load_workflow(path, test_host).order == ["a"]


def test_unpaired_surrogate_in_text(test_host):
    [problem] = text_problems(test_host, BASE + "description: '\ud800'\n")
    assert "surrogate" in problem.message and problem.line == 6


def test_validate_checks_every_file_after_a_bad_one_and_json_is_always_printed(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(BASE.encode("utf-16"))
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    result = run_cli("validate", str(bad), str(folder), str(good), "--json")
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert report[str(good)] == []
    assert "UTF-16" in report[str(bad)][0]["message"]
    assert "cannot read workflow" in report[str(folder)][0]["message"]
    assert "Traceback" not in result.stderr
    text = run_cli("validate", str(bad), str(good))
    assert f"{good}: ok (1 nodes)" in text.stdout and "UTF-16" in text.stderr


# ------------------------------------------------------------- scalar values


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("    config: {value: " + "9" * 5000 + "}", "config.value", "out of range"),
        ("    config: {value: -" + "9" * 30 + "}", "config.value", "out of range"),
        ("    retry: 0x" + "f" * 5000, "retry", "out of range"),
        ("    timeout: 0x" + "f" * 5000, "timeout", "out of range"),
        ("    config: {value: !!float 'x'}", "config.value", "cannot read float value 'x'"),
        ("    config: {value: !!bool maybe}", "config.value", "cannot read bool value 'maybe'"),
        ("    config: {value: !!int 'ten'}", "config.value", "cannot read int value 'ten'"),
        ("    config: {value: !!timestamp 2024-13-45}", "config.value", "cannot read timestamp"),
    ],
)
def test_values_yaml_cannot_construct_are_located(test_host, line, field, expected):
    text = BASE.replace("    config: {value: 1}\n", "") + line + "\n"
    [problem] = text_problems(test_host, text)
    assert expected in problem.message
    assert (problem.file, problem.line, problem.node, problem.field) == ("wf.yaml", 5, "a", field)
    assert len(str(problem)) < 300


def test_an_alias_to_a_bad_value_is_reported_where_it_is_defined(test_host):
    text = BASE + "description: &bad !!float 'x'\nversion: *bad\n"
    problems = text_problems(test_host, text)
    assert {p.line for p in problems} == {6}


# --------------------------------------------------------- graph and `when`


def test_a_3000_node_cycle_is_reported_without_recursion(test_host):
    n = 3000
    text = "nodes:\n" + "".join(
        f"  - id: n{i}\n    type: core.noop\n    inputs: {{value: $n{(i + 1) % n}.value}}\n"
        for i in range(n)
    )
    [problem] = text_problems(test_host, text)
    assert problem.message.startswith("cycle in the workflow: n0 -> n2999")
    assert "(2989 more)" in problem.message and problem.node == "n0"


def test_a_3000_node_chain_is_ordered(test_host):
    n = 3000
    text = "nodes:\n  - {id: n0, type: core.const, config: {value: 1}}\n" + "".join(
        f"  - {{id: n{i}, type: core.noop, inputs: {{value: $n{i - 1}.value}}}}\n"
        for i in range(1, n)
    )
    wf = parse_workflow(text, test_host, path="wf.yaml")
    assert wf.order[:3] == ["n0", "n1", "n2"] and len(wf.order) == n


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("not " * 5000 + "true", "20,004 characters long; at most 1,000"),
        ("not " * 240 + "true", "nested 241 levels deep; at most 32"),
        ("-" * 900 + "1 == 1", "nested"),
        ("(" * 300 + "1" + ")" * 300, "too many nested parentheses"),
    ],
)
def test_deep_or_long_when_is_refused_before_it_recurses(test_host, when, expected):
    [problem] = text_problems(test_host, BASE + f'    when: "{when}"\n')
    assert expected in problem.message
    assert (problem.line, problem.node, problem.field) == (6, "a", "when")


def test_expression_limits_can_be_raised(test_host):
    limits = ParseLimits(max_expression_chars=5000, max_expression_depth=300)
    wf = parse_workflow(BASE + f'    when: "{"not " * 240 + "true"}"\n', test_host, limits=limits)
    assert wf.nodes["a"].when is not None


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("    timeout: -1", "timeout", "greater than 0"),
        ("    timeout: 0", "timeout", "greater than 0"),
        ("    timeout: .nan", "timeout", "finite number"),
        ("    timeout: .inf", "timeout", "finite number"),
        ("    timeout: 1e300", "timeout", "less than or equal"),
        ("    retry: 1000000", "retry.attempts", "less than or equal to 100"),
        ("    retry: {attempts: 3, backoff: .nan}", "retry.backoff", "finite"),
        ("    when: 5", "when", "expected an expression string"),
        ("    when: []", "when", "found a list"),
        ("    when: true", "when", "found a boolean"),
    ],
)
def test_settings_and_when_that_cannot_work_are_refused(test_host, line, field, expected):
    [problem] = text_problems(test_host, BASE + line + "\n")
    assert expected in problem.message
    assert (problem.line, problem.node, problem.field) == (6, "a", field)


@pytest.mark.parametrize("section", ["config", "inputs"])
@pytest.mark.parametrize("value", ["[]", "0", "''", "[a]"])
def test_node_config_and_inputs_must_be_mappings(test_host, section, value):
    text = "nodes:\n  - id: a\n    type: core.noop\n" + f"    {section}: {value}\n"
    found = text_problems(test_host, text)
    assert any(
        p.field == section and p.node == "a" and p.line == 4 and "expected a mapping" in p.message
        for p in found
    ), found


@pytest.mark.parametrize("section", ["inputs", "outputs", "defaults"])
def test_workflow_sections_must_be_mappings(test_host, section):
    found = text_problems(test_host, BASE + f"{section}: []\n")
    assert any(p.field == section and p.line == 6 for p in found), found


def test_a_when_that_raises_at_run_time_fails_the_node_with_its_values(test_host, engine: Engine):
    wf = parse_workflow(
        textwrap.dedent(
            """
            nodes:
              - id: a
                type: core.const
                config: {value: 1}
              - id: b
                type: core.noop
                inputs: {value: $a.value}
                when: "a.value in 'abc'"
              - id: c
                type: core.noop
                inputs: {value: $b.value}
            """
        ),
        test_host,
        path="wf.yaml",
    )
    result = engine.run(wf)
    assert result.status == "failed"
    node = result.nodes["b"]
    assert node.status == "failed"
    assert "a.value in 'abc'" in node.error and "cannot compare 1 in 'abc'" in node.error
    assert "c" not in result.nodes or result.nodes["c"].status != "succeeded"


def test_a_when_that_is_false_still_skips(test_host, engine: Engine):
    wf = parse_workflow(
        BASE + "  - id: b\n    type: core.noop\n    inputs: {value: $a.value}\n"
        '    when: "a.value in [2, 3]"\n',
        test_host,
    )
    result = engine.run(wf)
    assert result.status == "succeeded"
    assert result.nodes["b"].status == "skipped"


# ------------------------------------------------------- size, depth, aliases


@pytest.mark.parametrize("where", ["config", "inputs", "outputs"])
def test_alias_bombs_are_refused_by_expanded_size_wherever_they_sit(test_host, where):
    if where == "outputs":
        text = BASE + "outputs:\n  o:\n" + alias_bomb(8, "    ")
    else:
        kind = "core.const" if where == "config" else "core.noop"
        key = "config" if where == "config" else "inputs"
        text = f"nodes:\n  - id: a\n    type: {kind}\n    {key}:\n      value:\n"
        text += alias_bomb(8, "        ")
    assert len(text) < 700
    started = time.process_time()
    [problem] = text_problems(test_host, text)
    assert time.process_time() - started < 0.2
    assert "aliases expand to more than 100,000 values" in problem.message and problem.line
    if where == "outputs":
        assert problem.node is None and problem.field == "outputs.o.x5.0"
    else:
        assert problem.node == "a" and problem.field == f"{where}.value.x5.0"


def test_small_aliases_and_merge_keys_still_work(test_host):
    text = """
    defaults: &fast {retry: 2}
    nodes:
      - &node {id: a, type: core.const, config: &cfg {value: [1, 2, 3]}}
      - {<<: *node, id: b, config: {<<: *cfg}}
    outputs: {x: $a.value, y: $b.value}
    """
    wf = parse_workflow(textwrap.dedent(text), test_host)
    assert wf.nodes["b"].config == {"value": [1, 2, 3]}


def test_alias_budget_counts_aliases_inside_anchors(test_host):
    # 4 levels (9**4 = 6,561 values) pass the default budget and fail a budget of 5,000
    text = BASE.replace("{value: 1}", "\n      value:\n" + alias_bomb(4, "        "))
    parse_workflow(text, test_host)
    [problem] = text_problems(test_host, text, limits=ParseLimits(max_alias_nodes=5000))
    assert "more than 5,000 values" in problem.message


def test_a_recursive_alias_is_refused(test_host):
    [problem] = text_problems(test_host, BASE + "description: &loop [a, *loop]\n")
    assert "recursive" in problem.message and problem.line == 6


def test_file_size_limit_default_env_and_option(test_host, tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text(BASE + "description: '" + "x" * 1_100_000 + "'\n")
    [problem] = problems_of(load_workflow, path, test_host)
    assert "1,000,000" in problem.message and "AUTOGLM_WORKFLOW_MAX_BYTES" in problem.message
    assert load_workflow(path, test_host, limits=ParseLimits(max_bytes=2_000_000))
    monkeypatch.setenv("AUTOGLM_WORKFLOW_MAX_BYTES", "2000000")
    assert load_workflow(path, test_host)
    monkeypatch.setenv("AUTOGLM_WORKFLOW_MAX_BYTES", "100")
    result = run_cli("validate", str(path), "--max-bytes", "2000000")
    assert result.returncode == 0, result.stderr


def test_nesting_depth_limit(test_host):
    text = BASE.replace("{value: 1}", "{value: " + "[" * 70 + "]" * 70 + "}")
    [problem] = text_problems(test_host, text)
    assert "nested deeper than 64 levels" in problem.message and problem.line == 5
    deep_alias = BASE + "description: &d " + "[" * 40 + "]" * 40 + "\n"
    deep_alias += "version: " + "[" * 30 + "*d" + "]" * 30 + "\n"
    [problem] = text_problems(test_host, deep_alias)
    assert "through *d" in problem.message


def test_the_service_refuses_an_inline_alias_bomb_in_milliseconds():
    bomb = "nodes:\n  - id: a\n    type: core.const\n    config:\n      value:\n"
    bomb += alias_bomb(7, "        ")
    assert len(bomb) < 600 and bomb.count("*") == 63
    started = time.process_time()
    with pytest.raises(WorkflowError, match="expand to more than 100,000"):
        check_inline_yaml(bomb)
    assert time.process_time() - started < 0.05


def test_a_control_character_is_located(test_host):
    # found by the fuzz test: PyYAML's ReaderError has a position, not a line
    [problem] = text_problems(test_host, BASE + "description: bell\x07\n")
    assert problem.line == 6 and "U+0007 at column 18 is not allowed" in problem.message


def test_the_number_of_values_is_bounded(test_host):
    text = BASE.replace("{value: 1}", "{value: [" + "1, " * 100_000 + "1]}")
    [problem] = text_problems(test_host, text)
    assert "more than 100,000 values" in problem.message and problem.line == 5
    assert parse_workflow(text, test_host, limits=ParseLimits(max_values=200_000))


BUGGY_PLUGIN = '''
from pydantic import field_validator

from autoglm import NodeModel, NodeType, hookimpl


class Config(NodeModel):
    size: int = 1

    @field_validator("size")
    @classmethod
    def check(cls, value):
        raise RuntimeError("the plugin's own bug")


class Inputs(NodeModel):
    value: int = 0


class BuggyNode(NodeType):
    """A node type whose config check raises RuntimeError, which pydantic passes through."""

    name = "buggy.node"
    Config = Config
    Inputs = Inputs
    Outputs = Inputs

    def execute(self, inputs, context):
        return inputs


@hookimpl
def register_nodes(register):
    register(BuggyNode)
'''


def test_a_plugin_whose_validation_raises_is_a_located_problem(tmp_path):
    (tmp_path / "buggy.py").write_text(BUGGY_PLUGIN)
    host = Host.load(PluginSelection(allow=("buggy",), plugin_dirs=(str(tmp_path),)))
    text = "nodes:\n  - id: a\n    type: buggy.node\n    config: {size: 2}\n"
    [problem] = text_problems(host, text)
    assert (problem.line, problem.node, problem.field) == (4, "a", "config")
    assert 'raised RuntimeError: "the plugin\'s own bug"' in problem.message
    assert "internal validator error" not in problem.message


def test_the_service_catalogue_lists_a_non_utf8_workflow_as_invalid(test_host, tmp_path):
    (tmp_path / "bad.yaml").write_bytes(BASE.encode("utf-16"))
    entry = Catalogue(tmp_path).describe("bad", test_host)
    assert not entry.valid and entry.problems[0].file == "bad.yaml"
    assert "UTF-16" in entry.problems[0].message
