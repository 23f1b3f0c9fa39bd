"""configs/adapt-intents.yaml end to end through the real engine, on a small HWU64 slice."""

from __future__ import annotations

import pytest

from autoglm.engine import Engine
from autoglm.store import RunStore
from autoglm.workflow import load_workflow

REPO_CONFIG = "configs/adapt-intents.yaml"


@pytest.mark.slow
def test_adapt_workflow_selects_on_validation_and_reports_every_candidate(
    autoglm_host, autoglm_home, hwu4, request
):
    root = request.config.rootpath
    host = autoglm_host(["finetune", "tuner", "hf", "prompt", "eval"])
    workflow = load_workflow(root / REPO_CONFIG, host)
    engine = Engine(host, RunStore(autoglm_home / "runs.sqlite"), workers=2)
    result = engine.run(workflow, {"train": hwu4["train"], "test": hwu4["test"]})
    assert result.status == "succeeded", result.error
    out = result.outputs
    rows = {r["name"]: r for r in out["candidates"]}
    assert set(rows) == {
        "zero_shot",
        "prompt_search",
        "centroid",
        "probe",
        "tuned_probe",
        "finetune",
    }
    best_val = max(r["val_accuracy"] for r in rows.values())
    assert rows[out["chosen"]]["val_accuracy"] == best_val
    assert out["baseline"] in {"centroid", "probe"}
    for name, row in rows.items():
        assert row["cpu_seconds"] > 0 and 0 <= row["test_accuracy"] <= 1
        if name != out["baseline"]:
            assert 0 <= row["mcnemar_p"] <= 1
    assert out["tuned_probe"]["C"] > 0 and out["tuned_probe_val"] > 0.5
    # The tuned probe refitted on the same split validates as its best trial did.
    assert rows["tuned_probe"]["val_accuracy"] == out["tuned_probe_val"]
    # The prompt candidates count their encoder work: calls and cache hits apart.
    for name in ("zero_shot", "prompt_search"):
        assert rows[name]["model_calls"] + rows[name]["cache_hits"] > 0
    search = out["prompt_search"]
    assert search["searched"] and search["candidates_scored"] <= 1 + 8
    assert {"centroid", "probe"} <= set(search["baselines"])
