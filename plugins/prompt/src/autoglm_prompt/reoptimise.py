"""Re-optimisation from accumulated feedback, behind a champion/challenger gate.

1. Count feedback newer than this task's watermark; below ``threshold`` nothing runs (the
   skip is still recorded).
2. Turn *all* feedback so far into labels with the weak-supervision rules (label model or
   majority vote; both are reported).
3. Split the labelled items: the optimiser gets one part, the gate judges on the other.
4. Optimise, starting from the current champion (scored as a seed candidate).
5. Champion and challenger predict the gate's part; the challenger is promoted only when it is
   significantly better (``autoglm_eval.gate``). The decision and its evidence, the champion,
   the moved watermark and the champion file are committed together, in one transaction of
   the feedback store: a crash before the commit leaves the watermark where it was, so the
   rerun sees the same feedback and redoes the step; none is skipped unseen.

The node's cache key includes the store's fingerprint (feedback rows, this task's champion
and watermark), so new feedback makes a rerun compute instead of returning the old outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from autoglm import NodeContext
from autoglm.policy import OutputPath
from autoglm_prompt.config import SearchConfig


class ReoptimiseConfig(SearchConfig):
    store: OutputPath | None = Field(
        None, description="Feedback database (read and written); default <home>/feedback.sqlite"
    )
    task: str = Field("default", description="Champion slot in the store")
    threshold: int = Field(50, ge=1, description="New feedback rows needed to re-optimise")
    rules: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"kind": "feedback"}, {"kind": "confirm"}],
        description="Weak-supervision labelling rules (see docs/eval.md)",
    )
    label_method: Literal["label_model", "majority"] = "label_model"
    text_field: str = "text"
    gate_fraction: float = Field(0.4, gt=0, lt=1, description="Share of labels kept for the gate")
    test: Literal["bootstrap", "mcnemar"] = "bootstrap"
    alpha: float = Field(0.05, gt=0, lt=1)
    min_absolute_change: float = Field(0.0, ge=0)


def watermark_key(task: str) -> str:
    return f"reoptimise:{task}:watermark"


def state_fingerprint(cfg: ReoptimiseConfig, champion_file: str | None, context: Any) -> str:
    """What the step reads besides its config: the feedback rows, this task's champion and
    watermark in the store, and the champion file it falls back on."""
    from autoglm.fingerprints import digest, files_fingerprint
    from autoglm_eval.api import store_fingerprint, store_path

    store = store_fingerprint(
        store_path(cfg.store, context), f"champion:{cfg.task}", watermark_key(cfg.task)
    )
    return digest(store, files_fingerprint([champion_file]) if champion_file else None)


def reoptimise(
    cfg: ReoptimiseConfig, context: NodeContext, initial_champion: Any = None
) -> dict[str, Any]:
    """Run steps 1-5; returns a JSON-ready summary (see ``ReoptimiseOutputs``)."""
    from autoglm_eval.api import (
        FeedbackStore,
        GatePolicy,
        champion_challenger,
        items_from_store,
        rule_from_dict,
        store_path,
        weak_labels,
    )
    from autoglm_prompt.budget import CallBudget
    from autoglm_prompt.candidate import PromptCandidate
    from autoglm_prompt.data import split_examples
    from autoglm_prompt.runner import build_scorer, optimise

    rules = [rule_from_dict(spec, i) for i, spec in enumerate(cfg.rules)]
    with FeedbackStore(store_path(cfg.store, context)) as store:
        watermark = int(store.get_state(watermark_key(cfg.task), 0))
        latest = store.last_feedback_id()
        new = store.count_feedback(after_id=watermark)
        out: dict[str, Any] = {"triggered": False, "promoted": False, "new_feedback": new}
        if new < cfg.threshold:
            out["reason"] = f"{new} new feedback rows < threshold {cfg.threshold}"
            out["decision_id"] = store.record_decision(
                "skip", {**out, "task": cfg.task, "run_id": context.run_id}
            )
            return out
        items = items_from_store(store, text_field=cfg.text_field)
        labels = weak_labels(items, rules, cfg.space.labels)
        rows = [
            {"text": item.text, "label": label}
            for item, label in zip(items, labels.chosen(cfg.label_method), strict=True)
            if label is not None
        ]
        parts = split_examples(
            rows, {"train": 1 - cfg.gate_fraction, "gate": cfg.gate_fraction}, seed=cfg.seed
        )
        stored = store.get_champion(cfg.task) or initial_champion
        champion = PromptCandidate.model_validate(stored) if stored else None
        path = Path(context.artifacts_dir) / "champion.json"
        result, plan = optimise(
            cfg, parts["train"], None, context, seed_candidates=[champion] if champion else []
        )
        scorer = build_scorer(cfg, context, CallBudget())
        gate_texts = [r["text"] for r in parts["gate"]]
        champion_pred = scorer.predict(champion, gate_texts)[0] if champion else None
        challenger_pred = scorer.predict(result.best, gate_texts)[0]
        with store.transaction():  # outcome, champion, watermark and file: all or nothing
            decision = champion_challenger(
                store,
                [r["label"] for r in parts["gate"]],
                champion_pred,
                challenger_pred,
                challenger=result.best.model_dump(),
                policy=GatePolicy(
                    test=cfg.test,
                    alpha=cfg.alpha,
                    min_absolute_change=cfg.min_absolute_change,
                    seed=cfg.seed,
                ),
                task=cfg.task,
                context={
                    "run_id": context.run_id,
                    "new_feedback": new,
                    "weak_labels": labels.report,
                    "optimisation": {"plan": plan, "best_score": result.best_score},
                },
            )
            store.set_state(watermark_key(cfg.task), latest)
            # A refused challenger leaves the champion of the file when the store has none.
            current = store.get_champion(cfg.task) or initial_champion
            path.write_text(PromptCandidate.model_validate(current).model_dump_json(indent=2))
            context.journal_append(
                "prompt.reoptimise", {k: v for k, v in decision.items() if k != "test"}
            )
    return {
        **out,
        "triggered": True,
        "promoted": decision["promote"],
        "reason": decision["reason"],
        "decision_id": decision["decision_id"],
        "n_labelled": len(rows),
        "weak_labels": labels.report,
        "champion": str(path),
    }
