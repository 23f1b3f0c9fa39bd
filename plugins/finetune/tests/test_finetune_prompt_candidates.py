"""Prompts and the tuned probe as adapt candidates: the same splits and record as the probes,
with model calls and cache hits counted apart (issue 19). A tiny random BERT saved on the spot
stands in for the encoder: these tests check what is scored where and what it cost."""

from __future__ import annotations

import json
from pathlib import Path

from autoglm.testing import run_node
from autoglm_finetune.nodes import ProbeNode
from autoglm_finetune.prompt_candidates import PromptNode, RefitNode
from autoglm_prompt.api import PromptCandidate, load_examples


def test_plugin_registers_the_candidate_nodes(autoglm_host):
    host = autoglm_host(["finetune"])
    for name in ("finetune.prompt", "finetune.refit"):
        assert host.get_node_type(name).name == name


def test_zero_shot_prompt_is_scored_on_the_probes_validation_split(hwu4, tiny_encoder, tmp_path):
    data = {"train": hwu4["train"], "test": hwu4["test"]}
    home = tmp_path / "home"
    probe = run_node(ProbeNode, {"encoder": tiny_encoder, "head": "centroid"}, data, home=home)
    out = run_node(PromptNode, {"encoder": tiny_encoder}, data, home=home)
    # The same train/validation split and test rows as the probe: pairable by select.
    assert (out.n_train, out.n_validation) == (probe.n_train, probe.n_validation) == (144, 16)
    assert out.test_gold == probe.test_gold and len(out.test_predictions) == len(out.test_gold)
    assert 0 <= out.val_accuracy <= 1 and out.test_accuracy is not None
    # One prompt: nothing to choose, so no search and no train text embedded. The probe
    # embedded validation and test first: those are cache hits; the 4 label names are calls
    # (a name that is also a request the probe embedded is a hit too).
    assert out.search == {"searched": False}
    assert 1 <= out.model_calls <= 4
    assert out.model_calls + out.cache_hits == 4 + 16 + len(set(_test_texts(hwu4)))
    prompt = PromptCandidate.model_validate_json(Path(out.checkpoint).read_text())
    assert prompt.verbalizers["alarm_set"] == "alarm set" and not prompt.examples


def _test_texts(hwu4: dict[str, str]) -> list[str]:
    return [r["text"] for r in load_examples(hwu4["test"])]


def test_optimised_prompt_searches_train_only_with_its_budget(hwu4, tiny_encoder, tmp_path):
    config = {
        "encoder": tiny_encoder,
        "descriptions": ["{name}", "a request to {name}"],
        "shots": [0, 4, 10000],
        "example_weights": [0.5, 1.0],
        "calibrations": ["none", "batch"],
        "candidates": 4,
    }
    data = {"train": hwu4["train"], "test": hwu4["test"]}
    out = run_node(PromptNode, config, data, home=tmp_path / "home")
    search = out.search
    assert search["searched"] and search["candidates_scored"] == 1 + 4
    assert {"centroid", "probe"} <= set(search["baselines"])
    # Every text the search embedded came from the 144 train rows (pool and dev), plus 8
    # descriptions; validation and test were embedded once, after it (the chosen prompt's
    # examples and descriptions again: from the on-disk cache, hits, not calls).
    assert search["calls"] + search["cache_hits"] <= 144 + 8
    assert out.model_calls == search["calls"] + 16 + len(set(_test_texts(hwu4)))
    again = run_node(PromptNode, config, data, home=tmp_path / "home")
    assert again.model_calls == 0 and again.cache_hits > 16 + len(set(_test_texts(hwu4)))
    assert again.val_accuracy == out.val_accuracy
    history = json.loads(Path(out.checkpoint).read_text())
    assert set(history["verbalizers"]) == set(out.labels)


def test_refit_trains_the_probe_config_it_is_given(hwu4, tiny_encoder, tmp_path):
    data = {"train": hwu4["train"], "test": hwu4["test"]}
    best = {"encoder": tiny_encoder, "head": "logistic", "C": 3.0}
    home = tmp_path / "home"
    refit = run_node(RefitNode, {}, {**data, "config": best}, home=home)
    direct = run_node(ProbeNode, best, data, home=home)
    assert refit.val_accuracy == direct.val_accuracy
    assert refit.test_predictions == direct.test_predictions


def test_descriptions_are_written_against_label_names():
    from autoglm_finetune.prompt_candidates import PromptConfig

    config = PromptConfig(descriptions=["{name}", "a {name} review"], names={"0": "negative"})
    space = config.space(["0", "1", "play_music"])
    assert space.verbalizers["0"] == ["negative", "a negative review"]
    assert space.verbalizers["play_music"] == ["play music", "a play music review"]


def test_the_chosen_prompt_draws_its_examples_from_the_whole_train_split(
    hwu4, tiny_encoder, tmp_path
):
    """The search's pool is half of train; the prompt it chose at "all pool examples" is
    refitted with every train row as an example (the centroids of the whole split)."""
    config = {"encoder": tiny_encoder, "shots": [10000], "candidates": 0}
    data = {"train": hwu4["train"], "test": hwu4["test"]}
    kept = run_node(PromptNode, {**config, "refit": False}, data, home=tmp_path / "a")
    refit = run_node(PromptNode, config, data, home=tmp_path / "b")

    def examples(out) -> int:
        return len(PromptCandidate.model_validate_json(Path(out.checkpoint).read_text()).examples)

    assert examples(kept) == kept.search["plan"]["pool"] < 144
    assert refit.search["refitted"] and examples(refit) == refit.n_train == 144
