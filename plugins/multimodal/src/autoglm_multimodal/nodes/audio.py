"""``multimodal.audio``: recordings named by a manifest to standardised MFCC/log-mel features."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeType
from autoglm_multimodal.nodes.common import (
    FeatureOutputs,
    ItemsInputs,
    ManifestFingerprint,
    PerItemConfig,
    extract_items,
    finish,
    train_ids,
)


class AudioConfig(PerItemConfig):
    field: str = Field("audio", description="manifest key of each item's recording")
    sample_rate: int = Field(
        16000, ge=1000, le=192_000, description="rate features are computed at (Hz)"
    )
    resample: bool = Field(
        True, description="resample other rates to sample_rate (false: they are bad items)"
    )
    channels: int | None = Field(
        1, ge=1, le=64, description="channel count a recording must have (null: any)"
    )
    downmix: bool = Field(False, description="average the channels of a recording that has more")
    trim_decibels: float | None = Field(
        40.0, gt=0, le=120, description="trim edges quieter than this below the peak (null: off)"
    )
    kind: Literal["mfcc", "logmel"] = Field("mfcc", description="MFCC or log-mel spectrogram")
    n_mfcc: int = Field(20, ge=1, le=128, description="MFCC coefficients")
    n_mels: int = Field(40, ge=1, le=256, description="mel bands")
    n_fft: int = Field(400, ge=16, le=8192, description="analysis window (samples)")
    hop_length: int = Field(160, ge=1, le=8192, description="hop between frames (samples)")
    utterance_norm: Literal["none", "mean", "meanvar"] = Field(
        "none",
        description="per-recording mean (and variance) normalisation of each coefficient, "
        "before the training statistics",
    )
    standardize: bool = Field(
        True, description="per-coefficient standardisation, fitted on training items only"
    )
    length: Literal["pad", "resize", "mean", "meanstd"] = Field(
        "resize",
        description="fixed length: pad/crop or resize to `frames`, or mean / mean+std pooling",
    )
    frames: int = Field(32, ge=1, le=10_000, description="frames for pad and resize")

    @model_validator(mode="after")
    def _coherent(self) -> AudioConfig:
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length ({self.hop_length}) exceeds n_fft ({self.n_fft})")
        return self

    def extract_params(self) -> dict:
        """The values that decide raw features: the content cache's config part."""
        return {
            "sample_rate": self.sample_rate,
            "resample": self.resample,
            "channels": self.channels,
            "downmix": self.downmix,
            "trim_decibels": self.trim_decibels,
            "features": self.kind,
            "n_mfcc": self.n_mfcc,
            "n_mels": self.n_mels,
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
        }


class AudioNode(ManifestFingerprint, NodeType):
    """Audio features: decode, resample, trim, MFCC/log-mel, standardise, fixed length."""

    name = "multimodal.audio"
    version = "1"
    description = "WAV/FLAC to standardised MFCC or log-mel features (fitted on train items)"
    Config = AudioConfig
    Inputs = ItemsInputs
    Outputs = FeatureOutputs

    def execute(self, inputs: ItemsInputs, context: NodeContext) -> FeatureOutputs:
        import numpy as np

        from autoglm_multimodal.audio import (
            extract_audio,
            fit_audio_stats,
            fixed_length,
            utterance_normalize,
            warm_up,
        )
        from autoglm_multimodal.stats import Standardizer

        cfg: AudioConfig = self.config
        items, _, problems, extraction = extract_items(
            context, inputs, cfg, "audio", self.version, extract_audio, warm_up, "recordings"
        )
        raw = {k: utterance_normalize(v, cfg.utterance_norm) for k, v in extraction.arrays.items()}
        stats = None
        if inputs.stats is not None:
            stats = Standardizer.load(inputs.stats)
        elif cfg.standardize:
            stats = fit_audio_stats([raw[i] for i in train_ids(items, set(raw))])
        coefficients = cfg.n_mfcc if cfg.kind == "mfcc" else cfg.n_mels
        shape = {
            "pad": (coefficients, cfg.frames),
            "resize": (coefficients, cfg.frames),
            "mean": (coefficients,),
            "meanstd": (2 * coefficients,),
        }[cfg.length]
        out = np.zeros((len(items), *shape), np.float32)
        ok = []
        for row, item in enumerate(items):
            features = raw.get(item["id"])
            ok.append(features is not None)
            if features is None:
                continue
            if stats is not None:
                features = stats.apply(features, axis=0)
            out[row] = fixed_length(features, cfg.length, cfg.frames)
        order = {item["id"]: row for row, item in enumerate(items)}
        problems.sort(key=lambda p: order[p.item])
        meta = {"config": cfg.model_dump(), "layout": "items x coefficients x frames"}
        return finish(
            context,
            "audio",
            items,
            {"features": out},
            ok,
            problems,
            cfg.on_error,
            meta,
            stats,
            extraction,
        )
