"""Listing plugins stays cheap: the entry point imports no torch, torchaudio, torchvision,
soundfile, scikit-learn, numpy or pandas; every node type is registered; fuse has a space."""

from __future__ import annotations

from core_helpers import assert_light_import

from autoglm.space import Choice, FloatRange, search_space

NODES = ["pair_digits", "split", "audio", "image", "text", "table", "align", "dataset", "fuse"]


def test_plugin_import_loads_nothing_heavy():
    assert_light_import(
        "autoglm_multimodal.plugin as p",
        (
            "torch",
            "torchaudio",
            "torchvision",
            "soundfile",
            "sklearn",
            "numpy",
            "pandas",
            "PIL",
            "transformers",
        ),
        then="assert len(p.NODE_TYPES) == 9",
    )


def test_host_lists_every_multimodal_node_type(autoglm_host):
    host = autoglm_host(["multimodal"])
    assert host.plugins["multimodal"].status == "loaded", host.plugins["multimodal"].error
    for name in (f"multimodal.{n}" for n in NODES):
        assert host.get_node_type(name).name == name


def test_fuse_declares_a_search_space_without_fidelity_or_plumbing():
    from autoglm_multimodal.nodes.fuse import FuseConfig

    space = search_space(FuseConfig)
    assert space["fusion"] == Choice(["early", "late"])
    assert space["hidden"] == Choice([32, 64, 128, 256], ordered=True)
    assert space["lr"] == FloatRange(1e-4, 1e-2, log=True)
    assert isinstance(space["dropout"], FloatRange)
    for not_searched in ("max_epochs", "patience", "seed", "threads", "modalities"):
        assert not_searched not in space
