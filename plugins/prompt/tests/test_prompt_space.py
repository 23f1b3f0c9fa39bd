"""The search space, candidates and data helpers (no model needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autoglm_prompt.candidate import PromptCandidate
from autoglm_prompt.data import load_examples, split_examples
from autoglm_prompt.space import PromptSpace, draw_examples

POOL = [{"text": f"t{i}", "label": str(i % 2)} for i in range(20)]


def test_start_point_is_the_first_option_of_every_dimension():
    space = PromptSpace(
        instructions=["first", "second"],
        verbalizers={"0": ["bad", "awful"], "1": ["good"]},
        shots=[2, 0],
        orders=["interleaved", "grouped"],
    )
    assert set(space.dimensions()) == {
        "instruction",
        "verbalizer0",
        "shots",
        "example_set",
        "order",
    }
    candidate = space.decode(space.start(), POOL)
    assert candidate.instruction == "first"
    assert candidate.verbalizers == {"0": "bad", "1": "good"}
    assert [e["label"] for e in candidate.examples] == ["0", "1", "0", "1"]  # interleaved
    param = space.parametrization(seed=1)
    assert set(param.value) == set(space.dimensions())
    assert space.point_of(candidate) == {**space.start()}


def test_example_draws_are_seeded_and_distinct():
    a = draw_examples(POOL, ["0", "1"], shots=3, draw=0, order="grouped")
    assert a == draw_examples(POOL, ["0", "1"], shots=3, draw=0, order="grouped")
    assert a != draw_examples(POOL, ["0", "1"], shots=3, draw=1, order="grouped")
    assert [e["label"] for e in a] == ["0"] * 3 + ["1"] * 3
    assert draw_examples(POOL, ["0", "1"], shots=0, draw=0, order="grouped") == []
    assert len(draw_examples(POOL, ["0", "1"], shots=50, draw=0, order="shuffled")) == 20


def test_render_lays_out_instruction_examples_and_query():
    candidate = PromptCandidate(
        instruction="Classify.",
        verbalizers={"0": "negative", "1": "positive"},
        examples=[{"text": "great", "label": "1"}],
        template="Review: {text}\nSentiment: {label}",
    )
    assert candidate.render("dull") == (
        "Classify.\n\nReview: great\nSentiment: positive\n\nReview: dull\nSentiment:"
    )
    assert candidate.query_text("dull") == "Classify. dull"
    assert candidate.summary()["shots"] == {"1": 1}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"templates": ["{label} {text}"]}, "'{label}' at the end"),
        # str.format would pad to 300 MB here, or reach attributes: bare names only
        ({"templates": ["{text} {text!r:>300000000} {label}"]}, "conversion or format spec"),
        ({"templates": ["{text.__class__} {text} {label}"]}, "is not allowed"),
        ({"verbalizers": {"0": ["bad"]}}, "at least 2 labels"),
        ({"verbalizers": {"0": ["bad"], "1": [""]}}, "label '1'"),
        ({"shots": [-1]}, r"shot counts in \[0, 10000\]"),
        ({"shots": [0, 10**9]}, r"shot counts in \[0, 10000\]"),
        ({"example_weights": [1.5]}, r"weights in \[0, 1\]"),
    ],
)
def test_bad_space_is_refused_with_the_field(change, message):
    base = {"verbalizers": {"0": ["bad"], "1": ["good"]}}
    with pytest.raises(ValidationError, match=message):
        PromptSpace(**{**base, **change})


def test_split_is_disjoint_stratified_and_seeded():
    rows = load_examples("sst2/dev.tsv")
    parts = split_examples(rows, {"a": 0.5, "b": 0.5}, seed=3)
    a, b = parts["a"], parts["b"]
    assert len(a) + len(b) == len(rows) == 872
    assert not {r["text"] for r in a} & {r["text"] for r in b}
    share = lambda part: sum(r["label"] == "1" for r in part) / len(part)  # noqa: E731
    assert abs(share(a) - share(b)) < 0.01
    assert parts == split_examples(rows, {"a": 0.5, "b": 0.5}, seed=3)


def test_bad_data_names_the_file_and_row(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nfine\t1\n\t0\n")
    with pytest.raises(ValueError, match=r"'bad.tsv', row 2 \(line 3\), column 'text': empty"):
        load_examples(bad)
    with pytest.raises(FileNotFoundError, match="'nope.tsv' not found"):
        load_examples("nope.tsv")
    with pytest.raises(ValueError, match="fractions: expected values summing to 1"):
        split_examples([], {"a": 0.5, "b": 0.2})
