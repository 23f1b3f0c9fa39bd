"""The trust policy: what a workflow's nodes may read, write, contact and load.

Declaring fields (plugin authors)
---------------------------------
A Config or Inputs field that names a file, a folder, a URL or a secret, or that makes the node
load code, is typed with one of these aliases (``Annotated[<type>, Trust(<kind>)]``)::

    from autoglm import NodeModel
    from autoglm.policy import InputDir, LoadsCode, OutputDir, SecretName, Url

    class Config(NodeModel):
        folder: InputDir                          # a folder the node reads
        index_dir: OutputDir | None = None        # a folder it writes into
        extra_files: list[InputPath] = []         # each item is checked
        base_url: Url | None = None               # scheme://host[:port] on the allowed list
        api_key_env: SecretName | None = None     # environment variable name on the allowed list
        trust_remote_code: LoadsCode = False      # true is refused unless code loading is allowed

======================  ==============  =====================================================
alias                   kind            what the policy checks
======================  ==============  =====================================================
``InputPath``           input_path      a file read: inside an input root or the run's home
``InputDir``            input_dir       a folder read: same
``OutputPath``          output_path     a file written: inside the output root
``OutputDir``           output_dir      a folder written into: inside the output root
``Url``                 url             scheme, host and port on the allowed URL list
``SecretName``          secret_name     the environment variable name on the allowed list
``LoadsCode``           loads_code      ``True`` refused unless code loading is allowed
``UnpickleFrom``        unpickle_from   inside an unpickle root, or unpickling allowed
``ModelSource``         model_source    an existing local folder: like ``InputDir``; else a
                                        hub id: refused unless hub models are allowed
``Glob``                glob            relative, no ``..`` (patterns inside a read folder)
======================  ==============  =====================================================

The markers work inside ``X | None``, ``list[X]``, ``dict[str, X]``, tuples and nested models,
and appear in JSON schemas as ``"x-autoglm-trust": "<kind>"``. ``Trust("<kind>")`` can be put
on any type directly (``Annotated[list[str], Trust("input_path")]`` checks every item).
A field with sentinel values beside a marked type lists them in a ``Literal`` arm:
``model: ModelSource | Literal["extractive"] | None`` checks ``./my-model`` and lets
``extractive`` pass. ``declared_trust(Model)`` lists a model's marked fields;
``marked_values(instance)`` yields the marked values a submission chose (fields left at, or set
to, their defaults are the author's choice and are not checked).

Applying a policy (the host)
----------------------------
``TrustPolicy`` says what a run may touch (input roots, output roots, URLs, secret names, code
loading, unpickling, hub models, private plugins); ``TrustPolicy()`` is the restricted default
of the service's non-admin keys and ``autoglm run --sandbox``, ``TrustPolicy.unrestricted()``
the trusted one. ``check_node(node_id, config, inputs, policy, Places.of(policy, home))``
returns the ``Violation`` list (node, dotted field, rule, kind of value); ``enforce`` raises
``PolicyViolation`` with the same message. The engine enforces the run's policy (stored in its
options) right before each node executes; the service also checks at submission
(``autoglm.policy.submission.check_workflow``, imported on its own: it needs the engine).

This package imports pydantic and the standard library only, so plugins can import it from
their light modules.
"""

from __future__ import annotations

from autoglm.policy.check import (
    RULES,
    Places,
    PolicyViolation,
    Violation,
    check_node,
    enforce,
    executor_violation,
    url_rule,
    violation_of,
)
from autoglm.policy.fields import (
    KIND_DESCRIPTIONS,
    SCHEMA_KEY,
    Glob,
    InputDir,
    InputPath,
    LoadsCode,
    ModelSource,
    OutputDir,
    OutputPath,
    SecretName,
    Trust,
    TrustKind,
    UnpickleFrom,
    Url,
)
from autoglm.policy.model import (
    TrustPolicy,
    load_policy_file,
    policy_options,
    run_policy,
)
from autoglm.policy.walk import (
    MarkedValue,
    declared_trust,
    has_marks,
    marked_in_data,
    marked_values,
)

__all__ = [
    "KIND_DESCRIPTIONS",
    "RULES",
    "SCHEMA_KEY",
    "Glob",
    "InputDir",
    "InputPath",
    "LoadsCode",
    "MarkedValue",
    "ModelSource",
    "OutputDir",
    "OutputPath",
    "Places",
    "PolicyViolation",
    "SecretName",
    "Trust",
    "TrustKind",
    "TrustPolicy",
    "UnpickleFrom",
    "Url",
    "Violation",
    "check_node",
    "declared_trust",
    "enforce",
    "executor_violation",
    "has_marks",
    "load_policy_file",
    "marked_in_data",
    "marked_values",
    "policy_options",
    "run_policy",
    "url_rule",
    "violation_of",
]
