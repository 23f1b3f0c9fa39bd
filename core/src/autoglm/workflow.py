"""Workflow files: parsing, the workflow model, and validation before anything runs.

``load_workflow(path, host)`` returns a validated ``Workflow`` or raises ``WorkflowError`` with
*every* problem found, each naming the file, line, node id and field, what was expected and what
was found: unknown node types, unknown keys, bad configs, dangling references, missing required
inputs, type mismatches between connected outputs and inputs, invalid conditions and cycles.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from autoglm.errors import PluginError, WorkflowError, WorkflowProblem
from autoglm.expressions import Condition, ExpressionError, Reference, parse_condition
from autoglm.plugins import Host
from autoglm.yamlsafe import LocatedDict, line_of, load_located

NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z0-9_.-]+))?$")
TOP_KEYS = {"name", "description", "version", "inputs", "defaults", "nodes", "outputs"}
NODE_KEYS = {
    "id",
    "type",
    "description",
    "config",
    "inputs",
    "when",
    "retry",
    "timeout",
    "cache",
    "isolation",
}
SETTING_KEYS = {"retry", "timeout", "cache", "isolation"}
INPUT_TYPES: dict[str, Any] = {
    "any": Any,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}
RUN_INPUTS = "inputs"
#: ``$workflow.dir`` (folder of the workflow file), ``$workflow.file``, ``$workflow.name``: lets
#: a workflow name files beside itself wherever it is run from.
WORKFLOW_REF = "workflow"
WORKFLOW_FIELDS = ("dir", "file", "name")
RESERVED_ROOTS = frozenset({RUN_INPUTS, WORKFLOW_REF})
_MISSING = object()


class RetryPolicy(BaseModel):
    """Attempts with exponential backoff. Defaults follow LangGraph's: 0.5 s, x2, at most
    128 s, with jitter; ``attempts`` counts the first try (1 = no retry)."""

    attempts: int = 1
    initial_delay: float = 0.5
    backoff: float = 2.0
    max_delay: float = 128.0
    jitter: bool = True

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed ``attempt`` (1-based); ``rand`` in [0, 1)."""
        base = min(self.max_delay, self.initial_delay * self.backoff ** (attempt - 1))
        return base * (0.5 + rand) if self.jitter else base


class NodeSettings(BaseModel):
    """Execution settings of a node; workflow-level ``defaults`` fill what a node leaves out."""

    retry: RetryPolicy = RetryPolicy()
    timeout: float | None = None
    cache: bool = True
    isolation: str = "auto"  # auto: a process when a timeout is set, else a thread


@dataclass(frozen=True)
class InputRef:
    """Where a node input comes from: a node output, a run input, or the first branch that ran."""

    sources: tuple[Reference, ...]
    first_of: bool = False

    @property
    def nodes(self) -> set[str]:
        return {ref.root for ref in self.sources if ref.root not in RESERVED_ROOTS}


@dataclass(frozen=True)
class InputStruct:
    """A dict or list literal with references inside (``{graph: $load.path, seed: 3}``): the
    references are resolved and the structure rebuilt when the node runs."""

    value: Any

    @property
    def refs(self) -> list[InputRef]:
        found: list[InputRef] = []

        def walk(item: Any) -> None:
            if isinstance(item, InputRef):
                found.append(item)
            elif isinstance(item, dict):
                for child in item.values():
                    walk(child)
            elif isinstance(item, list):
                for child in item:
                    walk(child)

        walk(self.value)
        return found

    @property
    def nodes(self) -> set[str]:
        return set().union(*(ref.nodes for ref in self.refs))


def input_refs(value: Any) -> list[InputRef]:
    """The references of a node input value: none for a literal, one, or those in a structure."""
    if isinstance(value, InputRef):
        return [value]
    if isinstance(value, InputStruct):
        return value.refs
    return []


@dataclass
class WorkflowNode:
    id: str
    type: str
    config: dict[str, Any]
    inputs: dict[str, Any]  # literal values, InputRef or InputStruct
    settings: NodeSettings
    when: Condition | None = None
    description: str = ""
    line: int | None = None

    @property
    def depends_on(self) -> set[str]:
        deps: set[str] = set()
        for value in self.inputs.values():
            for ref in input_refs(value):
                deps |= ref.nodes
        if self.when is not None:
            deps |= {ref.root for ref in self.when.references if ref.root not in RESERVED_ROOTS}
        return deps


