"""Images: decode PNG/JPEG (Pillow) or NumPy arrays, check the mode, resize, crop; then
normalisation with given or train-fitted statistics, and seeded augmentation of training rows.

``extract_image`` runs per file in the workers and returns a (channels x height x width)
float array in [0, 1], cached by content; statistics and augmentation need every item and
the split, so they run once over the stacked batch.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_multimodal.errors import BadInput
from autoglm_multimodal.stats import Standardizer

#: Pillow modes that convert to L or RGB without guessing.
CONVERTIBLE = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I", "F"}
CHANNELS = {"L": 1, "RGB": 3}


def _from_numpy(data: bytes, mode: str, convert: bool) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise BadInput(f"not a readable .npy image ({exc})") from None
    if array.ndim == 3 and array.shape[-1] in (1, 3):
        found = "L" if array.shape[-1] == 1 else "RGB"
        array = np.moveaxis(array, -1, 0)
    elif array.ndim == 2:
        found, array = "L", array[None]
    else:
        raise BadInput(
            f"array of shape {list(array.shape)} is no image: expected (H, W), (H, W, 1) "
            "or (H, W, 3)"
        )
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / float(np.iinfo(array.dtype).max)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise BadInput("float image values must be finite and within [0, 1]")
        array = array.astype(np.float32)
    else:
        raise BadInput(f"array of dtype {array.dtype} is no image")
    if found != mode:
        if not convert:
            raise BadInput(f"image mode {found}, expected {mode} (set convert: true)")
        array = array.mean(axis=0, keepdims=True) if mode == "L" else np.repeat(array, 3, 0)
    return array


def _from_pillow(data: bytes, mode: str, convert: bool) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"not a readable image ({exc})") from None
    if image.mode != mode:
        if not convert or image.mode not in CONVERTIBLE:
            hint = " (set convert: true)" if image.mode in CONVERTIBLE else ""
            raise BadInput(f"image mode {image.mode}, expected {mode}{hint}")
        if image.mode in {"I", "F"}:
            raise BadInput(f"image mode {image.mode} (32-bit) cannot be scaled to [0, 1] safely")
        image = image.convert(mode)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)


def warm_up() -> None:
    """Import what ``extract_image`` needs in the parent, so forked workers inherit it instead
    of each importing torchvision (seconds per worker on a busy machine)."""
    import PIL.Image
    import PIL.PngImagePlugin  # noqa: F401
    import torch  # noqa: F401
    from torchvision.transforms.v2 import functional  # noqa: F401


def extract_image(data: bytes, name: str, params: dict[str, Any]) -> np.ndarray:
    """(channels x size x size) floats in [0, 1]; BadInput names the problem."""
    import torch
    from torchvision.transforms.v2 import functional as F

    if Path(name).suffix.lower() == ".npy":
        array = _from_numpy(data, params["mode"], params["convert"])
    else:
        array = _from_pillow(data, params["mode"], params["convert"])
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    size = params["size"]
    if params["keep_aspect"]:
        tensor = F.resize(tensor, size, antialias=True)  # shorter side to size
    else:
        tensor = F.resize(tensor, [size, size], antialias=True)
    if params["crop"] is not None:
        tensor = F.center_crop(tensor, [params["crop"], params["crop"]])
    return tensor.clamp(0, 1).numpy().astype(np.float32)


def channel_stats(batch: np.ndarray) -> Standardizer:
    """Per-channel mean and std over the pixels of a (training) batch (N x C x H x W)."""
    return Standardizer.fit(np.moveaxis(batch, 1, -1).reshape(-1, batch.shape[1]))


def augment(batch: np.ndarray, copies: int, params: dict[str, Any], seed: int) -> np.ndarray:
    """``copies`` seeded random affine variants of each image (N x copies x C x H x W):
    rotation, translation and scale, and a horizontal flip when allowed."""
    import torch
    from torchvision.transforms import v2

    torch.manual_seed(seed)
    steps = [
        v2.RandomAffine(
            degrees=params["degrees"],
            translate=(params["translate"], params["translate"]),
            scale=(1 - params["scale"], 1 + params["scale"]),
        )
    ]
    if params["flip"]:
        steps.append(v2.RandomHorizontalFlip())
    transform = v2.Compose(steps)
    out = np.empty((batch.shape[0], copies, *batch.shape[1:]), np.float32)
    for row, image in enumerate(torch.from_numpy(batch)):
        for copy in range(copies):
            out[row, copy] = transform(image).numpy()
    return out
