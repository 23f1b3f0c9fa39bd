"""Numbers that size work have maxima in every shipped node's schema (issue 11).

A workflow is data from whoever submits it: ``gnn.synthetic`` with ``nodes: 1e9`` tried to
allocate 7.45 GiB, ``tuner.search`` took ``budget: 1e9`` and two ``core.sleep 1e9`` held both of
a service's run slots. Each such value is now refused by the validator, with the node and the
field, before anything runs; and the walk below keeps future numeric fields from forgetting a
maximum.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel

from autoglm.errors import WorkflowError
from autoglm.plugins import Host
from autoglm.testing import isolated_host
from autoglm.workflow import parse_workflow

#: The plugins of this repository (entry-point names).
REPO_PLUGINS = ("gnn", "tuner", "hf", "text", "prompt", "eval", "textkit", "multimodal")

#: Numeric fields that need no maximum, by field name, and why.
UNBOUNDED_OK = {
    "seed": "an identifier of a random stream, not an amount of work",
    "first_seed": "the first seed's identifier; the number of seeds is bounded",
    "split_seed": "an identifier of a random stream",
    "after_id": "a feedback row id to start after: filters work, never adds any",
    "limit": "a cap on rows read: it only reduces work",
    "threshold": "feedback rows that must exist before a step runs: a trigger, not work",
    "train_per_class": "labelled nodes per class: at most the graph's nodes, which are bounded",
    "min_absolute_change": "a decision threshold",
    "min_relative_change": "a decision threshold",
    "feature_signal": "a distance in feature space: changes values, not sizes",
    "theta": "a model hyperparameter",
    "conv_weight_decay": "a model hyperparameter",
    "lr": "a model hyperparameter",
    "weight_decay": "a model hyperparameter",
    "temperature": "a decoding hyperparameter",
    "eta": "rungs are distinct integers between fidelity.min and fidelity.max, both bounded",
    "warm_start_max_distance": "a profile distance: filters earlier runs",
}


@pytest.fixture(scope="module")
def repo_host() -> Host:
    return isolated_host(REPO_PLUGINS)


def _numeric(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_numeric(arm) for arm in get_args(annotation))
    if getattr(annotation, "__metadata__", None) is not None:
        return _numeric(get_args(annotation)[0])
    return annotation in (int, float)


def _unbounded(model: type[BaseModel], prefix: str, seen: set[type]) -> list[str]:
    """Dotted names of numeric fields (nested models included) with no ``le``/``lt``."""
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type)]
        for sub in nested:
            if issubclass(sub, BaseModel):
                found += _unbounded(sub, f"{prefix}{name}.", seen)
        upper = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in info.metadata)
        if _numeric(annotation) and not upper and name not in UNBOUNDED_OK:
            found.append(prefix + name)
    return found


def test_every_numeric_field_has_a_maximum_or_a_reason(repo_host):
    assert set(repo_host.node_types) > {"core.sleep", "gnn.synthetic", "tuner.search"}
    missing = {
        name: fields
        for name, node_type in sorted(repo_host.node_types.items())
        if (fields := _unbounded(node_type.Config, "config.", set()))
        + _unbounded(node_type.Inputs, "inputs.", set())
    }
    assert not missing, (
        f"numeric fields without a maximum (add le= to the Field, or a reason to "
        f"UNBOUNDED_OK): {missing}"
    )


def _problems(host: Host, node_type: str, config: str) -> list[str]:
    text = f"nodes:\n  - id: n\n    type: {node_type}\n    config: {config}\n"
    with pytest.raises(WorkflowError) as info:
        parse_workflow(text, host, path="wf.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("node_type", "config", "field"),
    [
        ("gnn.synthetic", "{nodes: 1000000000}", "config.nodes"),
        ("tuner.search", "{objective: gnn.train, budget: 1000000000}", "config.budget"),
        ("core.sleep", "{seconds: 1.0e9}", "config.seconds"),
        ("gnn.train", "{max_epochs: 1000000000, hidden: 100000000}", "config.max_epochs"),
        ("hf.generate", "{model: m, max_new_tokens: 100000000}", "config.max_new_tokens"),
        ("text.split", "{chunk_tokens: 100000000}", "config.chunk_tokens"),
        ("eval.compare", "{n_resamples: 1000000000}", "config.n_resamples"),
    ],
)
def test_a_huge_value_is_a_located_error(repo_host, node_type, config, field):
    problems = _problems(repo_host, node_type, config)
    assert any(f"wf.yaml:4: node 'n': field '{field}'" in p and "less than" in p for p in problems)


def test_synthetic_graph_bounds_its_arrays_not_only_each_field(repo_host):
    """Each value within its own maximum, but a million nodes of 10,000 features is 80 GB."""
    [problem] = _problems(repo_host, "gnn.synthetic", "{nodes: 1000000, features: 10000}")
    assert "node 'n': field 'config'" in problem and "feature values" in problem
    [problem] = _problems(repo_host, "gnn.synthetic", "{nodes: 1000000, avg_degree: 1000}")
    assert "edges; at most" in problem


def test_values_at_the_maxima_validate(repo_host):
    wf = parse_workflow(
        "nodes:\n"
        "  - id: s\n    type: core.sleep\n    config: {seconds: 3600}\n"
        "  - id: g\n    type: gnn.synthetic\n    config: {nodes: 1000000, features: 100}\n",
        repo_host,
    )
    assert list(wf.nodes) == ["s", "g"]
