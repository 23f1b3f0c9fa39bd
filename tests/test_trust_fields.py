"""Every shipped node declares what its fields touch, so the trust policy covers it (issue 11).

The policy checks fields by their type (``autoglm.policy``: ``InputPath``, ``OutputDir``,
``Url``, ``SecretName``, ``LoadsCode``, ...), never by node. A field typed as a plain ``str``
that names a file, a folder, a URL or a secret, or a ``bool`` that loads code, is invisible to
it: ``text.index`` read ``/etc/shadow``, ``hf.generate`` ran a folder's code and sent a server
secret to a listener, all through such fields. This walk looks at every config and input field
of every node type of every installed plugin (nested models included) and fails for one whose
name or description suggests such a thing unless it is trust-typed or exempt with a reason,
so a new node cannot forget it.
"""

from __future__ import annotations

import re
import types
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from autoglm.plugins import Host, discover_entry_points
from autoglm.policy import SCHEMA_KEY, declared_trust
from autoglm.testing import isolated_host

#: Name parts (split on ``_``) that suggest a file, a folder, a URL, a secret or code.
SUSPECT_NAME_PARTS = {
    "path", "paths", "dir", "folder", "file", "files", "url", "uri", "key", "secret", "token",
    "model", "root", "store", "checkpoint", "tokenizer", "encoder", "graph", "index", "data",
    "code", "pool", "train", "champion", "db", "database", "cache", "output", "edges",
    "features", "labels", "masks",
}  # fmt: skip
#: Words in a description that suggest the same.
SUSPECT_DESCRIPTION = re.compile(
    r"\b(file|files|folder|path|directory|url|jsonl|database|environment variable|hub id)\b",
    re.IGNORECASE,
)

#: (node type, dotted field) -> why the field needs no trust type.
EXEMPT = {
    ("eval.weak_labels", "config.text_field"): "the name of a field inside each input item",
    ("prompt.load", "config.text_field"): "a column name of the loaded file",
    ("prompt.load", "config.label_field"): "a column name of the loaded file",
    ("prompt.reoptimise", "config.text_field"): "a field name inside each feedback item",
    ("eval.metrics", "config.labels"): "class names, not files",
    ("eval.gate", "inputs.champion_pred"): "predictions, not files",
    ("gnn.planetoid", "config.name"): "a file-name stem; its pattern keeps it a single name",
    ("gnn.geomgcn", "config.name"): "a folder name under root; its pattern keeps it one name",
    ("gnn.train", "config.sparse_features"): "a choice of how features are multiplied",
    ("eval.weak_labels", "config.rules"): "labelling rules (regexes run in RE2), no paths",
    ("prompt.reoptimise", "config.rules"): "labelling rules (regexes run in RE2), no paths",
    ("gnn.synthetic", "config.features"): "a feature dimension (a number), not a file",
    ("gnn.synthetic", "config.train_per_class"): "a count",
    ("gnn.files", "config.train_per_class"): "a count",
    ("gnn.files", "config.train_fraction"): "a share",
    ("gnn.evaluate", "inputs.config"): "a gnn.train config: numbers and choices, no paths",
    ("gnn.train", "config.save_checkpoint"): "a flag; the checkpoint goes to the run's artefacts",
    ("hf.embed", "config.cache"): "a flag; the cache lives in the autoglm home",
    ("text.index", "config.cache"): "a flag; the cache lives in the autoglm home",
    ("text.retrieve", "config.cache"): "a flag; the cache lives in the autoglm home",
    ("text.generate", "config.cache"): "a flag; the cache lives in the autoglm home",
    ("text.task_type", "config.cache"): "a flag; the cache lives in the autoglm home",
    ("text.generate", "config.max_new_tokens"): "a count of tokens",
    ("hf.generate", "config.max_new_tokens"): "a count of tokens",
    ("text.split", "config.chunk_tokens"): "a count of tokens",
    ("text.index", "config.chunk_tokens"): "a count of tokens",
    ("hf.score", "config.labels"): "label -> words to score, not files",
    ("tuner.search", "config.objective"): "a node type name, resolved in the host's registry",
    ("tuner.search", "config.base_config"): (
        "the objective's config: the objective node type declares its own fields"
    ),
    ("tuner.search", "inputs.objective_inputs"): (
        "the objective's inputs: the objective node type declares its own fields"
    ),
    ("tuner.search", "config.seed_field"): "the name of a config field of the objective",
    ("tuner.search", "config.fidelity.field"): "the name of a config field of the objective",
    ("prompt.optimise", "config.pool_limit"): "a count",
    ("prompt.optimise", "config.pool_fraction"): "a share",
    ("prompt.reoptimise", "config.pool_limit"): "a count",
    ("prompt.reoptimise", "config.pool_fraction"): "a share",
    ("finetune.prompt", "config.pool_limit"): "a count",
    ("finetune.prompt", "config.pool_fraction"): "a share",
    ("prompt.evaluate", "config.prompt"): "an inline prompt candidate (texts), not a file",
    ("text.prompt", "config.templates"): "template texts, not files",
    ("text.prompt", "config.template"): "a template text, not a file",
}


