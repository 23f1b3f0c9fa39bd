"""Nodes that make and split item manifests: ``multimodal.pair_digits`` (the shipped
spoken+written digit task) and ``multimodal.split`` (train/val/test by a grouping key)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputDir, InputPath


class PairConfig(NodeModel):
    recordings: InputDir | None = Field(
        None, description="FSDD recordings folder (null: fsdd/recordings of the shared data)"
    )
    per_speaker_digit: int | None = Field(
        None, ge=1, le=50, description="keep recordings with index below this (null: all 50)"
    )
    seed: int = Field(0, description="seed of the image shares and the pairing")


class PairOutputs(NodeModel):
    items: str = Field(description="items manifest: id, label, group (speaker), audio, image")
    count: int
    groups: list[str] = Field(description="speakers")
    images: int = Field(description="distinct written digits used")


class PairDigitsNode(NodeType):
    """Pair each FSDD recording with an 8x8 written digit of the same class (seeded)."""

    name = "multimodal.pair_digits"
    version = "1"
    description = "FSDD spoken digits paired with scikit-learn's written digits, per speaker"
    Config = PairConfig
    Inputs = NodeModel
    Outputs = PairOutputs

    @classmethod
    def state_fingerprint(cls, config: PairConfig, inputs: NodeModel, context: NodeContext) -> str:
        """The recordings folder's files (stat only): new or edited recordings recompute."""
        from autoglm.fingerprints import folder_fingerprint
        from autoglm.paths import data_dir

        folder = config.recordings or data_dir() / "fsdd" / "recordings"
        return folder_fingerprint(folder, ("*.wav",))

    def execute(self, inputs: NodeModel, context: NodeContext) -> PairOutputs:
        import numpy as np
        from PIL import Image
        from sklearn.datasets import load_digits

        from autoglm.paths import data_dir
        from autoglm_multimodal.items import write_items
        from autoglm_multimodal.pairing import fsdd_recordings, pair_with_digits

        cfg: PairConfig = self.config
        folder = Path(cfg.recordings) if cfg.recordings else data_dir() / "fsdd" / "recordings"
        recordings = fsdd_recordings(folder)
        if cfg.per_speaker_digit is not None:
            recordings = [r for r in recordings if r["index"] < cfg.per_speaker_digit]
        digits = load_digits()
        pairs = pair_with_digits(recordings, digits.images, digits.target, cfg.seed)
        out = Path(context.artifacts_dir)
        (out / "images").mkdir(exist_ok=True)
        used = sorted({index for _, index in pairs})
        for index in used:
            pixels = np.round(digits.images[index] * (255 / 16)).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(out / "images" / f"digit_{index:04d}.png")
        items = [{**record, "image": f"images/digit_{index:04d}.png"} for record, index in pairs]
        path = write_items(out / "items.jsonl", items)
        return PairOutputs(
            items=str(path),
            count=len(items),
            groups=sorted({r["group"] for r in recordings}),
            images=len(used),
        )


class SplitConfig(NodeModel):
    group_field: str = Field("group", description="manifest key of each item's group")
    test_groups: list[str] | None = Field(None, description="groups held out for testing")
    val_groups: list[str] | None = Field(None, description="groups held out for validation")
    test_fraction: float = Field(
        0.2, ge=0, le=0.9, description="share of groups drawn for test when none are named"
    )
    val_fraction: float = Field(
        0.2, ge=0, le=0.9, description="share of the remaining groups drawn for validation"
    )
    seed: int = Field(0, description="seed of the drawn groups")


class SplitInputs(NodeModel):
    items: InputPath = Field(description="items manifest (JSON lines)")


class SplitOutputs(NodeModel):
    items: str = Field(description="the manifest with each item's split")
    counts: dict[str, int] = Field(description="items per split")
    groups: dict[str, list[str]] = Field(description="groups per split")


class SplitNode(NodeType):
    """Assign train/val/test by a grouping key: no group is on two sides."""

    name = "multimodal.split"
    version = "1"
    description = "Train/validation/test split by a grouping key (a speaker in one split only)"
    Config = SplitConfig
    Inputs = SplitInputs
    Outputs = SplitOutputs

    @classmethod
    def state_fingerprint(
        cls, config: SplitConfig, inputs: SplitInputs, context: NodeContext
    ) -> str:
        from autoglm.fingerprints import files_fingerprint

        return files_fingerprint([inputs.items])

    def execute(self, inputs: SplitInputs, context: NodeContext) -> SplitOutputs:
        from autoglm_multimodal.items import SPLITS, item_file, read_items, write_items
        from autoglm_multimodal.splits import assign_splits

        cfg: SplitConfig = self.config
        items = read_items(inputs.items)
        groups = assign_splits(
            items,
            cfg.group_field,
            cfg.test_groups,
            cfg.val_groups,
            cfg.test_fraction,
            cfg.val_fraction,
            cfg.seed,
        )
        # The new manifest lives elsewhere: a relative value naming a file beside the source
        # manifest is made absolute so that it still names that file.
        for item in items:
            for key, value in item.items():
                if key in {"id", "group", "split"} or not isinstance(value, str):
                    continue
                if value and not Path(value).is_absolute():
                    candidate = item_file(inputs.items, value)
                    if candidate.is_file():
                        item[key] = str(candidate)
        path = write_items(Path(context.artifacts_dir) / "items.jsonl", items)
        counts = {s: sum(i["split"] == s for i in items) for s in SPLITS}
        return SplitOutputs(items=str(path), counts=counts, groups=groups)
