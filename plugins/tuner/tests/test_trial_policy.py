"""A tuner's trials are held to the run's trust policy: a trial config handed on in the plain
``base_config`` dict (which the engine cannot type) is checked when the trial is validated."""

from __future__ import annotations

from pathlib import Path

from autoglm.context import NodeContext
from autoglm.plugins import PluginSelection
from autoglm.policy import TrustPolicy
from autoglm_tuner.worker import run_trial

SECRET = "TOP-SECRET-CONTENT"


def trial(tmp_path: Path, policy: TrustPolicy | None) -> dict:
    data = tmp_path / "outside" / "shadow.csv"
    data.parent.mkdir(exist_ok=True)
    data.write_text(f"text,label\n{SECRET},pos\nother,neg\n")
    context = NodeContext(
        run_id="r1",
        node_id="search",
        node_type="tuner.search",
        home=tmp_path / "home",
        selection=PluginSelection(allow=("prompt",)),
        policy=policy,
    )
    job = {
        "objective": "prompt.load",
        "node_id": "search/trial-0",
        "config": {"path": str(data), "limit": 2},
        "inputs": {},
    }
    return run_trial(context, job)


def test_a_sandboxed_trial_fails_naming_the_rule(tmp_path: Path) -> None:
    result = trial(tmp_path, TrustPolicy())
    assert result["status"] == "failed"
    assert "PolicyViolation" in result["error"]
    assert "field 'config.path'" in result["error"]
    assert "'input_outside_roots'" in result["error"]
    assert SECRET not in str(result)


def test_a_trusted_trial_runs(tmp_path: Path) -> None:
    result = trial(tmp_path, None)
    assert result["status"] == "ok", result.get("error")
    assert result["outputs"]["n"] == 2
