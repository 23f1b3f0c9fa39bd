"""Workflows as graphs for the UI: nodes (with their plugin), edges from references, ``when``
conditions on their edges; and the validator's located problems.

Why the graph is read from the YAML data and not from the validated ``Workflow``: the editor
must draw a workflow *while it is wrong* (a dangling reference, a bad config) so it can show
the problem on the node. The problems themselves come from ``parse_workflow``, the very
validator behind ``autoglm validate``, so the page and the CLI never disagree.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from autoglm.errors import WorkflowError
from autoglm.mermaid import workflow_to_mermaid
from autoglm.plugins import Host
from autoglm.service.catalogue import INLINE, check_inline_yaml, problems_of
from autoglm.service.schemas import Problem
from autoglm.workflow import parse_workflow

_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z0-9_.-]+))?")
#: a name in a ``when`` condition (conditions name nodes without ``$``)
_NAME = re.compile(r"(?<![\w.'\"])([A-Za-z_][A-Za-z0-9_-]*)")
INPUTS_NODE, OUTPUTS_NODE = "inputs", "outputs"


def _refs(value: Any) -> list[tuple[str, str]]:
    """``(root, rest)`` of every ``$root.rest`` reference in a value, nested or not."""
    if isinstance(value, str):
        return [(m.group(1), m.group(2) or "") for m in _REF.finditer(value)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def graph_of(data: Any, host: Host | None) -> dict[str, Any]:
    """Nodes and edges of workflow data (``yaml.safe_load`` of its text), drawn as far as it
    goes: unknown types, dangling references and odd shapes are drawn, not refused."""
    data = data if isinstance(data, dict) else {}
    owner = host.node_owner if host is not None else {}
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    raw_nodes = data.get("nodes") if isinstance(data.get("nodes"), list) else []
    ids = {str(n.get("id")) for n in raw_nodes if isinstance(n, dict) and n.get("id")}
    if isinstance(data.get("inputs"), dict) and data["inputs"]:
        nodes.append({"id": INPUTS_NODE, "kind": "inputs", "label": "run inputs"})
    for raw in raw_nodes:
        if not isinstance(raw, dict) or not raw.get("id"):
            continue
        node_id, node_type = str(raw["id"]), str(raw.get("type", ""))
        when = raw.get("when")
        nodes.append(
            {
                "id": node_id,
                "kind": "node",
                "type": node_type,
                "plugin": owner.get(node_type, node_type.partition(".")[0] or "?"),
                "when": None if when is None else str(when),
                "config": raw.get("config") if isinstance(raw.get("config"), dict) else {},
                "inputs": raw.get("inputs") if isinstance(raw.get("inputs"), dict) else {},
            }
        )
        inputs = raw.get("inputs") if isinstance(raw.get("inputs"), dict) else {}
        for port, value in inputs.items():
            for root, rest in _refs(value):
                source = INPUTS_NODE if root == INPUTS_NODE else root
                if source in ids or source == INPUTS_NODE:
                    edges.append(
                        {"source": source, "target": node_id, "port": str(port), "out": rest}
                    )
        if when is not None:
            names = {r for r, _ in _refs(str(when))} | set(_NAME.findall(str(when)))
            for root in sorted(names):
                if root in ids or root == INPUTS_NODE:
                    edges.append(
                        {"source": root, "target": node_id, "when": str(when), "port": "when"}
                    )
    outputs = data.get("outputs") if isinstance(data.get("outputs"), dict) else {}
    if outputs:
        nodes.append({"id": OUTPUTS_NODE, "kind": "outputs", "label": "outputs"})
        for name, value in outputs.items():
            for root, rest in _refs(value):
                if root in ids or root == INPUTS_NODE:
                    edges.append(
                        {"source": root, "target": OUTPUTS_NODE, "port": str(name), "out": rest}
                    )
    return {"name": data.get("name"), "nodes": nodes, "edges": edges}


def check_yaml(text: str, host: Host, path: str = INLINE) -> dict[str, Any]:
    """The validator's verdict on YAML text, with its graph and (when valid) its Mermaid
    text: ``{valid, problems, graph, mermaid}``."""
    problems: list[Problem] = []
    mermaid = None
    try:
        check_inline_yaml(text)
        data = yaml.safe_load(text)
    except WorkflowError as exc:
        return {"valid": False, "problems": problems_of(exc), "graph": graph_of({}, host)}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = Problem(message=f"not valid YAML: {exc}", file=path, line=line)
        return {"valid": False, "problems": [problem], "graph": graph_of({}, host)}
    try:
        workflow = parse_workflow(text, host, path=path)
        mermaid = workflow_to_mermaid(workflow)
    except WorkflowError as exc:
        problems = problems_of(exc)
    return {
        "valid": not problems,
        "problems": problems,
        "graph": graph_of(data, host),
        "mermaid": mermaid,
        "data": data if isinstance(data, dict) else None,
    }
