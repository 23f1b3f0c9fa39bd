"""The ``tuner.search`` node type: validation at init, the search itself in ``search.py``.

This module is imported when plugins are listed, so it only imports pydantic and autoglm;
nevergrad, numpy and matplotlib load inside ``init``/``execute``.
"""

from __future__ import annotations

from typing import Any

from autoglm.context import NodeContext
from autoglm.errors import PluginError
from autoglm.nodes import NodeType
from autoglm_tuner.config import SearchConfig, SearchInputs, SearchOutputs


class SearchNode(NodeType):
    """Searches the config space of another node type (any of them) with Nevergrad, random or
    grid search: parallel trials, multi-fidelity pruning, resume and warm start."""

    name = "tuner.search"
    version = "1"
    description = "Nevergrad/random/grid search over any node's declared config space"
    Config = SearchConfig
    Inputs = SearchInputs
    Outputs = SearchOutputs

    def init(self, config: SearchConfig, context: NodeContext) -> None:
        """Resolve and check everything that can be checked before a trial runs, so a
        misconfigured search fails in seconds with the field named, not after a batch."""
        from autoglm_tuner.spaces import resolve_space
        from autoglm_tuner.strategies import check_optimizer_name

        self.config = config
        try:
            self.objective = context.node_type_class(config.objective)
        except PluginError as exc:
            raise ValueError(f"tuner.search config field 'objective': {exc}") from exc
        fields = self.objective.Config.model_fields
        _check_names("base_config", config.base_config, fields, config.objective)
        fixed = set(config.base_config)
        if config.fidelity is not None:
            _check_names("fidelity.field", {config.fidelity.field: None}, fields, config.objective)
            fixed.add(config.fidelity.field)
        self.space = resolve_space(
            self.objective.Config,
            config.space,
            objective=config.objective,
            fixed=fixed,
            only=config.space_only,
        )
        if config.fidelity is not None and config.fidelity.field in self.space:
            raise ValueError(
                f"tuner.search config field 'fidelity.field': {config.fidelity.field!r} is also "
                "in 'space'; a field is either searched or used as the fidelity"
            )
        outputs = self.objective.Outputs.model_fields
        if config.metric not in outputs:
            raise ValueError(
                f"tuner.search config field 'metric': {config.objective!r} has no output "
                f"{config.metric!r}; its outputs are {', '.join(outputs)}"
            )
        check_optimizer_name(config.optimizer)
        self._check_per_choice()
        self._check_sample()

    def _check_per_choice(self) -> None:
        from autoglm_tuner.spaces import unordered

        name = self.config.per_choice
        if name is None:
            return
        dim = self.space.get(name)
        if dim is None or not unordered(dim) or len(dim.values) < 2:
            searched = [n for n, d in self.space.items() if unordered(d)]
            raise ValueError(
                f"tuner.search config field 'per_choice': {name!r} is not an unordered choice "
                f"with two or more options in the searched space; unordered choices searched: "
                f"{', '.join(searched) or 'none'}"
            )

    def _check_sample(self) -> None:
        """One random point must make a valid objective config (catches a space override
        whose values the objective rejects, e.g. a string for an int field)."""
        import random

        from pydantic import ValidationError

        from autoglm_tuner.spaces import sample

        config = self.config
        values: dict[str, Any] = {**config.base_config, **sample(self.space, random.Random(0))}
        if config.fidelity is not None:
            values[config.fidelity.field] = config.fidelity.min
        try:
            self.objective.Config.model_validate(values)
        except ValidationError as exc:
            raise ValueError(
                f"tuner.search: base_config plus a point of the space is not a valid "
                f"{config.objective!r} config: {exc}"
            ) from exc

    def execute(self, inputs: SearchInputs, context: NodeContext) -> SearchOutputs:
        from autoglm_tuner.search import Search

        return Search(self.config, self.objective, self.space, inputs, context).run()


def _check_names(where: str, values: dict[str, Any], fields: dict[str, Any], objective: str):
    unknown = [name for name in values if name not in fields]
    if unknown:
        raise ValueError(
            f"tuner.search config field {where!r}: {objective!r} has no config field "
            f"{', '.join(map(repr, unknown))}; its fields are {', '.join(fields)}"
        )
