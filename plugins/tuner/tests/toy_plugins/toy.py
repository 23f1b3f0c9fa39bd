"""Cheap objective node types for the tuner's tests (loaded as a private plugin folder, so
that spawned worker processes can import them too). Nothing here is GNN-specific: the tuner
must search any node's declared space."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Annotated

from autoglm import Choice, FloatRange, IntRange, NodeModel, NodeType, hookimpl


class QuadraticConfig(NodeModel):
    x: Annotated[float, FloatRange(-5.0, 5.0)] = 0.0
    y: Annotated[int, IntRange(-3, 3)] = 0
    kind: Annotated[str, Choice(["a", "b", "c"])] = "a"
    lr: Annotated[float, FloatRange(1e-4, 1e-1, log=True)] = 1e-3
    size: Annotated[int, Choice([1, 2, 4, 8, 16], ordered=True)] = 1
    max_epochs: int = 100
    sleep: float = 0.0
    raise_on_kind: str | None = None
    exit_on_kind: str | None = None
    hang_on_kind: str | None = None
    log_file: str | None = None


class QuadraticInputs(NodeModel):
    offset: float = 0.0


class QuadraticOutputs(NodeModel):
    score: float
    loss: float
    epochs: int


class Quadratic(NodeType):
    """A deterministic bowl with its top (score = offset) at x=1, y=2, kind=b, lr=1e-2, size=4.
    Fewer epochs subtract a trial-independent amount, so short runs rank like full ones."""

    name = "toy.quadratic"
    Config = QuadraticConfig
    Inputs = QuadraticInputs
    Outputs = QuadraticOutputs

    def execute(self, inputs: QuadraticInputs, context) -> QuadraticOutputs:
        c = self.config
        if c.log_file:
            with open(c.log_file, "a", encoding="utf-8") as log:
                log.write(f"{context.node_id} {os.getpid()}\n")
        if c.sleep:
            time.sleep(c.sleep)
        if c.raise_on_kind == c.kind:
            raise RuntimeError(f"toy failure for kind {c.kind}")
        if c.exit_on_kind == c.kind:
            os._exit(7)
        if c.hang_on_kind == c.kind:
            time.sleep(3600)
        loss = (
            (c.x - 1.0) ** 2
            + (c.y - 2) ** 2
            + (0.0 if c.kind == "b" else 1.0)
            + (math.log10(c.lr) + 2.0) ** 2
            + abs(math.log2(c.size) - 2.0)
            + 10.0 / c.max_epochs
        )
        return QuadraticOutputs(score=inputs.offset - loss, loss=loss, epochs=c.max_epochs)


class ArtefactConfig(NodeModel):
    width: Annotated[int, IntRange(1, 4)] = 1


class ArtefactOutputs(NodeModel):
    value: float
    path: str


class Artefact(NodeType):
    """Writes a file under its artifacts folder: trials get their own folders."""

    name = "toy.artefact"
    Config = ArtefactConfig
    Outputs = ArtefactOutputs

    def execute(self, inputs, context) -> ArtefactOutputs:
        path = Path(context.artifacts_dir) / "out.txt"
        path.write_text(str(self.config.width), encoding="utf-8")
        return ArtefactOutputs(value=float(self.config.width), path=str(path))


#: Score of each arm per seed: "lucky" wins on seed 0 only, "solid" is best on average;
#: "twin" is the same model as "lucky" under another name (its outputs are identical).
NOISY_SCORES = {
    "lucky": (0.90, 0.50, 0.50),
    "twin": (0.90, 0.50, 0.50),
    "solid": (0.80, 0.80, 0.80),
    "weak": (0.30, 0.30, 0.30),
    "poor": (0.20, 0.25, 0.20),
}


class NoisyConfig(NodeModel):
    arm: Annotated[str, Choice(list(NOISY_SCORES))] = "weak"
    seed: int = 0


class NoisyOutputs(NodeModel):
    score: float
    seconds: float


class Noisy(NodeType):
    """A seed-dependent objective: the single best evaluation is a lucky seed."""

    name = "toy.noisy"
    Config = NoisyConfig
    Outputs = NoisyOutputs

    def execute(self, inputs, context) -> NoisyOutputs:
        scores = NOISY_SCORES[self.config.arm]
        seconds = time.perf_counter() % 1.0  # a timing: differs between runs of one model
        return NoisyOutputs(score=scores[self.config.seed % len(scores)], seconds=seconds)


class ModelsConfig(NodeModel):
    model: Annotated[str, Choice(["quick", "slow", "broken"])] = "quick"
    x: Annotated[float, FloatRange(0.0, 1.0)] = 0.5
    depth: Annotated[float, FloatRange(0.0, 1.0)] = 0.5


class ModelsOutputs(NodeModel):
    score: float


class Models(NodeType):
    """Options with their own good regions, like layer types: "quick" peaks at the defaults
    (0.7); "slow" is worse there (0.5) but reaches 1.0 at x = depth = 1, the ends of both
    ranges; "broken" always fails. Only "slow" reads ``depth``."""

    name = "toy.models"
    Config = ModelsConfig
    Outputs = ModelsOutputs

    @classmethod
    def effective_config(cls, config):
        values = ModelsConfig.model_validate(config).model_dump()
        if values["model"] != "slow":
            values.pop("depth")
        return values

    def execute(self, inputs, context) -> ModelsOutputs:
        c = self.config
        if c.model == "broken":
            raise RuntimeError("this model never trains")
        if c.model == "quick":
            return ModelsOutputs(score=0.7 - (c.x - 0.5) ** 2)
        return ModelsOutputs(score=1.0 - 0.5 * (1.0 - c.x) - 0.5 * (1.0 - c.depth))


@hookimpl
def register_nodes(register):
    register(Quadratic)
    register(Artefact)
    register(Noisy)
    register(Models)
