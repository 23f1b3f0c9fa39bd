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
