"""Champion and challenger: a new variant replaces the serving one only when it wins clearly.

In the manner of MLflow's ``MetricThreshold`` validation, a challenger must beat the champion
by at least ``min_absolute_change`` (and ``min_relative_change``) of accuracy on the same
held-out examples, *and* the paired test must call the difference significant at ``alpha``.
A lucky draw on a small feedback set therefore never replaces a good prompt. Every decision,
promoted or refused, is written to the feedback store with its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from autoglm_eval.feedback import FeedbackStore
from autoglm_eval.metrics import check_same_length, correctness
from autoglm_eval.significance import mcnemar, paired_bootstrap


@dataclass(frozen=True)
class GatePolicy:
    """When a challenger may replace the champion."""

    test: Literal["bootstrap", "mcnemar"] = "bootstrap"
    alpha: float = 0.05
    min_absolute_change: float = 0.0
    min_relative_change: float = 0.0
    n_resamples: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.test not in ("bootstrap", "mcnemar"):
            raise ValueError(f"test: expected 'bootstrap' or 'mcnemar', got {self.test!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha: expected a value in (0, 1), got {self.alpha}")


def decide(
    y_true: Sequence[Any],
    champion_pred: Sequence[Any] | None,
    challenger_pred: Sequence[Any],
    policy: GatePolicy = GatePolicy(),
) -> dict[str, Any]:
    """The decision and its evidence (JSON-ready). With no champion the challenger wins."""
    challenger_ok = correctness(y_true, challenger_pred)
    evidence: dict[str, Any] = {
        "n": len(challenger_ok),
        "policy": asdict(policy),
        "challenger_accuracy": sum(challenger_ok) / len(challenger_ok),
    }
    if champion_pred is None:
        return {**evidence, "promote": True, "reason": "no champion yet"}
    check_same_length(y_true, ("champion predictions", champion_pred))
    champion_ok = correctness(y_true, champion_pred)
    base = sum(champion_ok) / len(champion_ok)
    delta = evidence["challenger_accuracy"] - base
    relative = delta / base if base > 0 else float("inf") if delta > 0 else 0.0
    if policy.test == "bootstrap":
        test = paired_bootstrap(
            champion_ok,
            challenger_ok,
            n_resamples=policy.n_resamples,
            confidence=1.0 - 2.0 * policy.alpha,  # two-sided interval, one-sided test at alpha
            seed=policy.seed,
        )
        significant = test["p_value"] < policy.alpha and test["ci_low"] > 0.0
    else:
        test = mcnemar(champion_ok, challenger_ok)
        significant = test["p_value"] < policy.alpha and test["only_b"] > test["only_a"]
    evidence.update(champion_accuracy=base, delta=delta, relative_change=relative, test=test)
    reasons = []
    if delta <= 0:
        reasons.append(f"challenger is not better (delta {delta:+.4f})")
    if delta < policy.min_absolute_change:
        reasons.append(f"delta {delta:+.4f} < min_absolute_change {policy.min_absolute_change}")
    if relative < policy.min_relative_change:
        reasons.append(
            f"relative change {relative:+.4f} < min_relative_change {policy.min_relative_change}"
        )
    if not significant:
        reasons.append(f"not significant at alpha={policy.alpha} (p={test['p_value']:.4g})")
    promote = not reasons
    reason = "significantly better" if promote else "; ".join(reasons)
    return {**evidence, "promote": promote, "reason": reason}


def champion_challenger(
    store: FeedbackStore,
    y_true: Sequence[Any],
    champion_pred: Sequence[Any] | None,
    challenger_pred: Sequence[Any],
    *,
    challenger: Any,
    policy: GatePolicy = GatePolicy(),
    task: str = "default",
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Decide, record the decision in ``store`` and install the challenger if it won.

    ``challenger`` is the variant itself (a prompt as a dict, a model path): it becomes the
    store's champion for ``task`` on promotion. Returns the decision with its id.
    """
    decision = decide(y_true, champion_pred, challenger_pred, policy)
    payload = {**decision, "task": task, "challenger": challenger, **(context or {})}
    payload["champion_before"] = store.get_champion(task)
    if decision["promote"]:
        store.set_champion(challenger, task)
    decision_id = store.record_decision("promotion" if decision["promote"] else "refusal", payload)
    return {**decision, "decision_id": decision_id}
