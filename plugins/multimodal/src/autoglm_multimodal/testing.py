"""Helpers for tests and benchmarks: generated audio files and slices of FSDD as manifests.

Real files, not mocks: the tones are written with soundfile exactly as a user's would be.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: A speaker-held-out slice: the first trains, the second validates, the third tests.
SPEAKERS = ("george", "jackson", "theo")


def fsdd_items(folder: Path, per_digit: int = 2, speakers=SPEAKERS) -> list[dict]:
    """Items of the first ``per_digit`` recordings of each digit of each speaker, with
    ``split`` train/val/test by speaker (extra speakers train)."""
    splits = dict(zip(speakers, ("train", "val", "test"), strict=False))
    return [
        {
            "id": f"{digit}_{speaker}_{index}",
            "label": digit,
            "group": speaker,
            "split": splits.get(speaker, "train"),
            "audio": str(Path(folder) / f"{digit}_{speaker}_{index}.wav"),
        }
        for speaker in speakers
        for digit in range(10)
        for index in range(per_digit)
    ]


def tone(
    rate: int, seconds: float = 0.5, hz: float = 440.0, channels: int = 1, noise: float = 0.01
) -> np.ndarray:
    """A sine tone plus seeded white noise, (samples, channels), float32 in [-1, 1]."""
    t = np.arange(int(rate * seconds)) / rate
    wave = 0.5 * np.sin(2 * np.pi * hz * t) + noise * np.random.default_rng(0).normal(size=t.size)
    return np.repeat(wave[:, None], channels, axis=1).astype(np.float32)


def write_wav(path: Path, wave: np.ndarray, rate: int, fmt: str | None = None) -> Path:
    """Write ``wave`` (samples x channels) with soundfile (WAV by suffix, or ``fmt``)."""
    import soundfile as sf

    sf.write(path, wave, rate, format=fmt)
    return path
