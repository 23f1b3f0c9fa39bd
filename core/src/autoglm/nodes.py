"""The node contract: what a plugin implements to add a step to workflows.

A workflow node runs exactly one implementation, so nodes are *not* pluggy hooks (pluggy calls
every implementation of a hook). A plugin hands node *types* to the host through the
``register_nodes(register)`` hook; the host owns the registry, decides name collisions and
remembers which plugin contributed which type. Each type then carries the Name/Init/Execute
contract:

* ``name`` – unique dotted name, ``"<plugin>.<node>"`` by convention (``"gnn.train"``).
* ``init(config, context)`` – called once per workflow node with its validated config. This is
  where heavy libraries (torch, dgl, transformers) are imported and models loaded, never at
  module import time, so that listing plugins stays cheap.
* ``execute(inputs, context)`` – called with validated inputs, returns an ``Outputs`` instance.
* ``state_fingerprint(config, inputs, context)`` / ``cacheable`` – what a node reads besides
  its config and inputs (a store, a folder) joins its cache key; or it is never cached.

Config, inputs and outputs are pydantic models so the host can validate a workflow before
anything runs, check that connected outputs and inputs have compatible types, and publish
JSON schemas (``autoglm plugins --json``). Values that cross node boundaries must be JSON
serialisable: they are stored in the run store for caching and resume. Large artefacts
(models, graphs, checkpoints) are written under ``context.artifacts_dir`` and passed as paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from autoglm.context import NodeContext

#: Major version of the node/hook API that this core implements. A node type declares the
#: version it was written against in ``api_version``; a mismatch is a load error for that plugin.
API_VERSION = 1
SUPPORTED_API_VERSIONS = frozenset({1})


class NodeModel(BaseModel):
    """Base for config, input and output models: unknown fields are errors, not silently dropped.

    ``defer_build`` postpones building each model's validator until its first use, so that
    importing every plugin to list it (``autoglm plugins``) does not pay for dozens of schemas.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)


class EmptyModel(NodeModel):
    """A config, input or output model with no fields."""


class NodeType:
    """Base class of every node type. Subclass it, set the class attributes, override ``execute``.

    Instances are created by the engine, one per workflow node and run, so ``init`` may keep
    state (a loaded model) on ``self`` for ``execute`` to use.
    """

    #: Unique dotted name used as ``type:`` in workflow YAML.
    name: ClassVar[str] = ""
    #: Version of this node's behaviour. Bump it when outputs for the same config and inputs
    #: change: it is part of the cache key.
    version: ClassVar[str] = "1"
    #: The core API version this node was written against (see ``API_VERSION``).
    api_version: ClassVar[int] = API_VERSION
    #: One-line description shown by ``autoglm plugins``.
    description: ClassVar[str] = ""
    Config: ClassVar[type[BaseModel]] = EmptyModel
    Inputs: ClassVar[type[BaseModel]] = EmptyModel
    Outputs: ClassVar[type[BaseModel]] = EmptyModel
    #: False for a node whose outputs must never be reused: the engine neither looks its
    #: result up in the cache nor stores it. For nodes whose outcome depends on state that
    #: cannot be fingerprinted cheaply (a remote service, the clock); prefer
    #: ``state_fingerprint`` when the state can be summarised.
    cacheable: ClassVar[bool] = True
    #: Name of a process-wide resource ``execute`` must use alone, e.g. ``"torch-rng"`` for a
    #: node that seeds torch's default generator and then draws from it (initialisation,
    #: dropout). Nodes of one run that name the same resource run one at a time in a process,
    #: so a seeded node repeats exactly even beside another; ``None`` (the default) for nodes
    #: with no such state. See ``autoglm.exclusive``.
    exclusive: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.config: BaseModel | None = None

    @classmethod
    def exclusive_resource(cls, config: BaseModel) -> str | None:
        """The process-wide resource this configured node must use alone; ``exclusive`` by
        default. Why per config: a node that only sometimes touches the shared state (sampling
        from a local model, not a remote server) should not make every run of it wait."""
        return cls.exclusive

    def init(self, config: BaseModel, context: NodeContext) -> None:
        """Prepare the node with its validated config. Import heavy libraries here."""
        self.config = config

    def execute(self, inputs: BaseModel, context: NodeContext) -> BaseModel:
        """Run the node on validated inputs and return an ``Outputs`` instance."""
        raise NotImplementedError(f"node type {self.name!r} does not implement execute()")

    @classmethod
    def effective_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The config values that decide what ``execute`` computes; by default all of them.

        Why: some fields matter only for some settings (``gnn.train`` ignores ``k`` for a GCN).
        A node that says so here lets a tuner treat configs that differ only in ignored fields
        as one point, so it neither trains the same model twice nor counts it as a new trial.
        ``config`` may be partial (a tuner passes the searched and fixed values); return a dict
        that is equal for configs that compute the same thing."""
        return dict(config)

    @classmethod
    def state_fingerprint(
        cls, config: BaseModel, inputs: BaseModel, context: NodeContext
    ) -> str | None:
        """A short summary of the state outside ``config`` and ``inputs`` that ``execute`` reads
        (a database, the files of a folder); ``None`` when it reads none (the default).

        Why: results are cached by type, version, config and inputs. A node that also reads a
        store or a folder would otherwise return a stale result after that state changed (new
        feedback rows, an edited document). The engine calls this before the cache lookup, with
        the validated config and inputs, and makes the result part of the cache key, so any
        change of the fingerprint recomputes the node and an unchanged one is still a hit.
        Keep it cheap (row counts and maximum ids, file sizes and modification times, not the
        content) and read-only. If it raises, the node runs uncached (a stale result is worse
        than a recomputed one)."""
        return None

    @classmethod
    def summary(cls) -> str:
        """The one-line description (cheap: builds no schema)."""
        return cls.description or (cls.__doc__ or "").strip().split("\n")[0]

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """JSON-ready description of the type: name, version, schemas (for listings and docs)."""
        return {
            "name": cls.name,
            "version": cls.version,
            "api_version": cls.api_version,
            "description": cls.summary(),
            "config_schema": cls.Config.model_json_schema(),
            "inputs_schema": cls.Inputs.model_json_schema(),
            "outputs_schema": cls.Outputs.model_json_schema(),
        }


def check_node_type(node_type: Any) -> list[str]:
    """Return the problems that make ``node_type`` unusable (empty when it is fine)."""
    problems: list[str] = []
    if not (isinstance(node_type, type) and issubclass(node_type, NodeType)):
        return [f"{node_type!r} is not a subclass of autoglm.NodeType"]
    if not node_type.name or not isinstance(node_type.name, str):
        problems.append(f"{node_type.__qualname__} has no name")
    for attr in ("Config", "Inputs", "Outputs"):
        model = getattr(node_type, attr, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            problems.append(f"{node_type.__qualname__}.{attr} is not a pydantic model")
    if node_type.api_version not in SUPPORTED_API_VERSIONS:
        problems.append(
            f"{node_type.__qualname__} needs core API version {node_type.api_version}, "
            f"this autoglm supports {sorted(SUPPORTED_API_VERSIONS)}"
        )
    return problems
