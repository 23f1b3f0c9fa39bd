"""The public API of ``autoglm-eval``: what other plugins may import.

``autoglm-prompt`` used to import this package's internals (``metrics``, ``feedback``,
``gate``, ``labeling``, ``nodes``); they are re-exported here and listed in ``__all__``, and
only these names are promised to stay. The weak-labelling functions need numpy, so importing
this module loads it; the plugin's node listing does not import this module.
"""

from __future__ import annotations

from autoglm_eval.feedback import FeedbackStore, UnknownPrediction, store_fingerprint
from autoglm_eval.gate import GatePolicy, champion_challenger, decide
from autoglm_eval.labeling import LabelModel, items_from_store, rule_from_dict, weak_labels
from autoglm_eval.metrics import classification_report, correctness
from autoglm_eval.nodes import store_path
from autoglm_eval.qa_metrics import exact_match, normalise_answer, qa_report, token_f1
from autoglm_eval.significance import mcnemar, paired_bootstrap

__all__ = [
    "FeedbackStore",
    "GatePolicy",
    "LabelModel",
    "UnknownPrediction",
    "champion_challenger",
    "classification_report",
    "correctness",
    "decide",
    "exact_match",
    "items_from_store",
    "mcnemar",
    "normalise_answer",
    "paired_bootstrap",
    "qa_report",
    "rule_from_dict",
    "store_fingerprint",
    "store_path",
    "token_f1",
    "weak_labels",
]
