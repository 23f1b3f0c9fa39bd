"""The validator: located YAML data in, a ``Workflow`` or every problem found out.

It never stops at the first problem: each one is collected with its file, line, node id and
field, so a user fixes a workflow in one pass instead of one error per run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autoglm.errors import PluginError, WorkflowError, WorkflowProblem
from autoglm.expressions import Condition, ExpressionError, Reference, parse_condition
from autoglm.plugins import Host
from autoglm.shortrepr import short
from autoglm.workflow.graph import describe_cycle, topological_order
from autoglm.workflow.limits import ParseLimits
from autoglm.workflow.model import (
    _MISSING,
    INPUT_TYPES,
    NODE_ID,
    NODE_KEYS,
    REF,
    RESERVED_ROOTS,
    RUN_INPUTS,
    SETTING_KEYS,
    TOP_KEYS,
    WORKFLOW_FIELDS,
    WORKFLOW_REF,
    InputRef,
    InputStruct,
    NodeResources,
    NodeSettings,
    RunInput,
    Workflow,
    WorkflowNode,
    _first_error,
    input_refs,
)
from autoglm.workflow.parser import parse_yaml
from autoglm.workflow.typecheck import _type_name, adapter, types_compatible
from autoglm.yamlsafe import LocatedDict, line_of


class _Validator:
    """Collects every problem of one workflow text, then builds the ``Workflow``."""

    def __init__(
        self, text: str, host: Host, path: str | None, limits: ParseLimits | None = None
    ) -> None:
        self.text = text
        self.host = host
        self.path = path
        self.limits = limits or ParseLimits.from_env()
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
        """The validated workflow; raises ``WorkflowError`` and nothing else. A bug here must
        not take a multi-file ``validate`` or the service down with a traceback: it becomes
        a problem naming the file (the fuzz test keeps such problems at zero)."""
        try:
            return self._run()
        except WorkflowError:
            raise
        except (RecursionError, MemoryError) as exc:
            self.problem(f"the workflow is too large or too deeply nested ({type(exc).__name__})")
        except Exception as exc:
            self.problem(f"internal validator error, please report it: {type(exc).__name__}: {exc}")
        raise WorkflowError(self.problems)

    def _run(self) -> Workflow:
        data = parse_yaml(self.text, self.path, self.limits)
        if not isinstance(data, dict):
            self.problem(
                f"a workflow must be a mapping with 'nodes', found {_kind(data)}",
                line=getattr(data, "line", None) or 1,
            )
            raise WorkflowError(self.problems)
        for key in data:
            if key not in TOP_KEYS:
                self.problem(
                    f"unknown key {key!r}; expected one of {', '.join(sorted(TOP_KEYS))}",
                    line=line_of(data, key),
                    field=str(key),
                )
        run_inputs = self._run_inputs(_mapping_or_empty(data.get("inputs")), data)
        defaults = self._settings(
            _mapping_or_empty(data.get("defaults")), data, None, "defaults", None
        )
        nodes = self._nodes(data, defaults)
        raw_outputs = _mapping_or_empty(data.get("outputs"))
        outputs = self._outputs(raw_outputs, data, nodes, run_inputs)
        self._check_references(nodes, run_inputs)
        for name, value in outputs.items():
            self._check_value_refs(
                value, nodes, run_inputs, line=line_of(raw_outputs, name), field=f"outputs.{name}"
            )
        order = self._order(nodes)
        executor = self._executor(data)
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
            executor=executor,
        )

    # ------------------------------------------------------------ sections

    def _executor(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """``executor: NAME`` or ``executor: {name: NAME, options: {key: scalar}}``: where the
        workflow's attempts run, checked against the executors the plugins registered."""
        if "executor" not in data:
            return None
        raw = data["executor"]
        line = line_of(data, "executor")
        if isinstance(raw, str):
            raw = {"name": raw}
        if not isinstance(raw, dict) or set(raw) - {"name", "options"}:
            self.problem(
                "executor must be a name or a mapping with 'name' and 'options', found "
                + _kind(raw),
                line=line,
                field="executor",
            )
            return None
        name, options = raw.get("name"), raw.get("options") or {}
        known = getattr(self.host, "executors", {})
        if not isinstance(name, str) or name not in known:
            self.problem(
                f"unknown executor {name!r}; registered executors: "
                f"{', '.join(sorted(known)) or '(none)'} (autoglm-dask adds 'dask')",
                line=line_of(raw, "name") or line,
                field="executor.name",
            )
            return None
        if not isinstance(options, dict) or not all(
            isinstance(v, (str, int, float, bool)) for v in options.values()
        ):
            self.problem(
                "executor.options must map names to numbers, strings or booleans",
                line=line_of(raw, "options") or line,
                field="executor.options",
            )
            return None
        return {"name": name, "options": {str(k): v for k, v in options.items()}}

    def _run_inputs(self, raw: Any, parent: Any) -> dict[str, RunInput]:
        if not isinstance(raw, dict):
            self.problem(
                f"'inputs' must be a mapping of run inputs, found {_kind(raw)}",
                line=line_of(parent, "inputs"),
                field="inputs",
            )
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
                    f"unknown keys {sorted(map(str, unknown))}; a run input has type, default, "
                    "description",
                    line=where,
                    field=f"inputs.{name}",
                )
            kind = str(spec.get("type", "any"))
            if kind not in INPUT_TYPES:
                self.problem(
                    f"unknown type {short(kind)}; expected one of {', '.join(INPUT_TYPES)}",
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
            self.problem(
                f"expected a mapping of settings, found {_kind(raw)}",
                line=line_of(parent, prefix),
                node=node,
                field=prefix,
            )
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
                    f"{error['msg']} (found {short(error.get('input'))})",
                    line=line_of(raw, error["loc"][0]),
                    node=node,
                    field=loc if prefix != "defaults" else f"defaults.{loc}",
                )
            return NodeSettings()
        if settings.isolation not in {"auto", "thread", "process"}:
            self.problem(
                f"expected 'auto', 'thread' or 'process', found {short(settings.isolation)}",
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
                    f"(not 'inputs' or 'workflow'), found {short(node_id)}",
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
                f"expected a node type name, found {short(type_name)}",
                line=line_of(raw, "type") or where,
                node=node_id,
                field="type",
            )
            return None
        config = _mapping_or_empty(raw.get("config"))
        inputs_raw = _mapping_or_empty(raw.get("inputs"))
        for key, value in (("config", config), ("inputs", inputs_raw)):
            if not isinstance(value, dict):
                self.problem(
                    f"expected a mapping, found {_kind(value)}",
                    line=line_of(raw, key),
                    node=node_id,
                    field=key,
                )
        if not isinstance(config, dict) or not isinstance(inputs_raw, dict):
            return None
        settings = self._settings(raw, raw, node_id, "node", defaults)
        condition = self._condition(raw, node_id)
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
            resources=self._resources(raw, node_id),
        )
        node._raw = raw  # type: ignore[attr-defined]  # kept for line numbers during validation
        self._check_node_type(node, raw)
        if settings.environment is not None:
            self._check_environment(node, raw)
        return node

    def _check_environment(self, node: WorkflowNode, raw: LocatedDict) -> None:
        """The node's environment is registered, runs autoglm with a core API version this
        host supports, and has the node's plugin (asked once, then cached)."""
        from autoglm.environments import EnvironmentUnavailable, check, plugin_of

        try:
            check(str(node.settings.environment), plugin_of(node.type))
        except EnvironmentUnavailable as exc:
            self.problem(
                str(exc),
                line=line_of(raw, "environment") or node.line,
                node=node.id,
                field="environment",
            )

    def _resources(self, raw: LocatedDict, node_id: str) -> NodeResources | None:
        """The node's ``resources:`` block (cpu, memory, gpu, gpu_type), each problem located."""
        value = raw.get("resources")
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(
                f"expected a mapping of cpu, memory, gpu, gpu_type, found {_kind(value)}",
                line=line_of(raw, "resources"),
                node=node_id,
                field="resources",
            )
            return None
        try:
            return NodeResources.model_validate(dict(value))
        except ValidationError as exc:
            for error in exc.errors():
                loc = ".".join(str(p) for p in error["loc"])
                self.problem(
                    f"{error['msg']} (found {short(error.get('input'))})",
                    line=line_of(value, error["loc"][0]) if error["loc"] else None,
                    node=node_id,
                    field=f"resources.{loc}" if loc else "resources",
                )
            return None

    def _condition(self, raw: LocatedDict, node_id: str) -> Condition | None:
        """The parsed ``when``: a string expression, bounded in length and depth."""
        source = raw.get("when")
        if source is None:
            return None
        if not isinstance(source, str):
            self.problem(
                f"expected an expression string such as \"route.task == 'qa'\", "
                f"found {_kind(source)} {short(source)}",
                line=line_of(raw, "when"),
                node=node_id,
                field="when",
            )
            return None
        try:
            return parse_condition(
                source,
                max_chars=self.limits.max_expression_chars,
                max_depth=self.limits.max_expression_depth,
            )
        except ExpressionError as exc:
            self.problem(str(exc), line=line_of(raw, "when"), node=node_id, field="when")
            return None

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
            refs = [
                self._parse_ref(o if isinstance(o, str) else short(o), container, key, node_id)
                for o in options
            ]
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
                f"expected a reference like '$node.field' or '$inputs.name', found {short(text)}",
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
        config_raw = _mapping_or_empty(raw.get("config"))
        try:
            node_type.Config.model_validate(node.config)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error["loc"]]
                self.problem(
                    f"{error['msg']} (found {short(error.get('input'))})"
                    if error["type"] != "missing"
                    else "required config field is missing",
                    line=line_of(config_raw, error["loc"][0]) if loc else line_of(raw, "config"),
                    node=node.id,
                    field="config." + ".".join(loc) if loc else "config",
                )
        except Exception as exc:  # a plugin's validator that raises more than ValueError
            self.problem(
                _plugin_bug(node.type, "config", exc),
                line=line_of(raw, "config") or node.line,
                node=node.id,
                field="config",
            )
        fields = node_type.Inputs.model_fields
        inputs_raw = _mapping_or_empty(raw.get("inputs"))
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
                    adapter(fields[name].annotation).validate_python(value)
                except ValidationError as exc:
                    self.problem(
                        f"{_first_error(exc)} (found {short(value)})",
                        line=line_of(inputs_raw, name),
                        node=node.id,
                        field=f"inputs.{name}",
                    )
                except Exception as exc:
                    self.problem(
                        _plugin_bug(node.type, f"input {name!r}", exc),
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
            self.problem(
                f"'outputs' must be a mapping of names to references, found {_kind(raw)}",
                line=line_of(data, "outputs"),
                field="outputs",
            )
            return {}
        return {str(k): self._input_value(v, raw, k, None) for k, v in raw.items()}

    # ---------------------------------------------------------- references

    def _check_references(
        self, nodes: dict[str, WorkflowNode], run_inputs: dict[str, RunInput]
    ) -> None:
        for node in nodes.values():
            raw = getattr(node, "_raw", {})
            inputs_raw = _mapping_or_empty(raw.get("inputs"))
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
        """Topological order; reports a cycle with its path."""
        order, cycle = topological_order({n: nodes[n].depends_on & nodes.keys() for n in nodes})
        if len(order) < len(nodes):
            first = cycle[0] if cycle else next(n for n in nodes if n not in order)
            self.problem(
                "cycle in the workflow: " + describe_cycle(cycle or [first]),
                line=nodes[first].line,
                node=first,
                field="inputs",
            )
        return order


def _plugin_bug(type_name: str, what: str, exc: Exception) -> str:
    """A node type's own validation raised something pydantic does not turn into an error."""
    return (
        f"checking the {what} of {type_name} raised {type(exc).__name__}: {short(str(exc))} "
        "(a bug in the plugin that provides it)"
    )


def _mapping_or_empty(value: Any) -> Any:
    """An absent (or ``null``) section reads as an empty mapping; anything else is kept to be
    checked, so ``config: []`` or ``inputs: 0`` is an error instead of silently empty."""
    return {} if value is None else value


def _kind(value: Any) -> str:
    """What a wrong value is, in YAML's words."""
    if value is None:
        return "nothing (null or an empty document)"
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return {int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _unwrap(value: Any) -> Any:
    """Flatten nested ``InputStruct`` wrappers into one plain structure with InputRef leaves."""
    if isinstance(value, InputStruct):
        return _unwrap(value.value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value
