"""Typed trust declarations for node Config and Inputs fields.

A field that names a file, a folder, a URL or a secret, or that makes a node load code, says so
in its type. The trust policy (``autoglm.policy.check``) then applies to every node, present and
future, with no per-node checks: it walks the validated models, finds the marked values and
checks each against the policy. The marker also lands in the JSON schema as
``"x-autoglm-trust": "<kind>"``, so ``autoglm plugins --json`` and a UI can show what a field
touches.

Why markers on types and not a list of field names per node: the declaration lives beside the
field it describes, so a new field cannot be added without deciding what it is, and the same
alias works inside ``X | None``, ``list[X]``, ``dict[str, X]`` and nested models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

TrustKind = Literal[
    "input_path",
    "input_dir",
    "output_path",
    "output_dir",
    "url",
    "secret_name",
    "loads_code",
    "unpickle_from",
    "model_source",
    "glob",
]

#: The JSON-schema key that carries a field's trust kind.
SCHEMA_KEY = "x-autoglm-trust"

#: What each kind means, for error messages, listings and the docs.
KIND_DESCRIPTIONS: dict[str, str] = {
    "input_path": "a file the node reads",
    "input_dir": "a folder the node reads",
    "output_path": "a file the node writes",
    "output_dir": "a folder the node writes into",
    "url": "a URL the node connects to",
    "secret_name": "the name of an environment variable whose value the node sends or uses",
    "loads_code": "a flag that, when true, makes the node import and run code it loads",
    "unpickle_from": "a file or folder whose files the node unpickles (pickle runs code)",
    "model_source": "a local model folder (read) or a model hub id (downloaded)",
    "glob": "a file pattern matched inside a folder the node reads",
}


@dataclass(frozen=True)
class Trust:
    """The marker: ``Annotated[str, Trust("input_path")]``.

    It is plain data (the checker reads it from the type) and adds ``x-autoglm-trust`` to the
    JSON schema of the value it annotates.
    """

    kind: TrustKind

    def __post_init__(self) -> None:
        if self.kind not in KIND_DESCRIPTIONS:
            raise ValueError(
                f"unknown trust kind {self.kind!r}; one of {sorted(KIND_DESCRIPTIONS)}"
            )

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema[SCHEMA_KEY] = self.kind
        return schema


InputPath = Annotated[str, Trust("input_path")]
"""A file the node reads: must lie inside the policy's input roots (or the run's home)."""

InputDir = Annotated[str, Trust("input_dir")]
"""A folder the node reads (recursively): inside the input roots (or the run's home)."""

OutputPath = Annotated[str, Trust("output_path")]
"""A file the node writes: inside the policy's output root."""

OutputDir = Annotated[str, Trust("output_dir")]
"""A folder the node writes into: inside the policy's output root."""

Url = Annotated[str, Trust("url")]
"""A URL the node connects to: its scheme, host and port must be on the policy's URL list."""

SecretName = Annotated[str, Trust("secret_name")]
"""The name of an environment variable holding a secret: must be on the policy's secret list."""

LoadsCode = Annotated[bool, Trust("loads_code")]
"""True makes the node run code it loads (``trust_remote_code``): refused unless allowed."""

UnpickleFrom = Annotated[str, Trust("unpickle_from")]
"""A file or folder whose files are unpickled: allowed only inside the policy's unpickle roots,
or anywhere when unpickling is allowed."""

ModelSource = Annotated[str, Trust("model_source")]
"""A local model folder (checked like ``InputDir``) or, when no such folder exists, a model hub
id (a download: allowed only when the policy allows hub models)."""

Glob = Annotated[str, Trust("glob")]
"""A file pattern searched inside a folder: must be relative and must not contain ``..``."""


def trust_of(metadata: Any) -> Trust | None:
    """The ``Trust`` marker among ``metadata`` (a field's metadata list or ``Annotated`` args)."""
    for item in metadata:
        if isinstance(item, Trust):
            return item
    return None


def annotated_trust(annotation: Any) -> Trust | None:
    """The marker of an ``Annotated[...]`` type, or None."""
    if getattr(annotation, "__metadata__", None) is not None:
        return trust_of(annotation.__metadata__)
    return None


def strip_annotated(annotation: Any) -> Any:
    """The type inside ``Annotated[T, ...]`` (``T`` itself otherwise)."""
    if getattr(annotation, "__metadata__", None) is not None:
        return get_args(annotation)[0]
    return annotation
