"""Task-type recognition: rules first, then the nearest labelled examples (real MiniLM)."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from autoglm.errors import WorkflowError
from autoglm.testing import isolated_host, run_node
from autoglm.workflow import parse_workflow
from autoglm_text.node_task import TaskTypeNode, match_rules


@pytest.mark.parametrize(
    ("text", "task", "method"),
    [
        ("What is autoglm?", "qa", "rule"),
        ("Can you summarise this report?", "summary", "rule"),  # summary rules come first
        ("tl;dr of the following post", "summary", "rule"),
        ("Give me the key points of this article", "summary", "examples"),
        ("Tell me about caching in the engine", "qa", "examples"),
        ("the weather is nice today", "qa", "default"),
    ],
)
def test_default_rules_and_examples(autoglm_home, text, task, method):
    out = run_node(TaskTypeNode, {"device": "cpu"}, {"text": text}, home=autoglm_home)
    assert (out.task, out.method) == (task, method)
    if method == "examples":
        assert 0.5 < out.confidence <= 1 and out.evidence


def test_custom_task_types_by_examples_only(autoglm_home):
    config = {
        "device": "cpu",
        "strategy": "examples",
        "examples": {
            "translate": ["Translate this into French", "How do you say hello in German"],
            "code": ["Write a Python function that sorts a list", "Fix the bug in this loop"],
        },
        "k": 1,
        "default": "other",
    }
    out = run_node(
        TaskTypeNode, config, {"text": "Please render this sentence in Spanish"}, home=autoglm_home
    )
    assert (out.task, out.method) == ("translate", "examples")
    out = run_node(
        TaskTypeNode, config, {"text": "Implement quicksort in Rust?"}, home=autoglm_home
    )
    assert out.task == "code"  # the '?' rule is off with strategy=examples


def test_rules_only_never_loads_an_encoder(autoglm_home):
    out = run_node(
        TaskTypeNode,
        {"strategy": "rules", "encoder": "/nonexistent/encoder"},
        {"text": "key points please"},
        home=autoglm_home,
    )
    assert (out.task, out.method) == ("qa", "default")


def test_bad_regex_is_named(autoglm_home):
    with pytest.raises(ValidationError, match=r"rules\.qa\.0\n.*regular expression '\('"):
        run_node(TaskTypeNode, {"rules": {"qa": ["("]}}, {"text": "x"}, home=autoglm_home)


def test_catastrophic_rule_answers_at_once(autoglm_home):
    """``(a+)+$`` on 27 characters took 19.4 s with ``re`` (issue 11); RE2 is linear time."""
    rules = {"bomb": ["(a+)+$", "(a|aa)+$", "(x+x+)+y"]}
    text = "a" * 26 + "!" + "a" * 5000 + "!"
    started = time.perf_counter()
    assert match_rules(text, rules) is None
    assert time.perf_counter() - started < 0.1
    out = run_node(
        TaskTypeNode, {"strategy": "rules", "rules": rules}, {"text": text}, home=autoglm_home
    )
    assert (out.task, out.method) == ("qa", "default")


def test_rule_the_linear_engine_refuses_is_a_located_workflow_error(autoglm_home):
    host = isolated_host(["text"])
    with pytest.raises(WorkflowError) as info:
        parse_workflow(
            "nodes:\n"
            "  - id: route\n"
            "    type: text.task_type\n"
            "    config: {strategy: rules, rules: {qa: ['ok', '(a)\\1']}}\n"
            "    inputs: {text: hi}\n",
            host,
            path="wf.yaml",
        )
    [problem] = [str(p) for p in info.value.problems]
    assert "node 'route': field 'config.rules.qa.1'" in problem
    assert "backreferences" in problem