@dataclass
class RunInput:
    type: str = "any"
    default: Any = _MISSING
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is _MISSING


@dataclass
class Workflow:
    name: str
    description: str
    source: str
    path: str | None
    inputs: dict[str, RunInput]
    nodes: dict[str, WorkflowNode]
    outputs: dict[str, InputRef | Any]
    order: list[str] = field(default_factory=list)

    @property
    def children(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for node in self.nodes.values():
            for dep in node.depends_on:
                result[dep].append(node.id)
        return result

    def reference_values(self) -> dict[str, str | None]:
        """Values of ``$workflow.dir``, ``$workflow.file`` and ``$workflow.name``."""
        file = str(Path(self.path).resolve()) if self.path else None
        folder = str(Path(file).parent) if file else str(Path.cwd())
        return {"dir": folder, "file": file, "name": self.name}

    def resolve_inputs(self, given: dict[str, Any]) -> dict[str, Any]:
        """Run inputs with defaults filled in and types checked; raises ``WorkflowError``."""
        problems: list[WorkflowProblem] = []
        values: dict[str, Any] = {}
        for name in given:
            if name not in self.inputs:
                declared = ", ".join(sorted(self.inputs)) or "(none)"
                problems.append(
                    WorkflowProblem(
                        f"unknown run input {name!r}; the workflow declares: {declared}",
                        file=self.path,
                        field=f"inputs.{name}",
                    )
                )
        for name, spec in self.inputs.items():
            if name in given:
                value = given[name]
            elif not spec.required:
                value = spec.default
            else:
                problems.append(
                    WorkflowProblem(
                        f"run input {name!r} ({spec.type}) is required and was not given",
                        file=self.path,
                        field=f"inputs.{name}",
                    )
                )
                continue
            try:
                values[name] = TypeAdapter(INPUT_TYPES[spec.type]).validate_python(value)
            except ValidationError as exc:
                problems.append(
                    WorkflowProblem(
                        f"expected {spec.type}, found {value!r}: {_first_error(exc)}",
                        file=self.path,
                        field=f"inputs.{name}",
                    )
                )
        if problems:
            raise WorkflowError(problems)
        return values


def load_workflow(path: str | Path, host: Host) -> Workflow:
    """Read and validate a workflow file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowError(
            [WorkflowProblem(f"cannot read workflow: {exc}", file=str(path))]
        ) from None
    return parse_workflow(text, host, path=str(path))


def parse_workflow(text: str, host: Host, *, path: str | None = None) -> Workflow:
    """Parse and validate workflow YAML text; ``path`` is used in error messages."""
    return _Validator(text, host, path).run()


def _first_error(exc: ValidationError) -> str:
    return exc.errors()[0]["msg"] if exc.errors() else str(exc)


_JSON_TYPES: dict[Any, frozenset[str]] = {}


def _json_types(annotation: Any) -> frozenset[str]:
    """The JSON types a value of ``annotation`` may have (empty = anything). Memoised: building
    a schema costs far more than a lookup, and big workflows repeat the same few types."""
    try:
        return _JSON_TYPES[annotation]
    except (KeyError, TypeError):
        pass
    try:
        types = frozenset(_schema_types(TypeAdapter(annotation).json_schema()))
    except Exception:
        types = frozenset()
    with contextlib.suppress(TypeError):  # unhashable annotations are simply not memoised
        _JSON_TYPES[annotation] = types
    return types


def _schema_types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        parts = [_schema_types(s) for s in schema["anyOf"]]
        if any(not p for p in parts):
            return set()
        return set().union(*parts) - {"null"}
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind) - {"null"}
    return {kind} if isinstance(kind, str) else set()


def types_compatible(source: Any, target: Any) -> bool:
    """Can an output annotated ``source`` feed an input annotated ``target``? Lenient: only
    clear mismatches (a string into an integer) are refused."""
    src, dst = _json_types(source), _json_types(target)
    if not src or not dst:
        return True
    if "number" in dst:
        dst = dst | {"integer"}
    return bool(src & dst)


class _Validator:
    """Collects every problem of one workflow text, then builds the ``Workflow``."""

    def __init__(self, text: str, host: Host, path: str | None) -> None:
        self.text = text
        self.host = host
        self.path = path
        self.problems: list[WorkflowProblem] = []

    def problem(
        self,
        message: str,
        *,
        line: int | None = None,
        node: str | None = None,
        field: str | None = None,
    ) -> None:
        self.problems.append(
            WorkflowProblem(message, file=self.path, line=line, node=node, field=field)
        )

    def run(self) -> Workflow:
        try:
            data = load_located(self.text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            self.problem(f"invalid YAML: {problem}", line=line)
            raise WorkflowError(self.problems) from None
        if not isinstance(data, dict):
            self.problem(f"a workflow must be a mapping with 'nodes', found {type(data).__name__}")
            raise WorkflowError(self.problems)
        for key in data:
            if key not in TOP_KEYS:
                self.problem(
                    f"unknown key {key!r}; expected one of {', '.join(sorted(TOP_KEYS))}",
                    line=line_of(data, key),
                    field=str(key),
                )
        run_inputs = self._run_inputs(data.get("inputs") or {}, data)
        defaults = self._settings(data.get("defaults") or {}, data, None, "defaults", None)
        nodes = self._nodes(data, defaults)
        outputs = self._outputs(data.get("outputs") or {}, data, nodes, run_inputs)
        self._check_references(nodes, run_inputs)
        raw_outputs = data.get("outputs") or {}
        for name, value in outputs.items():
            self._check_value_refs(
                value, nodes, run_inputs, line=line_of(raw_outputs, name), field=f"outputs.{name}"
            )
        order = self._order(nodes)
        if self.problems:
            raise WorkflowError(self.problems)
        name = data.get("name") or (Path(self.path).stem if self.path else "workflow")
        return Workflow(
            name=str(name),
            description=str(data.get("description") or ""),
            source=self.text,
            path=self.path,
            inputs=run_inputs,
            nodes=nodes,
            outputs=outputs,
            order=order,
        )

    # ------------------------------------------------------------ sections

    def _run_inputs(self, raw: Any, parent: Any) -> dict[str, RunInput]:
        if not isinstance(raw, dict):
            self.problem("'inputs' must be a mapping", line=line_of(parent, "inputs"))
            return {}
        result: dict[str, RunInput] = {}
        for name, spec in raw.items():
            where = line_of(raw, name)
            if not isinstance(spec, dict):  # shorthand: `name: default`
                result[str(name)] = RunInput(default=spec)
                continue
            unknown = set(spec) - {"type", "default", "description"}
            if unknown:
                self.problem(
                    f"unknown keys {sorted(unknown)}; a run input has type, default, description",
                    line=where,
                    field=f"inputs.{name}",
                )
            kind = str(spec.get("type", "any"))
            if kind not in INPUT_TYPES:
                self.problem(
                    f"unknown type {kind!r}; expected one of {', '.join(INPUT_TYPES)}",
                    line=line_of(spec, "type"),
                    field=f"inputs.{name}.type",
                )
                kind = "any"
            result[str(name)] = RunInput(
                type=kind,
                default=spec.get("default", _MISSING),
                description=str(spec.get("description", "")),
            )
        return result

    def _settings(
        self, raw: Any, parent: Any, node: str | None, prefix: str, base: NodeSettings | None
    ) -> NodeSettings:
        values: dict[str, Any] = base.model_dump() if base else {}
        if not isinstance(raw, dict):
            self.problem("must be a mapping", line=line_of(parent, prefix), node=node, field=prefix)
            return NodeSettings(**values)
        for key in raw:
            if key in SETTING_KEYS:
                value = raw[key]
                if key == "retry" and isinstance(value, int) and not isinstance(value, bool):
                    value = {"attempts": value}
                values[key] = value
            elif prefix == "defaults":
                self.problem(
                    f"unknown key {key!r}; defaults may set {', '.join(sorted(SETTING_KEYS))}",
                    line=line_of(raw, key),
                    field=f"defaults.{key}",
                )
        try:
            settings = NodeSettings.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                loc = ".".join(str(p) for p in error["loc"])
                self.problem(
                    f"{error['msg']} (found {error.get('input')!r})",
                    line=line_of(raw, error["loc"][0]),
                    node=node,
                    field=loc if prefix != "defaults" else f"defaults.{loc}",
                )
            return NodeSettings()
        if settings.isolation not in {"auto", "thread", "process"}:
            self.problem(
                f"expected 'auto', 'thread' or 'process', found {settings.isolation!r}",
                line=line_of(raw, "isolation"),
                node=node,
                field="isolation",
            )
        if settings.retry.attempts < 1:
            self.problem(
                f"retry attempts must be at least 1, found {settings.retry.attempts}",
                line=line_of(raw, "retry"),
                node=node,
                field="retry.attempts",
            )
        return settings

    def _nodes(self, data: dict[str, Any], defaults: NodeSettings) -> dict[str, WorkflowNode]:
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            self.problem("'nodes' must be a non-empty list", line=line_of(data, "nodes"))
            return {}
        nodes: dict[str, WorkflowNode] = {}
        for index, raw in enumerate(raw_nodes):
            where = line_of(raw_nodes, index)
            if not isinstance(raw, dict):
                self.problem(f"nodes[{index}] must be a mapping with id and type", line=where)
                continue
            node_id = raw.get("id")
            if (
                not isinstance(node_id, str)
                or not NODE_ID.match(node_id)
                or node_id in RESERVED_ROOTS
            ):
                self.problem(
                    f"nodes[{index}]: expected an id of letters, digits, '_' or '-' "
                    f"(not 'inputs' or 'workflow'), found {node_id!r}",
                    line=line_of(raw, "id"),
                    field="id",
                )
                continue
            if node_id in nodes:
                self.problem(
                    f"duplicate node id (first defined on line {nodes[node_id].line})",
                    line=line_of(raw, "id"),
                    node=node_id,
                    field="id",
                )
                continue
            for key in raw:
                if key not in NODE_KEYS:
                    self.problem(
                        f"unknown key {key!r}; a node has {', '.join(sorted(NODE_KEYS))}",
                        line=line_of(raw, key),
                        node=node_id,
                        field=str(key),
                    )
            node = self._node(node_id, raw, defaults, where)
            if node is not None:
                nodes[node_id] = node
        return nodes

    def _node(
        self, node_id: str, raw: LocatedDict, defaults: NodeSettings, where: int | None
    ) -> WorkflowNode | None:
        type_name = raw.get("type")
        if not isinstance(type_name, str):
            self.problem(
                f"expected a node type name, found {type_name!r}",
                line=line_of(raw, "type") or where,
                node=node_id,
                field="type",
            )
            return None
        config = raw.get("config") or {}
        inputs_raw = raw.get("inputs") or {}
        for key, value in (("config", config), ("inputs", inputs_raw)):
            if not isinstance(value, dict):
                self.problem(
                    f"expected a mapping, found {type(value).__name__}",
                    line=line_of(raw, key),
                    node=node_id,
                    field=key,
                )
        if not isinstance(config, dict) or not isinstance(inputs_raw, dict):
            return None
        settings = self._settings(raw, raw, node_id, "node", defaults)
        condition = None
        if raw.get("when") is not None:
            try:
                condition = parse_condition(str(raw["when"]))
            except ExpressionError as exc:
                self.problem(str(exc), line=line_of(raw, "when"), node=node_id, field="when")
        inputs = {
            str(k): self._input_value(v, inputs_raw, k, node_id) for k, v in inputs_raw.items()
        }
        node = WorkflowNode(
            id=node_id,
            type=type_name,
            config=dict(config),
            inputs=inputs,
            settings=settings,
            when=condition,
            description=str(raw.get("description") or ""),
            line=where,
        )
        node._raw = raw  # type: ignore[attr-defined]  # kept for line numbers during validation
        self._check_node_type(node, raw)
        return node

    def _input_value(self, value: Any, container: Any, key: Any, node_id: str | None) -> Any:
        """A literal, or an ``InputRef`` for ``$node.field`` / ``{first_of: [...]}``."""
        if isinstance(value, str) and value.startswith("$$"):
            return value[1:]  # escaped literal dollar
        if isinstance(value, str) and value.startswith("$"):
            ref = self._parse_ref(value, container, key, node_id)
            return InputRef((ref,)) if ref else value
        if isinstance(value, dict) and set(value) == {"first_of"}:
            options = value["first_of"]
            if not isinstance(options, list) or not options:
                self.problem(
                    "first_of needs a non-empty list of references",
                    line=line_of(container, key),
                    node=node_id,
                    field=f"inputs.{key}",
                )
                return value
            refs = [self._parse_ref(str(o), container, key, node_id) for o in options]
            return InputRef(tuple(r for r in refs if r), first_of=True)
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            converted = {k: self._input_value(v, value, k, node_id) for k, v in items}
            rebuilt = converted if isinstance(value, dict) else list(converted.values())
            if any(isinstance(v, InputRef | InputStruct) for v in converted.values()):
                return InputStruct(_unwrap(rebuilt))
        return value

    def _parse_ref(
        self, text: str, container: Any, key: Any, node_id: str | None
    ) -> Reference | None:
        match = REF.match(text)
        if not match:
            self.problem(
                f"expected a reference like '$node.field' or '$inputs.name', found {text!r}",
                line=line_of(container, key),
                node=node_id,
                field=f"inputs.{key}" if node_id else f"outputs.{key}",
            )
            return None
        root, rest = match.group(1), match.group(2)
        return Reference(root, tuple(rest.split(".")) if rest else ())

    def _check_node_type(self, node: WorkflowNode, raw: LocatedDict) -> None:
        try:
            node_type = self.host.get_node_type(node.type)
        except PluginError as exc:
            self.problem(str(exc), line=line_of(raw, "type"), node=node.id, field="type")
            return
        config_raw = raw.get("config") or {}
        try:
            node_type.Config.model_validate(node.config)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error["loc"]]
                self.problem(
                    f"{error['msg']} (found {error.get('input')!r})"
                    if error["type"] != "missing"
                    else "required config field is missing",
                    line=line_of(config_raw, error["loc"][0]) if loc else line_of(raw, "config"),
                    node=node.id,
                    field="config." + ".".join(loc) if loc else "config",
                )
        fields = node_type.Inputs.model_fields
        inputs_raw = raw.get("inputs") or {}
        for name, value in node.inputs.items():
            if name not in fields:
                self.problem(
                    f"unknown input; {node.type} takes {', '.join(fields) or 'no inputs'}",
                    line=line_of(inputs_raw, name),
                    node=node.id,
                    field=f"inputs.{name}",
                )
            elif not isinstance(value, InputRef | InputStruct):
                try:
                    TypeAdapter(fields[name].annotation).validate_python(value)
                except ValidationError as exc:
                    self.problem(
                        f"{_first_error(exc)} (found {value!r})",
                        line=line_of(inputs_raw, name),
                        node=node.id,
                        field=f"inputs.{name}",
                    )
        for name, info in fields.items():
            if info.is_required() and name not in node.inputs:
                self.problem(
                    f"missing required input {name!r} of {node.type}",
                    line=line_of(raw, "inputs") or node.line,
                    node=node.id,
                    field=f"inputs.{name}",
                )

    def _outputs(
        self,
        raw: Any,
        data: Any,
        nodes: dict[str, WorkflowNode],
        run_inputs: dict[str, RunInput],
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.problem("'outputs' must be a mapping", line=line_of(data, "outputs"))
            return {}
        return {str(k): self._input_value(v, raw, k, None) for k, v in raw.items()}

    # ---------------------------------------------------------- references

    def _check_references(
        self, nodes: dict[str, WorkflowNode], run_inputs: dict[str, RunInput]
    ) -> None:
        for node in nodes.values():
            raw = getattr(node, "_raw", {})
            inputs_raw = raw.get("inputs") or {}
            target_fields = self._fields(node.type, "Inputs")
            for name, value in node.inputs.items():
                self._check_value_refs(
                    value,
                    nodes,
                    run_inputs,
                    line=line_of(inputs_raw, name),
                    node=node.id,
                    field=f"inputs.{name}",
                    target=target_fields.get(name),
                )
            if node.when is not None:
                for ref in node.when.references:
                    self._check_ref(
                        ref,
                        nodes,
                        run_inputs,
                        line=line_of(raw, "when"),
                        node=node.id,
                        field="when",
                    )

    def _check_value_refs(
        self,
        value: Any,
        nodes: dict[str, WorkflowNode],
        run_inputs: dict[str, RunInput],
        *,
        line: int | None,
        field: str,
        node: str = "",
        target: Any = None,
    ) -> None:
        """Check every reference of an input or output value; only a whole-value reference is
        type-checked against ``target`` (a reference nested in a structure has no field type)."""
        for input_ref in input_refs(value):
            for ref in input_ref.sources:
                self._check_ref(
                    ref,
                    nodes,
                    run_inputs,
                    line=line,
                    node=node,
                    field=field,
                    target=target if value is input_ref else None,
                )

    def _fields(self, type_name: str, model: str) -> dict[str, Any]:
        try:
            node_type = self.host.get_node_type(type_name)
        except PluginError:
            return {}
        return getattr(node_type, model).model_fields

    def _check_ref(
        self,
        ref: Reference,
        nodes: dict[str, WorkflowNode],
        run_inputs: dict[str, RunInput],
        *,
        line: int | None,
        node: str,
        field: str,
        target: Any = None,
    ) -> None:
        if ref.root == WORKFLOW_REF:
            if len(ref.path) != 1 or ref.path[0] not in WORKFLOW_FIELDS:
                self.problem(
                    f"reference ${ref}: expected $workflow.dir, $workflow.file or $workflow.name",
                    line=line,
                    node=node,
                    field=field,
                )
            return
        if ref.root == RUN_INPUTS:
            if not ref.path or ref.path[0] not in run_inputs:
                declared = ", ".join(sorted(run_inputs)) or "(none)"
                self.problem(
                    f"reference ${ref} names no declared run input; declared: {declared}",
                    line=line,
                    node=node,
                    field=field,
                )
                return
            source_type = INPUT_TYPES[run_inputs[ref.path[0]].type]
        else:
            if ref.root not in nodes:
                self.problem(
                    f"reference ${ref} names no node of this workflow (dangling reference)",
                    line=line,
                    node=node,
                    field=field,
                )
                return
            if ref.root == node:
                self.problem(f"node refers to itself through ${ref}", line=line, node=node)
                return
            if not ref.path:
                return
            outputs = self._fields(nodes[ref.root].type, "Outputs")
            if outputs and ref.path[0] not in outputs:
                self.problem(
                    f"reference ${ref}: {nodes[ref.root].type} has no output {ref.path[0]!r}; "
                    f"its outputs are {', '.join(outputs)}",
                    line=line,
                    node=node,
                    field=field,
                )
                return
            source_type = outputs[ref.path[0]].annotation if outputs else Any
        if (
            target is not None
            and len(ref.path) <= 1
            and not types_compatible(source_type, target.annotation)
        ):
            self.problem(
                f"type mismatch: ${ref} is {_type_name(source_type)} but the input expects "
                f"{_type_name(target.annotation)}",
                line=line,
                node=node,
                field=field,
            )

    def _order(self, nodes: dict[str, WorkflowNode]) -> list[str]:
        """Topological order (Kahn); reports a cycle with its path."""
        indegree = {n: len(node.depends_on & nodes.keys()) for n, node in nodes.items()}
        children: dict[str, list[str]] = {n: [] for n in nodes}
        for node in nodes.values():
            for dep in node.depends_on & nodes.keys():
                children[dep].append(node.id)
        ready = [n for n in nodes if indegree[n] == 0]
        order: list[str] = []
        while ready:
            current = ready.pop(0)
            order.append(current)
            for child in children[current]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) < len(nodes):
            cycle = _find_cycle({n: nodes[n].depends_on & nodes.keys() for n in nodes})
            first = cycle[0] if cycle else next(n for n in nodes if n not in order)
            self.problem(
                "cycle in the workflow: " + " -> ".join(cycle or [first]),
                line=nodes[first].line,
                node=first,
                field="inputs",
            )
        return order


def _unwrap(value: Any) -> Any:
    """Flatten nested ``InputStruct`` wrappers into one plain structure with InputRef leaves."""
    if isinstance(value, InputStruct):
        return _unwrap(value.value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _find_cycle(deps: dict[str, set[str]]) -> list[str]:
    """One cycle as a path ``a -> b -> a`` (depth-first search over dependencies)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(deps[node]):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(deps):
        if node not in state:
            found = visit(node)
            if found:
                return list(reversed(found))
    return []


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
