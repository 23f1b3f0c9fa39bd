"""Turning the config's ``device`` and ``dtype`` words into torch objects.

``auto`` picks the accelerator when there is one and full precision on CPU: half precision on
CPU is slow and numerically poor, while bfloat16 on a recent GPU halves memory for free.
"""

from __future__ import annotations

from typing import Any

from autoglm_hf.errors import AdapterError

DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` if available, else ``mps`` if available, else ``cpu``."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    base = device.split(":", 1)[0]
    if base not in DEVICES:
        expected = ", ".join(DEVICES)
        raise AdapterError(f"device: expected one of {expected} (or cuda:N), got {device!r}")
    if base == "cuda" and not torch.cuda.is_available():
        raise AdapterError(f"device: {device!r} was asked for but torch sees no CUDA device")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` → bfloat16 on a GPU that supports it, float16 on other GPUs, float32 on CPU."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype not in DTYPES:
        raise AdapterError(f"dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
    return getattr(torch, dtype)