@pytest.fixture(scope="module")
def every_plugin_host() -> Host:
    """Every installed plugin: the repository's, and any a developer added."""
    names = tuple(discover_entry_points())
    assert {"gnn", "tuner", "hf", "text", "prompt", "eval", "textkit"} <= set(names)
    return isolated_host(names)


def _models(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models inside ``annotation`` (through ``X | None``, lists and dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if getattr(annotation, "__metadata__", None) is not None:
        return _models(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType, list, dict, tuple, set):
        return [m for arm in get_args(annotation) for m in _models(arm)]
    return []


def _suspect(name: str, info: Any) -> bool:
    parts = set(name.lower().split("_"))
    return bool(parts & SUSPECT_NAME_PARTS) or bool(
        SUSPECT_DESCRIPTION.search(info.description or "")
    )


def _undeclared(model: type[BaseModel], prefix: str, seen: set[type]) -> list[str]:
    """Suspect fields of ``model`` (and of the models nested in it) with no trust type."""
    if model in seen:
        return []
    seen.add(model)
    declared = declared_trust(model)
    found = []
    for name, info in model.model_fields.items():
        nested = _models(info.annotation)
        for sub in nested:
            found += _undeclared(sub, f"{prefix}{name}.", seen)
        covered = any(key == name or key.startswith((f"{name}.", f"{name}[")) for key in declared)
        if _suspect(name, info) and not covered and not (nested and declared_trust(nested[0])):
            found.append(prefix + name)
    return found


def test_every_suspect_field_is_trust_typed_or_exempt(every_plugin_host):
    missing = []
    for node_name, node_type in sorted(every_plugin_host.node_types.items()):
        for role, model in (("config", node_type.Config), ("inputs", node_type.Inputs)):
            for field in _undeclared(model, f"{role}.", set()):
                if (node_name, field) not in EXEMPT:
                    missing.append(f"{node_name}: {field}")
    assert not missing, (
        "fields that look like files, folders, URLs, secrets or code but have no trust type "
        "(use autoglm.policy's InputPath, InputDir, OutputPath, OutputDir, Url, SecretName, "
        "LoadsCode, UnpickleFrom, ModelSource or Glob; or add an EXEMPT entry with a reason): "
        + ", ".join(missing)
    )


def test_exemptions_name_real_fields(every_plugin_host):
    """An exemption for a field that was renamed or removed would hide nothing: drop it."""
    stale = []
    for node_name, field in EXEMPT:
        role, _, rest = field.partition(".")
        model = getattr(every_plugin_host.node_types[node_name], role.capitalize())
        for part in rest.split("."):
            info = model.model_fields.get(part)
            if info is None:
                stale.append(f"{node_name}: {field}")
                break
            model = next(iter(_models(info.annotation)), None)
    assert not stale, f"exemptions for fields that do not exist: {stale}"


@pytest.mark.parametrize(
    ("node_type", "role", "field", "kind"),
    [
        ("text.index", "Inputs", "folder", "input_dir"),
        ("text.index", "Config", "index_dir", "output_dir"),
        ("text.index", "Config", "patterns[]", "glob"),
        ("prompt.load", "Config", "path", "input_path"),
        ("hf.generate", "Config", "model", "model_source"),
        ("hf.generate", "Config", "trust_remote_code", "loads_code"),
        ("hf.generate", "Config", "base_url", "url"),
        ("hf.generate", "Config", "api_key_env", "secret_name"),
        ("gnn.planetoid", "Config", "root", "unpickle_from"),
        ("gnn.planetoid", "Inputs", "root", "unpickle_from"),
        ("eval.weak_labels", "Config", "store", "output_path"),
        ("eval.gate", "Config", "store", "output_path"),
        ("prompt.reoptimise", "Config", "store", "output_path"),
        ("prompt.optimise", "Config", "model.trust_remote_code", "loads_code"),
        ("prompt.optimise", "Config", "proposer.base_url", "url"),
    ],
)
def test_the_fields_of_issue_11_carry_their_kind(every_plugin_host, node_type, role, field, kind):
    """The findings' fields, and the kind the policy checks them as, also in the JSON schema."""
    model = getattr(every_plugin_host.node_types[node_type], role)
    assert declared_trust(model)[field] == kind
    assert f'"{SCHEMA_KEY}": "{kind}"'.replace(" ", "") in str(model.model_json_schema()).replace(
        "'", '"'
    ).replace(" ", "")


@pytest.mark.parametrize(
    ("node_type", "config", "inputs", "field", "rule"),
    [
        ("text.index", {}, {"folder": "{outside}"}, "inputs.folder", "input_outside_roots"),
        (
            "text.index",
            {"index_dir": "{outside}"},
            {"folder": "{home}"},
            "config.index_dir",
            "output_outside_roots",
        ),
        ("prompt.load", {"path": "../../x.csv"}, {}, "config.path", "input_outside_roots"),
        (
            "hf.generate",
            {"model": "{outside}", "trust_remote_code": True},
            {},
            "config.trust_remote_code",
            "code_loading_refused",
        ),
        (
            "hf.generate",
            {"model": "m", "base_url": "http://127.0.0.1:9/v1"},
            {},
            "config.base_url",
            "url_not_allowed",
        ),
        (
            "hf.generate",
            {"model": "m", "api_key_env": "SECRET_DB_PASSWORD"},
            {},
            "config.api_key_env",
            "secret_not_allowed",
        ),
        ("gnn.planetoid", {"root": "{outside}"}, {}, "config.root", "unpickling_refused"),
        (
            "eval.weak_labels",
            {"store": "{home}/keys.sqlite", "rules": [{"kind": "feedback"}], "classes": ["a", "b"]},
            {},
            "config.store",
            "output_outside_roots",
        ),
        (
            "prompt.optimise",
            {
                "model": {"kind": "hf-causal", "model": "{outside}", "trust_remote_code": True},
                "space": {"verbalizers": {"0": ["bad"], "1": ["good"]}},
            },
            {"train": "{home}/artifacts/train.jsonl"},
            "config.model.trust_remote_code",
            "code_loading_refused",
        ),
    ],
)
def test_the_restricted_policy_refuses_the_issues_requests_through_these_fields(
    every_plugin_host, tmp_path, node_type, config, inputs, field, rule
):
    """The findings of issue 11, node by node: with the fields declared, the core's policy
    (restricted defaults, no per-node code) names the node, the field and the rule."""
    from autoglm.policy import Places, TrustPolicy, check_node

    home, outside = tmp_path / "home", tmp_path / "elsewhere"
    for folder in (home / "artifacts", outside):
        folder.mkdir(parents=True)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(home=home, outside=outside)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return [fill(v) for v in value] if isinstance(value, list) else value

    node = every_plugin_host.node_types[node_type]
    policy = TrustPolicy()
    violations = check_node(
        "n",
        node.Config.model_validate(fill(config)),
        node.Inputs.model_validate(fill(inputs)) if inputs else None,
        policy,
        Places.of(policy, home, base=home),
    )
    assert (field, rule) in {(v.field, v.rule) for v in violations}
    assert all(v.node == "n" for v in violations)
