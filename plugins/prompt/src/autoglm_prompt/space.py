"""The prompt search space and its Nevergrad parametrization.

Dimensions (each a list of options; the *first* option of every list is the starting prompt):

* ``instructions`` – wording of the task instruction (grows with OPRO proposals);
* ``verbalizers`` – per label, the candidate answer words / label descriptions; with many
  labels one joint dimension instead (the k-th option of every label, see below);
* ``shots`` – examples per label taken from the pool (ordered: neighbours are similar);
* ``example_sets`` – how many different seeded draws of examples to try (which examples);
* ``orders`` – how the drawn examples are arranged (grouped by label, interleaved, shuffled);
* ``templates`` – output format: how an example and the query are laid out;
* ``calibrations`` – none, contextual (content-free input) or batch calibration;
* ``example_weights`` – encoders only: weight of the example prototypes against the label
  descriptions (0: descriptions only, 1: examples only).

Every dimension is a Nevergrad ``Choice``: prompt spaces are small and categorical, and with
the tens of evaluations a prompt search affords, discrete optimisers that may jump between any
two options explore better than ordered or continuous encodings that move step by step.

A dimension with a single option is fixed and not shown to the optimiser, so the search is
only as big as the space the user actually opened.

Per-label verbalizer dimensions are one dimension per label. At 77 or 150 labels (issue 19)
that is more dimensions than a prompt search has candidates: the optimiser cannot even try
each option once, and every label's choice is noise. Above ``MAX_PER_LABEL_VERBALIZERS``
labels (``verbalizer_search: auto``) the options are searched jointly instead: one dimension
``verbalizer_set`` whose k-th option gives every label its k-th description (its last when it
has fewer), e.g. "label names" against "written-out descriptions".
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from autoglm_prompt.candidate import DEFAULT_TEMPLATE, Calibration, PromptCandidate, check_template

if TYPE_CHECKING:
    from autoglm_prompt.data import Example

Order = Literal["grouped", "interleaved", "shuffled"]

#: Most examples per label: a text model's prompt carries them in every call, an encoder averages
#: them into prototypes (configs/prompt-sst2.yaml tries 500), so the count sizes the work.
MAX_SHOTS = 10_000
#: Most labels whose verbalizers are searched one dimension per label (``auto``).
MAX_PER_LABEL_VERBALIZERS = 8


class PromptSpace(BaseModel):
    """What the optimiser may change. Validated when the node's config is."""

    model_config = ConfigDict(extra="forbid")
    #: Set by ``for_encoder``: candidates are scored by the encoder scorer, where verbalizers
    #: have zero weight once examples are weighted 1.0.
    _encoder: bool = PrivateAttr(False)

    instructions: list[str] = Field(default_factory=lambda: [""], min_length=1)
    verbalizers: dict[str, list[str]] = Field(
        description="Label -> candidate answer words or descriptions (first = starting choice)"
    )
    shots: list[int] = Field(default_factory=lambda: [0, 1, 2, 4], min_length=1)
    example_sets: int = Field(4, ge=1, le=1000, description="Distinct seeded example draws to try")
    orders: list[Order] = Field(default_factory=lambda: ["grouped"], min_length=1)
    templates: list[str] = Field(default_factory=lambda: [DEFAULT_TEMPLATE], min_length=1)
    calibrations: list[Calibration] = Field(default_factory=lambda: ["none"], min_length=1)
    example_weights: list[float] = Field(
        default_factory=lambda: [0.5], min_length=1, description="Encoders: prototype weights"
    )
    verbalizer_search: Literal["auto", "per_label", "joint"] = Field(
        "auto",
        description="One dimension per label, or one joint dimension (k-th option of every "
        f"label); auto: joint above {MAX_PER_LABEL_VERBALIZERS} labels",
    )

    @field_validator("verbalizers")
    @classmethod
    def _verbalizers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if len(value) < 2:
            raise ValueError(f"expected options for at least 2 labels, got {sorted(value)}")
        for label, options in value.items():
            if not options or not all(isinstance(o, str) and o.strip() for o in options):
                raise ValueError(f"label {label!r}: expected a non-empty list of non-empty texts")
        return value

    @field_validator("shots")
    @classmethod
    def _shots(cls, value: list[int]) -> list[int]:
        if any(not 0 <= v <= MAX_SHOTS for v in value):
            raise ValueError(f"expected shot counts in [0, {MAX_SHOTS}], got {value}")
        return value

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: list[str]) -> list[str]:
        for template in value:
            check_template(template)
        return value

    @field_validator("example_weights")
    @classmethod
    def _weights(cls, value: list[float]) -> list[float]:
        if any(not 0.0 <= w <= 1.0 for w in value):
            raise ValueError(f"expected weights in [0, 1], got {value}")
        return value

    @property
    def labels(self) -> list[str]:
        return sorted(self.verbalizers)

    @property
    def joint_verbalizers(self) -> bool:
        """Whether the verbalizers are one joint dimension rather than one per label."""
        if self.verbalizer_search == "auto":
            return len(self.verbalizers) > MAX_PER_LABEL_VERBALIZERS
        return self.verbalizer_search == "joint"

    def for_encoder(self) -> PromptSpace:
        """Encoders ignore layout: drop the template and order dimensions. Then drop what
        has zero weight in every score the encoder scorer computes:

        * every candidate has examples weighted 1.0 (no zero shots, every weight 1): the
          label descriptions never count, so no verbalizer dimension;
        * no candidate has examples (shots all 0): example draws and weights never count;
        * every weight is 0: examples never count, so none are drawn (or embedded)."""
        update: dict[str, Any] = {"templates": self.templates[:1], "orders": self.orders[:1]}
        if 0 not in self.shots and all(w == 1.0 for w in self.example_weights):
            update["verbalizers"] = {label: v[:1] for label, v in self.verbalizers.items()}
        if all(w == 0.0 for w in self.example_weights):
            update["shots"] = [0]
        if max(update.get("shots", self.shots)) == 0:
            update.update(example_sets=1, example_weights=self.example_weights[:1])
        space = self.model_copy(update=update)
        space._encoder = True
        return space

    def for_text_model(self) -> PromptSpace:
        """Text models ignore the encoder's prototype weight."""
        return self.model_copy(update={"example_weights": self.example_weights[:1]})

    def with_instructions(self, instructions: list[str]) -> PromptSpace:
        return self.model_copy(update={"instructions": list(dict.fromkeys(instructions))})

    # ------------------------------------------------------------------- points

    def dimensions(self) -> dict[str, list[Any]]:
        """The discrete dimensions with more than one option, by name."""
        dims: dict[str, list[Any]] = {
            "instruction": list(range(len(self.instructions))),
            "shots": list(self.shots),
            "example_set": list(range(self.example_sets)),
            "order": list(self.orders),
            "template": list(range(len(self.templates))),
            "calibrate": list(self.calibrations),
            "example_weight": list(self.example_weights),
        }
        if self.joint_verbalizers:
            dims["verbalizer_set"] = list(range(max(map(len, self.verbalizers.values()))))
        else:
            for i, label in enumerate(self.labels):
                dims[f"verbalizer{i}"] = list(range(len(self.verbalizers[label])))
        return {name: options for name, options in dims.items() if len(options) > 1}

    def _verbalizers_at(self, point: dict[str, Any]) -> dict[str, str]:
        """The description of every label at ``point`` (per label, or the joint k-th)."""
        if self.joint_verbalizers:
            k = int(point.get("verbalizer_set", 0))
            return {label: v[min(k, len(v) - 1)] for label, v in self.verbalizers.items()}
        return {
            label: self.verbalizers[label][int(point.get(f"verbalizer{i}", 0))]
            for i, label in enumerate(self.labels)
        }

    def start(self) -> dict[str, Any]:
        """The starting point: the first option of every dimension."""
        return {name: options[0] for name, options in self.dimensions().items()}

    def parametrization(self, seed: int = 0):
        """A Nevergrad ``Dict`` of ``Choice`` over the open dimensions."""
        import nevergrad as ng

        params: dict[str, Any] = {
            name: ng.p.Choice(options) for name, options in self.dimensions().items()
        }
        if not params:  # nothing to search: a constant parametrization
            params["fixed"] = ng.p.Choice([0])
        parametrization = ng.p.Dict(**params)
        parametrization.random_state.seed(seed)
        return parametrization

    def decode(self, point: dict[str, Any], pool: list[Example], seed: int = 0) -> PromptCandidate:
        """Turn a point (from ``start`` or the optimiser) into a concrete candidate."""
        get = lambda name, default: point.get(name, default)  # noqa: E731
        verbalizers = self._verbalizers_at(point)
        examples = draw_examples(
            pool,
            self.labels,
            shots=int(get("shots", self.shots[0])),
            draw=int(get("example_set", 0)),
            order=get("order", self.orders[0]),
            seed=seed,
        )
        weight = float(get("example_weight", self.example_weights[0]))
        if self._encoder and examples and weight == 1.0:
            # Zero weight for the descriptions: one candidate whatever they are, scored once.
            verbalizers = {label: self.verbalizers[label][0] for label in self.labels}
        return PromptCandidate(
            instruction=self.instructions[int(get("instruction", 0))],
            verbalizers=verbalizers,
            examples=examples,
            template=self.templates[int(get("template", 0))],
            calibrate=get("calibrate", self.calibrations[0]),
            example_weight=weight,
        )

    def point_of(self, candidate: PromptCandidate) -> dict[str, Any] | None:
        """The point whose instruction, verbalizers, template and calibration match
        ``candidate`` (examples are not recoverable), or None when one is not in the space."""
        try:
            point: dict[str, Any] = {
                "instruction": self.instructions.index(candidate.instruction),
                "template": self.templates.index(candidate.template),
                "calibrate": candidate.calibrate,
                "example_weight": candidate.example_weight,
            }
            if self.joint_verbalizers:
                sets = range(max(map(len, self.verbalizers.values())))
                wanted = candidate.verbalizers
                point["verbalizer_set"] = next(
                    k for k in sets if self._verbalizers_at({"verbalizer_set": k}) == wanted
                )
            else:
                for i, label in enumerate(self.labels):
                    point[f"verbalizer{i}"] = self.verbalizers[label].index(
                        candidate.verbalizers[label]
                    )
        except (ValueError, KeyError, StopIteration):
            return None
        if (
            candidate.calibrate not in self.calibrations
            or candidate.example_weight not in self.example_weights
        ):
            return None
        return {name: point.get(name, value) for name, value in self.start().items()}


def draw_examples(
    pool: list[Example], labels: list[str], *, shots: int, draw: int, order: str, seed: int = 0
) -> list[Example]:
    """``shots`` examples per label from ``pool``, the ``draw``-th seeded draw, arranged."""
    if shots == 0 or not pool:
        return []
    rng = random.Random(f"{seed}:{draw}")
    by_label = {label: [e for e in pool if e["label"] == label] for label in labels}
    chosen = {label: rng.sample(items, min(shots, len(items))) for label, items in by_label.items()}
    if order == "interleaved":
        out = []
        for i in range(max(len(v) for v in chosen.values())):
            out += [chosen[label][i] for label in labels if i < len(chosen[label])]
        return out
    grouped = [e for label in labels for e in chosen[label]]
    if order == "shuffled":
        rng.shuffle(grouped)
    return grouped
