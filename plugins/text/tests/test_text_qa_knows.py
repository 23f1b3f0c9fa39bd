"""configs/qa-pipeline.yaml knows when it does not know (issue 19), through the real engine.

Before: "What is the capital of Australia?" and an empty input got two unrelated knowledge-base
sentences; the multi-part tuner question got the wrong sentences; an article without an
instruction word was routed to QA; the config's own ``-i text="Summarise: ..."`` example did
not parse.
"""

from __future__ import annotations

import re
import shlex

import pytest
from pydantic import ValidationError

from autoglm.cli import _parse_inputs
from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.testing import run_node
from autoglm.workflow import load_workflow
from autoglm_text.node_task import TaskTypeNode


@pytest.fixture
def pipeline(autoglm_host, autoglm_home, repo_root, kb_dir):
    host = autoglm_host(["text", "hf"])
    workflow = load_workflow(repo_root / "configs" / "qa-pipeline.yaml", host)
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"), workers=2)

    def run(text: str):
        return engine.run(workflow, {"kb": str(kb_dir), "text": text})

    return run


def test_off_topic_question_abstains(pipeline):
    out = pipeline("What is the capital of Australia?").outputs
    assert out["abstained"] is True and out["answer"].startswith("Not in the knowledge base")
    assert out["score"] < 0.2


def test_answerable_question_is_answered_with_the_right_sentence(pipeline):
    out = pipeline("How do I resume a killed run?").outputs
    assert out["abstained"] is False
    assert out["answer"].startswith("A killed run can be resumed with `autoglm resume RUN_ID`")


def test_two_part_question_gets_a_sentence_per_part(pipeline):
    """Each part is answered by its own sentence: the halving one was missing before."""
    out = pipeline("Which optimiser does the tuner use, and how does successive halving work?")
    evidence = out.nodes["answer"].outputs["evidence"]
    assert len(evidence) == 2 and all("tuner" in s or "Trials" in s for s in evidence)
    assert "stopped early with successive halving" in evidence[1]


def test_empty_input_is_rejected(pipeline, autoglm_home):
    result = pipeline("   ")
    assert result.status == "failed" and "empty request" in result.error
    with pytest.raises(ValidationError, match="empty request"):
        run_node(TaskTypeNode, {"strategy": "rules"}, {"text": ""}, home=autoglm_home)


def test_article_without_instruction_is_a_summary_request(kb_dir, autoglm_home):
    files = ("05-engine.md", "06-resume.md", "07-tuner.md")
    article = " ".join((kb_dir / name).read_text().split("\n", 2)[2] for name in files)
    assert not re.search(r"summar", article, re.IGNORECASE)
    out = run_node(TaskTypeNode, {"strategy": "rules"}, {"text": article}, home=autoglm_home)
    assert (out.task, out.method) == ("summary", "shape")
    question = "How does the engine cache node results when a run is resumed after a kill?"
    out = run_node(TaskTypeNode, {"strategy": "rules"}, {"text": question}, home=autoglm_home)
    assert (out.task, out.method) == ("qa", "rule")


def test_header_examples_of_the_config_parse(autoglm_host, repo_root):
    """Every ``autoglm run configs/qa-pipeline.yaml -i ...`` line of the file's own header."""
    config = repo_root / "configs" / "qa-pipeline.yaml"
    workflow = load_workflow(config, autoglm_host(["text", "hf"]))
    examples = [
        line.split("autoglm run", 1)[1]
        for line in config.read_text().splitlines()
        if line.startswith("#") and "autoglm run" in line
    ]
    assert any("Summarise: ..." in e for e in examples)
    for example in examples:
        words = shlex.split(example)
        pairs = tuple(words[i + 1] for i, w in enumerate(words) if w == "-i")
        values = workflow.resolve_inputs(_parse_inputs(pairs, None, workflow.inputs))
        assert isinstance(values["text"], str) and values["text"]
