"""``multimodal.image``: images named by a manifest to normalised tensors, with augmentation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeType
from autoglm.exclusive import TORCH_RNG
from autoglm_multimodal.nodes.common import (
    FeatureOutputs,
    ItemsInputs,
    ManifestFingerprint,
    PerItemConfig,
    extract_items,
    finish,
    train_ids,
)


class ImageConfig(PerItemConfig):
    field: str = Field("image", description="manifest key of each item's image")
    mode: Literal["L", "RGB"] = Field("RGB", description="channels: L (grey) or RGB")
    convert: bool = Field(
        True, description="convert other modes (P, RGBA, CMYK, ...); false: they are bad items"
    )
    size: int = Field(224, ge=1, le=4096, description="output size (square unless keep_aspect)")
    keep_aspect: bool = Field(False, description="resize the shorter side to size instead")
    crop: int | None = Field(None, ge=1, le=4096, description="centre crop after resizing")
    normalize: Literal["none", "fixed", "fit"] = Field(
        "fit",
        description="none: [0, 1]; fixed: the given mean/std; fit: per-channel statistics of "
        "the training items",
    )
    mean: list[float] | None = Field(None, description="per-channel mean for normalize: fixed")
    std: list[float] | None = Field(None, description="per-channel std for normalize: fixed")
    augment_copies: int = Field(
        0, ge=0, le=32, description="random variants of each training image (0: none)"
    )
    augment_degrees: float = Field(10.0, ge=0, le=180, description="rotation range (degrees)")
    augment_translate: float = Field(0.1, ge=0, le=0.5, description="shift, share of the size")
    augment_scale: float = Field(0.1, ge=0, lt=1, description="zoom range, 1 +- this")
    augment_flip: bool = Field(False, description="random horizontal flips (not for digits)")
    seed: int = Field(0, description="seed of the augmentation")

    @model_validator(mode="after")
    def _coherent(self) -> ImageConfig:
        channels = 1 if self.mode == "L" else 3
        if self.normalize == "fixed":
            for name in ("mean", "std"):
                values = getattr(self, name)
                if values is None or len(values) != channels:
                    raise ValueError(f"normalize: fixed needs {name} with {channels} value(s)")
            if any(s <= 0 for s in self.std or []):
                raise ValueError("std values must be positive")
        if self.crop is not None and not self.keep_aspect and self.crop > self.size:
            raise ValueError(f"crop ({self.crop}) is larger than size ({self.size})")
        return self

    def extract_params(self) -> dict:
        return {
            "mode": self.mode,
            "convert": self.convert,
            "size": self.size,
            "keep_aspect": self.keep_aspect,
            "crop": self.crop,
        }


class ImageNode(ManifestFingerprint, NodeType):
    """Images: decode, check mode, resize, crop, normalise, augment training items."""

    name = "multimodal.image"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    version = "1"
    description = "PNG/JPEG/NumPy images to normalised tensors; train-only statistics"
    Config = ImageConfig
    Inputs = ItemsInputs
    Outputs = FeatureOutputs

    def execute(self, inputs: ItemsInputs, context: NodeContext) -> FeatureOutputs:
        import numpy as np

        from autoglm_multimodal.errors import ItemProblem
        from autoglm_multimodal.image import augment, channel_stats, extract_image, warm_up
        from autoglm_multimodal.stats import Standardizer

        cfg: ImageConfig = self.config
        items, tasks, problems, extraction = extract_items(
            context, inputs, cfg, "image", self.version, extract_image, warm_up, "images"
        )
        raw = extraction.arrays
        # Keep_aspect gives each image its own shape: the batch needs one, so others are bad.
        shapes = {}
        for item_id, array in raw.items():
            shapes.setdefault(array.shape, []).append(item_id)
        if len(shapes) > 1:
            files = dict(tasks)
            common = max(shapes, key=lambda s: len(shapes[s]))
            for shape, ids in shapes.items():
                if shape != common:
                    for item_id in ids:
                        problems.append(
                            ItemProblem(
                                item_id,
                                files[item_id],
                                f"resized to {list(shape)}, the others to {list(common)} "
                                "(add crop to give every image one size)",
                            )
                        )
                        del raw[item_id]
        shape = next(iter(raw.values())).shape if raw else (1 if cfg.mode == "L" else 3, 1, 1)
        batch = np.zeros((len(items), *shape), np.float32)
        ok = []
        for row, item in enumerate(items):
            ok.append(item["id"] in raw)
            if item["id"] in raw:
                batch[row] = raw[item["id"]]
        rows = {item["id"]: row for row, item in enumerate(items)}
        train = [rows[i] for i in train_ids(items, set(raw))]
        arrays = {}
        if cfg.augment_copies:
            variants = np.zeros((len(items), cfg.augment_copies, *shape), np.float32)
            aug = {
                "degrees": cfg.augment_degrees,
                "translate": cfg.augment_translate,
                "scale": cfg.augment_scale,
                "flip": cfg.augment_flip,
            }
            variants[train] = augment(batch[train], cfg.augment_copies, aug, cfg.seed)
        stats = None
        if inputs.stats is not None:
            stats = Standardizer.load(inputs.stats)
        elif cfg.normalize == "fit":
            stats = channel_stats(batch[train])
        elif cfg.normalize == "fixed":
            stats = Standardizer(
                np.asarray(cfg.mean, np.float32), np.asarray(cfg.std, np.float32), 0
            )
        if stats is not None:
            batch = stats.apply(batch, axis=1)
            if cfg.augment_copies:
                variants = stats.apply(variants, axis=2)
                held_out = np.ones(len(items), bool)
                held_out[train] = False
                variants[held_out] = 0.0  # only training rows have variants
        arrays["features"] = batch
        if cfg.augment_copies:
            arrays["augmented"] = variants
        problems.sort(key=lambda p: rows[p.item])
        meta = {"config": cfg.model_dump(), "layout": "items x channels x height x width"}
        return finish(
            context, "image", items, arrays, ok, problems, cfg.on_error, meta, stats, extraction
        )
