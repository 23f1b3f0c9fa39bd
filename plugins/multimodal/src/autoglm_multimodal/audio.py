"""Audio: decode WAV/FLAC, check channels, resample, trim silence, MFCC or log-mel features,
then per-coefficient standardisation and a fixed length.

``extract_audio`` runs per file in the workers and returns raw features of variable length
(coefficients x frames), which are cached by content; ``finalize_audio`` runs once over all
items, because its statistics come from the training items and its length from the config.
Decoding goes through soundfile (libsndfile), which reads WAV and FLAC from memory and is the
backend torchaudio 2.2 itself uses.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import numpy as np

from autoglm_multimodal.errors import BadInput
from autoglm_multimodal.stats import Standardizer


def decode_audio(data: bytes, params: dict[str, Any]) -> tuple[np.ndarray, int]:
    """(mono samples, sample rate); BadInput names a corrupt file or a wrong channel count."""
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise BadInput(f"not a readable WAV/FLAC file ({exc})") from None
    channels = samples.shape[1]
    expected = params.get("channels")
    if expected is not None and channels != expected and not params.get("downmix", False):
        raise BadInput(
            f"has {channels} channel(s), expected {expected} (set downmix: true to average them)"
        )
    if samples.shape[0] == 0:
        raise BadInput("holds no samples")
    if not np.isfinite(samples).all():
        raise BadInput("holds NaN or infinite samples")
    mono = samples[:, 0] if channels == 1 else samples.mean(axis=1)
    return np.ascontiguousarray(mono), int(rate)


def trim_silence(wave: np.ndarray, top_db: float, frame: int, hop: int) -> np.ndarray:
    """Cut leading and trailing frames quieter than ``top_db`` below the loudest frame (the
    rule of librosa.effects.trim, without librosa's numba stack)."""
    if wave.size < frame:
        return wave
    count = 1 + (wave.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    power = (wave[idx] ** 2).mean(axis=1)
    db = 10 * np.log10(np.maximum(power, 1e-10))
    loud = np.flatnonzero(db > db.max() - top_db)
    if loud.size == 0:
        return wave[:0]
    return wave[loud[0] * hop : min(wave.size, loud[-1] * hop + frame)]


@lru_cache(maxsize=8)
def _transform(kind: str, rate: int, coefficients: int, n_mels: int, n_fft: int, hop: int):
    import torchaudio

    mel = {"n_fft": n_fft, "hop_length": hop, "n_mels": n_mels}
    if kind == "mfcc":
        return torchaudio.transforms.MFCC(sample_rate=rate, n_mfcc=coefficients, melkwargs=mel)
    return torchaudio.transforms.MelSpectrogram(sample_rate=rate, **mel)


def features_of(wave: np.ndarray, rate: int, params: dict[str, Any]) -> np.ndarray:
    """MFCC (``n_mfcc`` x frames) or log-mel (``n_mels`` x frames) of a mono wave."""
    import torch

    kind = params["features"]
    transform = _transform(
        kind, rate, params["n_mfcc"], params["n_mels"], params["n_fft"], params["hop_length"]
    )
    with torch.no_grad():
        out = transform(torch.from_numpy(np.ascontiguousarray(wave)))
        if kind == "logmel":
            out = torch.log(out + 1e-6)
    return out.numpy().astype(np.float32)


def warm_up() -> None:
    """Import what ``extract_audio`` needs in the parent, so forked workers inherit it."""
    import soundfile  # noqa: F401
    import torch  # noqa: F401
    import torchaudio  # noqa: F401


def extract_audio(data: bytes, name: str, params: dict[str, Any]) -> np.ndarray:
    """Raw features of one file (coefficients x frames); BadInput for an unusable file."""
    wave, rate = decode_audio(data, params)
    target = params["sample_rate"]
    if rate != target:
        if not params["resample"]:
            raise BadInput(f"sample rate {rate} Hz, expected {target} Hz (set resample: true)")
        import torch
        import torchaudio

        wave = torchaudio.functional.resample(torch.from_numpy(wave), rate, target).numpy()
    if params["trim_decibels"] is not None:
        wave = trim_silence(wave, params["trim_decibels"], params["n_fft"], params["hop_length"])
    if wave.size < params["n_fft"]:
        raise BadInput(
            f"too short: {wave.size} samples after trimming silence, one analysis window "
            f"needs {params['n_fft']}"
        )
    return features_of(wave, target, params)


def utterance_normalize(features: np.ndarray, how: str) -> np.ndarray:
    """Per-recording normalisation over its own frames (cepstral mean [and variance]
    normalisation): it removes much of what a speaker and a microphone add, and uses no other
    item, so it cannot leak between splits."""
    if how == "none":
        return features
    out = features - features.mean(axis=1, keepdims=True)
    if how == "meanvar":
        out = out / np.maximum(features.std(axis=1, keepdims=True), 1e-6)
    return out.astype(np.float32)


def fit_audio_stats(raw: list[np.ndarray]) -> Standardizer:
    """Per-coefficient statistics over every frame of the given (training) recordings."""
    if not raw:
        return Standardizer.fit(np.zeros((0, 1), np.float32))  # the error that says what to do
    return Standardizer.fit(np.concatenate([r.T for r in raw], axis=0))


def fixed_length(features: np.ndarray, mode: str, frames: int) -> np.ndarray:
    """One recording's standardised (coefficients x T) features at a length independent of T:
    ``pad`` (zeros, i.e. the training mean, after the end; cropped when longer), ``resize``
    (linear interpolation in time to ``frames``), ``mean`` or ``meanstd`` pooling."""
    coefficients, length = features.shape
    if mode == "mean":
        return features.mean(axis=1)
    if mode == "meanstd":
        return np.concatenate([features.mean(axis=1), features.std(axis=1)])
    if mode == "pad":
        out = np.zeros((coefficients, frames), np.float32)
        out[:, : min(frames, length)] = features[:, :frames]
        return out
    if length == 1:
        return np.repeat(features, frames, axis=1)
    positions = np.linspace(0, length - 1, frames)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, length - 1)
    weight = (positions - low).astype(np.float32)
    return (features[:, low] * (1 - weight) + features[:, high] * weight).astype(np.float32)
