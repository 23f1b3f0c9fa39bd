"""The encoder search drops dimensions that cannot change a score (issue 19).

With the encoder scorer, a candidate with few-shot examples at ``example_weight`` 1.0 scores
by the example prototypes alone: its verbalizers (label descriptions) have zero weight. At 77
and 150 labels the optimiser spent its candidates on such per-label verbalizer dimensions.
"""

from __future__ import annotations

from autoglm_prompt.space import PromptSpace

VERBALIZERS = {"0": ["bad", "a negative review"], "1": ["good", "a positive review"]}
POOL = [{"text": f"text {i}", "label": str(i % 2)} for i in range(20)]


def test_verbalizers_at_zero_weight_are_not_searched():
    space = PromptSpace(verbalizers=VERBALIZERS, shots=[4, 8], example_weights=[1.0])
    assert "verbalizer0" in space.dimensions()  # a text model reads them as answer words
    pruned = space.for_encoder()
    assert not [d for d in pruned.dimensions() if d.startswith("verbalizer")]
    assert set(pruned.dimensions()) == {"shots", "example_set"}


def test_verbalizers_stay_when_some_candidate_can_use_them():
    with_zero_shots = PromptSpace(verbalizers=VERBALIZERS, shots=[0, 8], example_weights=[1.0])
    assert "verbalizer1" in with_zero_shots.for_encoder().dimensions()
    mixed = PromptSpace(verbalizers=VERBALIZERS, shots=[8], example_weights=[0.5, 1.0])
    assert "verbalizer1" in mixed.for_encoder().dimensions()


def test_points_differing_only_in_unused_verbalizers_are_one_candidate():
    space = PromptSpace(verbalizers=VERBALIZERS, shots=[8], example_weights=[0.5, 1.0])
    encoder_space = space.for_encoder()
    a = {"example_weight": 1.0, "verbalizer0": 0, "verbalizer1": 0}
    b = {"example_weight": 1.0, "verbalizer0": 1, "verbalizer1": 1}
    assert encoder_space.decode(a, POOL).key() == encoder_space.decode(b, POOL).key()
    half = {**b, "example_weight": 0.5}
    assert encoder_space.decode(half, POOL).key() != encoder_space.decode(a, POOL).key()
    # A text model reads the verbalizers: the same two points stay two candidates there.
    assert space.decode(a, POOL).key() != space.decode(b, POOL).key()


def _intents(n: int) -> dict[str, list[str]]:
    return {f"intent_{i}": [f"intent {i}", f"a request about intent {i}"] for i in range(n)}


def test_many_labels_search_their_verbalizers_jointly():
    """At 77 labels, 77 per-label dimensions outnumber any prompt search's candidates: one
    joint dimension picks the k-th description of every label instead."""
    space = PromptSpace(verbalizers=_intents(77), shots=[0, 8], example_weights=[0.5])
    dims = space.for_encoder().dimensions()
    assert not [d for d in dims if d.startswith("verbalizer") and d != "verbalizer_set"]
    assert dims["verbalizer_set"] == [0, 1]
    second = space.decode({"verbalizer_set": 1}, [])
    assert set(second.verbalizers.values()) == {f"a request about intent {i}" for i in range(77)}
    assert space.point_of(second)["verbalizer_set"] == 1
    # Few labels keep one dimension per label; either can be asked for explicitly.
    assert "verbalizer1" in PromptSpace(verbalizers=VERBALIZERS).dimensions()
    joint = PromptSpace(verbalizers=VERBALIZERS, verbalizer_search="joint")
    assert "verbalizer_set" in joint.dimensions() and "verbalizer1" not in joint.dimensions()


def test_example_dimensions_are_dropped_when_examples_cannot_count():
    zero_shot = PromptSpace(verbalizers=VERBALIZERS, shots=[0], example_weights=[0.5, 1.0])
    assert set(zero_shot.for_encoder().dimensions()) == {"verbalizer0", "verbalizer1"}
    unweighted = PromptSpace(verbalizers=VERBALIZERS, shots=[0, 8], example_weights=[0.0])
    pruned = unweighted.for_encoder()
    assert pruned.shots == [0] and "example_set" not in pruned.dimensions()
    assert zero_shot.for_text_model().example_sets == 4  # a text model keeps its draws
