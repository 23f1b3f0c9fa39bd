"""The trust policy at submission: which policy a key's runs get, and the 422 of a refusal.

Non-admin keys get the service's ``policy`` setting (restricted by default: nothing beyond the
run's artefacts, no URLs, no secrets, no code loading, no unpickling, no hub downloads); admin
keys get the unrestricted policy, as the operator's own command line does. The policy is
stored with the run, so the process that executes it (a supervised child, a service restarted
after a crash) enforces the same rules node by node; the check here only refuses early what is
known before the run starts.
"""

from __future__ import annotations

from typing import Any

from autoglm.plugins import Host
from autoglm.policy import RULES, Places, TrustPolicy, Violation
from autoglm.policy.submission import check_workflow
from autoglm.service.errors import ApiError
from autoglm.service.keys import ApiKey
from autoglm.service.schemas import Problem
from autoglm.workflow import Workflow

#: The ``type`` of the error answer of a refused submission (the SDK maps it).
KIND = "policy_violation"


def policy_for(settings: Any, key: ApiKey) -> TrustPolicy | None:
    """The policy of runs submitted with ``key``: None (unrestricted) for admin keys."""
    if key.allows("admin"):
        return None
    return settings.policy


def refuse_private_plugins(plugins: list[str] | None, policy: TrustPolicy | None) -> None:
    """Plugin folders and module specs in a request: refused unless the policy allows them.
    Requests name installed plugins only; a path or ``module:attr`` would load code of its own."""
    if policy is None or policy.allow_private_plugins or not plugins:
        return
    for name in plugins:
        if any(mark in name for mark in ("/", "\\", ":")) or name.startswith((".", "~")):
            message = (
                f"plugins: {name!r} is a plugin folder or module, not an installed plugin's "
                f"name: refused by trust policy rule 'private_plugins_refused': a run "
                f"{RULES['private_plugins_refused']}"
            )
            raise ApiError(422, message, kind=KIND, problems=[Problem(message=message)])


def check_submission(
    workflow: Workflow,
    host: Host,
    inputs: dict[str, Any],
    policy: TrustPolicy | None,
    home: Any,
) -> None:
    """Raise a 422 naming each node, field and rule that ``workflow`` with ``inputs`` breaks.

    ``inputs`` are the request's run inputs; ``Workflow.resolve_inputs`` fills the defaults
    (and raises ``WorkflowError`` for bad ones, which the caller already answers)."""
    if policy is None or policy.is_unrestricted:
        return
    values = workflow.resolve_inputs(inputs)
    violations = check_workflow(workflow, host, values, policy, Places.of(policy, home))
    if violations:
        raise refusal(violations)


def refusal(violations: list[Violation]) -> ApiError:
    """The 422 of a refused submission: the first violation in the message, all as problems."""
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return ApiError(
        422,
        f"refused by the trust policy: {violations[0].message}{more}",
        kind=KIND,
        problems=[Problem(message=v.message, node=v.node, field=v.field) for v in violations],
    )
