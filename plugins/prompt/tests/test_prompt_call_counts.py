"""Model calls and on-disk cache hits are counted apart (issue 19).

The encoder keeps embeddings in an on-disk cache under the autoglm home; a second run over the
same texts computes nothing, yet used to report the same number of "model calls" as the first.
``prompt.baseline`` reported no call count at all.
"""

from __future__ import annotations

from autoglm.testing import run_node
from autoglm_prompt.data import load_examples, write_jsonl
from autoglm_prompt.nodes import BaselineNode, EvaluateNode

PROMPT = {"verbalizers": {"0": "a negative review", "1": "a positive review"}}


def test_cache_hits_are_not_model_calls(tmp_path):
    rows = load_examples("sst2/dev.tsv", limit=30)
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    home = tmp_path / "home"
    first = run_node(EvaluateNode, {"prompt": PROMPT}, {"data": data}, home=home)
    assert (first.calls, first.cache_hits) == (32, 0)  # 30 texts + 2 label descriptions
    again = run_node(EvaluateNode, {"prompt": PROMPT}, {"data": data}, home=home)
    assert (again.calls, again.cache_hits) == (0, 32)
    assert again.y_pred == first.y_pred


def test_baseline_reports_its_calls(tmp_path):
    rows = load_examples("sst2/dev.tsv", limit=20)
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    other = {"verbalizers": {"0": "bad", "1": "good"}}
    home = tmp_path / "home"
    out = run_node(BaselineNode, {"prompts": [PROMPT, other]}, {"data": data}, home=home)
    # The texts are embedded once for both prompts, plus two descriptions per prompt.
    assert (out.calls, out.cache_hits) == (24, 0)
    again = run_node(BaselineNode, {"prompts": [PROMPT, other]}, {"data": data}, home=home)
    assert (again.calls, again.cache_hits) == (0, 24)
