"""configs/qa-pipeline.yaml end to end through the real engine: both routes, both models."""

from __future__ import annotations

import pytest

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.workflow import load_workflow


@pytest.fixture
def summary_text(kb_dir) -> str:
    """A summary request over two knowledge-base files (headings removed)."""
    files = ("05-engine.md", "06-resume.md")
    bodies = [(kb_dir / name).read_text().split("\n", 2)[2] for name in files]
    return "Summarise this text. " + " ".join(bodies)


@pytest.fixture
def run(autoglm_host, autoglm_home, repo_root, kb_dir):
    host = autoglm_host(["text", "hf"])
    workflow = load_workflow(repo_root / "configs" / "qa-pipeline.yaml", host)
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"), workers=2)

    def run_pipeline(**inputs):
        result = engine.run(workflow, {"kb": str(kb_dir), **inputs})
        assert result.status == "succeeded", result.error
        return result

    return run_pipeline


def test_question_is_answered_from_the_knowledge_base(run):
    result = run(text="How are plugins discovered?")
    out = result.outputs
    assert (out["task"], out["mode"]) == ("qa", "extractive")
    assert out["sources"][0] == "02-plugins.md"
    assert "entry-point group" in out["answer"]
    assert result.nodes["split"].status == "skipped"


def test_summary_request_splits_instead_of_retrieving(run, summary_text):
    result = run(text=summary_text)
    out = result.outputs
    assert (out["task"], out["mode"], out["sources"]) == ("summary", "extractive", None)
    assert {result.nodes[n].status for n in ("index", "retrieve")} == {"skipped"}
    answer_sentences = [s for s in out["answer"].split(". ") if s]
    assert len(answer_sentences) == 2
    assert all(s.rstrip(".") in summary_text for s in answer_sentences)


def test_same_pipeline_with_a_tiny_causal_model(run, tiny_lm_folder):
    """The model arrives as a run input; the answer is what that model generates from the
    rendered prompt (chat template, greedy), not an extract of the passages."""
    from autoglm_hf.adapters import load_causal_lm

    result = run(text="How are plugins discovered?", model=tiny_lm_folder)
    out = result.outputs
    assert (out["task"], out["mode"]) == ("qa", "generative")
    assert out["sources"][0] == "02-plugins.md"
    prompt = result.nodes["prompt"].outputs["text"]
    assert "[02-plugins.md]" in prompt and prompt.endswith("Answer:")
    assert result.nodes["answer"].inputs["prompt"] == prompt
    [expected] = load_causal_lm(tiny_lm_folder).generate(
        [[{"role": "user", "content": prompt}]], max_new_tokens=128
    )
    assert out["answer"] == expected
