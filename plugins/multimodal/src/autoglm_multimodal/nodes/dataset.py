"""``multimodal.dataset``: the modalities of a manifest's items as one on-disk dataset."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputDir, InputPath


class DatasetConfig(NodeModel):
    label_field: str = Field("label", description="manifest key of each item's class")
    group_field: str = Field("group", description="manifest key of each item's group")
    drop_incomplete: bool = Field(
        True, description="leave out (and list) items lacking a modality; false: fail"
    )
    memoize: bool = Field(
        True, description="reuse a dataset built from identical content and config"
    )


class DatasetInputs(NodeModel):
    items: InputPath = Field(description="items manifest (JSON lines) with splits")
    features: dict[str, InputDir] = Field(
        description="modality name -> feature folder written by a multimodal node"
    )


class DatasetOutputs(NodeModel):
    dataset: str = Field(description="dataset folder: <modality>.<array>.npy, manifest.json")
    rows: int
    counts: dict[str, int] = Field(description="items per split")
    groups: dict[str, list[str]] = Field(description="groups per split")
    classes: list[str]
    dropped: int = Field(description="items left out for lacking a modality")
    reused: bool = Field(description="an identical dataset was already built")
    key: str = Field(description="content and config key of the dataset")


class DatasetNode(NodeType):
    """Combine modalities into one memory-mappable dataset with grouped splits."""

    name = "multimodal.dataset"
    version = "1"
    description = "Modalities into one memory-mapped dataset; splits checked for group leaks"
    Config = DatasetConfig
    Inputs = DatasetInputs
    Outputs = DatasetOutputs

    @classmethod
    def state_fingerprint(
        cls, config: DatasetConfig, inputs: DatasetInputs, context: NodeContext
    ) -> str:
        from autoglm.fingerprints import digest, files_fingerprint, folder_fingerprint

        folders = [folder_fingerprint(f) for _, f in sorted(inputs.features.items())]
        return digest(files_fingerprint([inputs.items]), *folders)

    def execute(self, inputs: DatasetInputs, context: NodeContext) -> DatasetOutputs:
        import json
        import shutil

        from autoglm_multimodal.dataset import MANIFEST, build_dataset, content_key
        from autoglm_multimodal.errors import MultimodalError

        cfg: DatasetConfig = self.config
        if not inputs.features:
            raise MultimodalError("features names no modality")
        config = cfg.model_dump(exclude={"memoize"}) | {"version": self.version}
        key = content_key(inputs.items, inputs.features, config)
        root = (
            context.cache_dir("multimodal") / "datasets"
            if cfg.memoize
            else Path(context.artifacts_dir)
        )
        target = root / key
        reused = (target / MANIFEST).is_file()
        if reused:
            manifest = json.loads((target / MANIFEST).read_text())
        else:
            if target.exists():  # a half-written folder of a killed run
                shutil.rmtree(target)
            root.mkdir(parents=True, exist_ok=True)
            manifest = build_dataset(
                target,
                inputs.items,
                inputs.features,
                cfg.label_field,
                cfg.group_field,
                cfg.drop_incomplete,
            )
        context.progress(1, 1, "reused" if reused else "built")
        return DatasetOutputs(
            dataset=str(target),
            rows=len(manifest["ids"]),
            counts=manifest["counts"],
            groups=manifest["split_groups"],
            classes=manifest["classes"],
            dropped=manifest["dropped"],
            reused=reused,
            key=key,
        )
