"""multimodal.fuse and the shipped workflow: configs/multimodal-digits.yaml on a slice of
FSDD (2 recordings per digit and speaker), and tuner.search tuning fuse through its space."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autoglm import Engine, RunStore, parse_workflow

WORKFLOW = Path(__file__).resolve().parents[3] / "configs" / "multimodal-digits.yaml"


def _slice_workflow(per_speaker_digit: int, preprocessing_only: bool = False) -> str:
    """The shipped workflow with the pairing cut to a slice of FSDD (everything else as is);
    ``preprocessing_only`` stops at the dataset."""
    data = yaml.safe_load(WORKFLOW.read_text())
    for node in data["nodes"]:
        if node["id"] == "pair":
            node["config"]["per_speaker_digit"] = per_speaker_digit
    if preprocessing_only:
        data["nodes"] = [n for n in data["nodes"] if n["type"] != "multimodal.fuse"]
        data["outputs"] = {"dataset": "$dataset.dataset"}
    return yaml.safe_dump(data)


@pytest.mark.slow
def test_shipped_workflow_on_a_slice(autoglm_host, autoglm_home, fsdd_recordings):
    host = autoglm_host(["multimodal"])
    workflow = parse_workflow(_slice_workflow(2), host, path=str(WORKFLOW))
    result = Engine(host, RunStore(autoglm_home / "runs.sqlite")).run(workflow)
    assert result.status == "succeeded", result.error
    out = result.outputs
    assert out["split"] == {"train": 80, "val": 20, "test": 20}
    assert out["audio_problems"] == [] and out["image_problems"] == []
    # 20 test items: image-only is easy; all three are real accuracies on theo.
    for key in ("audio_test_acc", "image_test_acc", "fused_test_acc"):
        assert 0.0 <= out[key] <= 1.0
    assert out["image_test_acc"] >= 0.6 and out["fused_test_acc"] >= 0.6
    assert set(out["fused_weights"]) == {"audio", "image"}


@pytest.mark.slow
def test_the_shipped_workflow_repeats_exactly(autoglm_host, tmp_path, monkeypatch, fsdd_recordings):
    """Its three fuse nodes train side by side, each seeding torch's one global generator: they
    take turns (``exclusive``), so two runs give the same accuracies (they gave 0.5 to 0.8)."""
    scores = []
    for attempt in range(2):
        home = tmp_path / f"home{attempt}"
        home.mkdir()
        monkeypatch.setenv("AUTOGLM_HOME", str(home))
        host = autoglm_host(["multimodal"])
        workflow = parse_workflow(_slice_workflow(2), host, path=str(WORKFLOW))
        result = Engine(host, RunStore(home / "runs.sqlite")).run(workflow)
        assert result.status == "succeeded", result.error
        scores.append({k: v for k, v in result.outputs.items() if k.endswith("_test_acc")})
    assert scores[0] == scores[1]


@pytest.mark.slow
def test_tuner_searches_the_declared_fuse_space(tmp_path, fsdd_manifest):
    """tuner.search reads fuse's space from its config markers, with no code of ours."""
    from autoglm.plugins import PluginSelection
    from autoglm.testing import make_context, run_node
    from autoglm_multimodal.nodes.audio import AudioNode
    from autoglm_multimodal.nodes.dataset import DatasetNode
    from autoglm_tuner.node import SearchNode

    home = tmp_path / "home"
    audio = run_node(
        AudioNode,
        {"sample_rate": 8000, "n_fft": 256, "hop_length": 80, "frames": 8},
        {"items": str(fsdd_manifest)},
        home=home,
    )
    inputs = {"items": str(fsdd_manifest), "features": {"audio": audio.folder}}
    dataset = run_node(DatasetNode, {}, inputs, home=home).dataset
    selection = PluginSelection(allow=("tuner", "multimodal"))
    context = make_context(home, node_id="search", selection=selection)
    out = run_node(
        SearchNode,
        {
            "objective": "multimodal.fuse",
            "base_config": {"max_epochs": 5, "patience": 5},
            "space": {
                "fusion": {"choice": ["early", "late"]},
                "hidden": {"choice": [32, 64], "ordered": True},
            },
            "space_only": True,
            "optimizer": "random",
            "budget": 2,
            "workers": 1,
            "seed": 0,
        },
        {"objective_inputs": {"dataset": dataset}},
        home=home,
        context=context,
    )
    assert out.trials == 2 and out.failed_trials == 0
    assert out.best_config["fusion"] in {"early", "late"} and 0 <= out.best_score <= 1
