"""Every validation error names the file, line, node id and field, and nothing runs."""

from __future__ import annotations

import textwrap

import pytest

from autoglm.errors import WorkflowError


def problems(make_workflow, text: str) -> list[str]:
    with pytest.raises(WorkflowError) as info:
        make_workflow(text)
    return [str(p) for p in info.value.problems]


def test_valid_workflow_has_topological_order(make_workflow):
    wf = make_workflow(
        """
        nodes:
          - id: b
            type: core.noop
            inputs: {value: $a.value}
          - id: a
            type: core.const
            config: {value: 1}
        """
    )
    assert wf.order == ["a", "b"]


def test_unknown_node_type_lists_what_is_available(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: x
            type: core.nope
        """,
    )
    assert msg.startswith("test.yaml:4: node 'x': field 'type': unknown node type 'core.nope'")
    assert "core.noop" in msg


def test_unknown_keys_at_every_level(make_workflow):
    msgs = problems(
        make_workflow,
        """
        nodez: []
        nodes:
          - id: x
            type: core.noop
            retries: 3
        """,
    )
    assert any("test.yaml:2: field 'nodez': unknown key 'nodez'" in m for m in msgs)
    assert any("test.yaml:6: node 'x': field 'retries': unknown key 'retries'" in m for m in msgs)


def test_cycle_is_reported_with_its_path(make_workflow):
    msgs = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.noop
            inputs: {value: $c.value}
          - id: b
            type: core.noop
            inputs: {value: $a.value}
          - id: c
            type: core.noop
            inputs: {value: $b.value}
        """,
    )
    [msg] = msgs
    assert "cycle in the workflow" in msg
    assert "a -> b -> c -> a" in msg or "b -> c -> a -> b" in msg or "c -> a -> b -> c" in msg


def test_dangling_reference_and_unknown_output_field(make_workflow):
    msgs = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.const
          - id: b
            type: core.noop
            inputs: {value: $ghost.value}
          - id: c
            type: core.noop
            inputs:
              value: $a.valu
        """,
    )
    assert any(
        "test.yaml:7: node 'b': field 'inputs.value': reference $ghost.value names no node" in m
        for m in msgs
    )
    assert any(
        "test.yaml:11: node 'c': field 'inputs.value'" in m and "has no output 'valu'" in m
        for m in msgs
    )


def test_missing_required_input(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: n
            type: testnodes.need_int
        """,
    )
    assert "node 'n': field 'inputs.n': missing required input 'n'" in msg


def test_config_mismatch_names_the_config_field_and_line(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: s
            type: core.sleep
            config:
              seconds: soon
        """,
    )
    assert msg.startswith("test.yaml:6: node 's': field 'config.seconds':")
    assert "'soon'" in msg


def test_type_mismatch_between_connected_output_and_input(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: t
            type: testnodes.emit_text
          - id: n
            type: testnodes.need_int
            inputs: {n: $t.text}
        """,
    )
    assert "node 'n': field 'inputs.n': type mismatch: $t.text is str" in msg
    assert "int" in msg


def test_literal_input_of_wrong_type(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: n
            type: testnodes.need_int
            inputs: {n: many}
        """,
    )
    assert "field 'inputs.n'" in msg and "'many'" in msg


def test_run_input_references_and_types(make_workflow):
    msgs = problems(
        make_workflow,
        """
        inputs:
          count: {type: integer}
        nodes:
          - id: n
            type: testnodes.need_int
            inputs: {n: $inputs.missing}
        """,
    )
    assert any("field 'inputs.count.type': unknown type 'integer'" in m for m in msgs)
    assert any("$inputs.missing names no declared run input" in m for m in msgs)


def test_invalid_condition_is_refused_without_running_code(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.noop
            when: "__import__('os').system('echo hacked')"
        """,
    )
    assert "node 'a': field 'when': Call is not allowed" in msg


def test_python_tags_are_not_constructed(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.const
            config: {value: !!python/object/apply:os.system ["echo hacked"]}
        """,
    )
    assert "invalid YAML" in msg and "test.yaml:5" in msg


def test_duplicate_ids_and_bad_settings(make_workflow):
    msgs = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.noop
            retry: {attempts: 0}
          - id: a
            type: core.noop
            isolation: container
        """,
    )
    assert any("field 'retry.attempts': retry attempts must be at least 1" in m for m in msgs)
    assert any(
        "node 'a': field 'id': duplicate node id (first defined on line 3)" in m for m in msgs
    )


def test_all_problems_are_reported_at_once(make_workflow):
    msgs = problems(
        make_workflow,
        textwrap.dedent(
            """
            nodes:
              - id: a
                type: core.nope
              - id: b
                type: core.noop
                inputs: {value: $zzz.value}
            """
        ),
    )
    assert len(msgs) == 2


def test_run_inputs_are_checked_when_a_run_starts(make_workflow):
    wf = make_workflow(
        """
        inputs:
          n: {type: int}
          name: {type: str, default: x}
        nodes:
          - id: a
            type: testnodes.need_int
            inputs: {n: $inputs.n}
        """
    )
    assert wf.resolve_inputs({"n": 3}) == {"n": 3, "name": "x"}
    with pytest.raises(WorkflowError, match="run input 'n' .* is required"):
        wf.resolve_inputs({})
    with pytest.raises(WorkflowError, match="field 'inputs.n': expected int"):
        wf.resolve_inputs({"n": "three"})
    with pytest.raises(WorkflowError, match="unknown run input 'm'"):
        wf.resolve_inputs({"n": 1, "m": 2})


def test_workflow_reference_fields(make_workflow):
    [msg] = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.noop
            inputs: {value: $workflow.folder}
        """,
    )
    assert "expected $workflow.dir, $workflow.file or $workflow.name" in msg


def test_nested_and_output_references_are_checked(make_workflow):
    msgs = problems(
        make_workflow,
        """
        nodes:
          - id: a
            type: core.noop
            inputs:
              value: {x: [$ghost.value]}
        outputs:
          result: $phantom.value
        """,
    )
    assert any("node 'a': field 'inputs.value': reference $ghost.value" in m for m in msgs)
    assert any("test.yaml:8: field 'outputs.result': reference $phantom.value" in m for m in msgs)
