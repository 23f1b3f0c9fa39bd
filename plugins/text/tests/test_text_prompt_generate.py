"""Safe prompt rendering, and the answer step in extractive and generative modes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autoglm.testing import run_node
from autoglm_text.extractive import sentences
from autoglm_text.node_generate import TextGenerateNode
from autoglm_text.node_prompt import PromptNode

PASSAGES = [
    "# Caching\n\nThe engine caches every node result by type, version, config and inputs. "
    "A node can set a retry policy with several attempts.",
    "so that it stops. Long nodes write journal entries to resume where they stopped. "
    "The tuner runs trials in a worker",
]


def test_prompt_picks_the_template_of_the_task(autoglm_home):
    out = run_node(
        PromptNode,
        {},
        {"task": "qa", "question": "What is cached?", "context": ["[a.md] one", "[b.md] two"]},
        home=autoglm_home,
    )
    assert out.template == "qa"
    assert "Context:\n[a.md] one\n\n[b.md] two\n\nQuestion: What is cached?" in out.text
    summary = run_node(
        PromptNode, {}, {"task": "summary", "context": "long text"}, home=autoglm_home
    )
    assert summary.template == "summary" and "long text" in summary.text


def test_prompt_refuses_code_and_names_what_is_missing(autoglm_home):
    with pytest.raises(ValidationError, match=r"templates.template: .*\{question.__class__\}"):
        run_node(PromptNode, {"template": "{question.__class__}"}, {}, home=autoglm_home)
    with pytest.raises(ValidationError, match="conversion or format spec"):
        run_node(PromptNode, {"template": "{question:>99999999}"}, {}, home=autoglm_home)
    with pytest.raises(ValueError, match=r"template needs \['context'\]"):
        run_node(PromptNode, {}, {"task": "summary", "question": "q"}, home=autoglm_home)
    with pytest.raises(ValueError, match="inputs.task: expected one of"):
        run_node(PromptNode, {}, {"task": "poetry"}, home=autoglm_home)
    out = run_node(
        PromptNode, {"template": "{{literal}} {x}"}, {"values": {"x": 1}}, home=autoglm_home
    )
    assert out.text == "{literal} 1"


def test_sentences_drop_headings_fragments_and_duplicates():
    got = sentences([*PASSAGES, PASSAGES[0]])
    assert got == [
        "The engine caches every node result by type, version, config and inputs.",
        "A node can set a retry policy with several attempts.",
        "Long nodes write journal entries to resume where they stopped.",
    ]


def test_extractive_answer_ranks_sentences_by_the_question(autoglm_home):
    out = run_node(
        TextGenerateNode,
        {"device": "cpu", "sentences": 1},
        {"passages": PASSAGES, "question": "How many times is a failing node attempted?"},
        home=autoglm_home,
    )
    assert out.mode == "extractive"
    assert out.text == "A node can set a retry policy with several attempts."


def test_extractive_summary_keeps_text_order(autoglm_home):
    out = run_node(
        TextGenerateNode,
        {"device": "cpu", "sentences": 2},
        {"passages": PASSAGES, "task": "summary", "question": "ignored for summaries"},
        home=autoglm_home,
    )
    order = sentences(PASSAGES)
    assert len(out.evidence) == 2
    assert [order.index(s) for s in out.evidence] == sorted(order.index(s) for s in out.evidence)


def test_generative_mode_uses_the_causal_lm(tiny_lm_folder, autoglm_home):
    from autoglm_hf.adapters import load_causal_lm

    config = {"device": "cpu", "chat": False, "max_new_tokens": 6}
    out = run_node(
        TextGenerateNode,
        config,
        {"prompt": "the capital of italy is", "model": tiny_lm_folder},
        home=autoglm_home,
    )
    expected = load_causal_lm(tiny_lm_folder, device="cpu").generate(
        ["the capital of italy is"], max_new_tokens=6
    )
    assert (out.mode, out.text) == ("generative", expected[0])
    assert out.text.startswith("rome")


def test_missing_inputs_are_named(autoglm_home):
    with pytest.raises(ValueError, match="extractive mode needs passages"):
        run_node(TextGenerateNode, {}, {"question": "q"}, home=autoglm_home)
    with pytest.raises(ValueError, match=r"inputs.prompt: model 'some/model' needs a prompt"):
        run_node(TextGenerateNode, {"model": "some/model"}, {}, home=autoglm_home)
