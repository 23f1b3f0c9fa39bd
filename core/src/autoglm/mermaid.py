"""Mermaid diagrams of workflows, made offline from the validated workflow."""

from __future__ import annotations

from autoglm.workflow import RUN_INPUTS, Workflow, input_refs


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def workflow_to_mermaid(workflow: Workflow) -> str:
    """A ``flowchart TD``: run inputs, nodes (id and type), data edges labelled with the input
    they feed, dotted edges for ``when`` conditions, and the workflow's outputs."""
    lines = ["flowchart TD"]
    if workflow.inputs:
        lines.append(f'    {RUN_INPUTS}(["run inputs: {_label(", ".join(workflow.inputs))}"])')
    for node in workflow.nodes.values():
        shape = ("{{", "}}") if node.when is not None else ("[", "]")
        lines.append(f'    {node.id}{shape[0]}"{node.id}<br/><i>{node.type}</i>"{shape[1]}')
    for node in workflow.nodes.values():
        for name, value in node.inputs.items():
            for input_ref in input_refs(value):
                arrow = "-.->" if input_ref.first_of else "-->"
                for ref in input_ref.sources:
                    lines.append(f'    {ref.root} {arrow}|"{_label(name)}"| {node.id}')
        if node.when is not None:
            for root in sorted({ref.root for ref in node.when.references}):
                lines.append(f'    {root} -.->|"when {_label(node.when.source)}"| {node.id}')
    if workflow.outputs:
        lines.append('    outputs(["outputs"])')
        for name, value in workflow.outputs.items():
            for input_ref in input_refs(value):
                for ref in input_ref.sources:
                    lines.append(f'    {ref.root} -->|"{_label(name)}"| outputs')
    return "\n".join(lines) + "\n"
