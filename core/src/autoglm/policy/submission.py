"""Check a whole workflow against a policy before its run is queued.

At submission the config of every node is known, and so are the inputs that are literals, run
inputs (``$inputs.x``) or workflow facts (``$workflow.dir``). Those are checked now, so a
submitter gets a clear refusal at once instead of a queued run that fails later; inputs that
come from other nodes are checked by the engine right before the node runs.

Kept out of ``autoglm.policy``'s eager imports: it needs the workflow model and the engine's
reference lookup, which a plugin declaring fields never does.
"""

from __future__ import annotations

from typing import Any

from autoglm.engine import _dig
from autoglm.policy.check import Places, Violation, executor_violation, violation_of
from autoglm.policy.model import TrustPolicy
from autoglm.policy.walk import has_marks, marked_in_data
from autoglm.workflow import RUN_INPUTS, WORKFLOW_REF, InputRef, InputStruct, Workflow

_UNKNOWN = object()


def check_workflow(
    workflow: Workflow,
    host: Any,
    run_inputs: dict[str, Any],
    policy: TrustPolicy,
    places: Places,
) -> list[Violation]:
    """The violations of ``policy`` by what ``workflow`` fixes before it runs: every node's
    config, and its inputs that are literals, run inputs or ``$workflow`` facts."""
    if policy.is_unrestricted:
        return []
    facts: dict[str, Any] = {}
    found: list[Violation] = []
    executor = executor_violation(workflow.executor, policy)
    if executor is not None:
        found.append(executor)
    for node_id in workflow.order:
        node = workflow.nodes[node_id]
        node_type = host.get_node_type(node.type)
        if not (has_marks(node_type.Config) or has_marks(node_type.Inputs)):
            continue  # most nodes touch nothing outside: no validation, no walk
        marked = list(marked_in_data(node_type.Config, dict(node.config), "config."))
        known = {}
        for name, value in node.inputs.items():
            if not facts and _uses_workflow_facts(value):
                facts = workflow.reference_values()
            resolved = _static(value, run_inputs, facts)
            if resolved is not _UNKNOWN:
                known[name] = resolved
        marked.extend(marked_in_data(node_type.Inputs, known, "inputs."))
        for item in marked:
            violation = violation_of(node_id, item, policy, places)
            if violation is not None:
                found.append(violation)
    return found


def _uses_workflow_facts(value: Any) -> bool:
    if isinstance(value, InputRef):
        return any(ref.root == WORKFLOW_REF for ref in value.sources)
    if isinstance(value, InputStruct):
        return _uses_workflow_facts(value.value)
    if isinstance(value, dict):
        return any(_uses_workflow_facts(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_workflow_facts(v) for v in value)
    return False


def _static(value: Any, run_inputs: dict[str, Any], facts: dict[str, Any]) -> Any:
    """The value an input will have, when it does not depend on another node's outputs."""
    if isinstance(value, InputRef):
        for ref in value.sources:
            if ref.root == RUN_INPUTS:
                return _dig(run_inputs, ref.path)
            if ref.root == WORKFLOW_REF:
                return _dig(facts, ref.path)
            return _UNKNOWN  # the first source that ran: known only at run time
        return _UNKNOWN
    if isinstance(value, InputStruct):
        return _static(value.value, run_inputs, facts)
    if isinstance(value, dict):
        items = {k: _static(v, run_inputs, facts) for k, v in value.items()}
        return _UNKNOWN if any(v is _UNKNOWN for v in items.values()) else items
    if isinstance(value, list):
        values = [_static(v, run_inputs, facts) for v in value]
        return _UNKNOWN if any(v is _UNKNOWN for v in values) else values
    return value
