"""``multimodal.fuse``: a trainable fusion classifier, the objective a tuner can optimise."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from autoglm import Choice, FloatRange, NodeContext, NodeModel, NodeType
from autoglm.exclusive import TORCH_RNG
from autoglm.policy import InputDir


class FuseConfig(NodeModel):
    """Searchable fields carry ``autoglm.space`` markers; ``max_epochs`` is the fidelity."""

    modalities: list[str] | None = Field(
        None, description="modalities of the dataset to use (null: all); one gives a unimodal model"
    )
    fusion: Annotated[Literal["early", "late"], Choice(["early", "late"])] = Field(
        "late", description="early: one MLP over concatenated inputs; late: one head per modality"
    )
    hidden: Annotated[int, Choice([32, 64, 128, 256], ordered=True)] = Field(
        128, ge=1, le=4096, description="hidden width of each MLP"
    )
    dropout: Annotated[float, FloatRange(0.0, 0.6)] = Field(
        0.3, ge=0.0, lt=1.0, description="dropout after the hidden layer"
    )
    input_dropout: Annotated[float, FloatRange(0.0, 0.5)] = Field(
        0.1, ge=0.0, lt=1.0, description="dropout on the inputs"
    )
    lr: Annotated[float, FloatRange(1e-4, 1e-2, log=True)] = Field(3e-3, gt=0.0, le=1.0)
    weight_decay: Annotated[float, FloatRange(1e-6, 1e-1, log=True)] = Field(1e-3, ge=0.0, le=10.0)
    batch_size: Annotated[int, Choice([32, 64, 128, 256], ordered=True)] = Field(
        64, ge=1, le=65_536
    )
    embed_dim: int = Field(64, ge=1, le=4096, description="token embedding width (text)")
    max_epochs: int = Field(60, ge=1, le=10_000, description="epochs at most (the fidelity)")
    patience: int = Field(
        15, ge=1, le=10_000, description="stop after this many epochs without better validation"
    )
    weigh_branches: bool = Field(
        True,
        description="late: weigh each head's log-probabilities by weights chosen on the "
        "validation items (else equal weights)",
    )
    augment: bool = Field(True, description="use the image node's augmented variants, if any")
    seed: int = Field(0, description="seed of torch and of the batch order")
    threads: int = Field(1, ge=1, le=256, description="torch CPU threads")
    report_test: bool = Field(
        False, description="also score the test items after selection (never used to select)"
    )


class FuseInputs(NodeModel):
    dataset: InputDir = Field(description="dataset folder written by multimodal.dataset")


class FuseOutputs(NodeModel):
    val_acc: float = Field(description="validation accuracy of the selected epoch")
    train_acc: float
    test_acc: float | None = Field(None, description="test accuracy, only with report_test")
    test_by_group: dict[str, float] = Field(
        default_factory=dict, description="test accuracy of each held-out group (report_test)"
    )
    val_by_group: dict[str, float] = Field(default_factory=dict)
    branch_val_acc: dict[str, float] = Field(
        default_factory=dict, description="late fusion: each modality head alone on validation"
    )
    branch_weights: dict[str, float] = Field(
        default_factory=dict, description="late: the heads' weights chosen on validation"
    )
    best_epoch: int
    epochs: int
    params: int
    seconds: float
    modalities: list[str]
    weights: str = Field(description="state dict of the selected model (torch.save)")


class FuseNode(NodeType):
    """Train a fusion classifier (early or late) over a subset of modalities."""

    name = "multimodal.fuse"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    version = "1"
    description = "Early/late fusion classifier over any modalities of a dataset (tunable)"
    Config = FuseConfig
    Inputs = FuseInputs
    Outputs = FuseOutputs

    @classmethod
    def state_fingerprint(cls, config: FuseConfig, inputs: FuseInputs, context: NodeContext) -> str:
        from autoglm.fingerprints import folder_fingerprint

        return folder_fingerprint(inputs.dataset)

    def execute(self, inputs: FuseInputs, context: NodeContext) -> FuseOutputs:
        import torch

        from autoglm_multimodal.dataset import load_dataset
        from autoglm_multimodal.fusion import train_fusion

        cfg: FuseConfig = self.config

        def on_epoch(epoch: int, val_acc: float, best: float) -> None:
            context.check_cancelled()
            context.progress(epoch, cfg.max_epochs, f"val_acc {val_acc:.4f} (best {best:.4f})")

        result = train_fusion(load_dataset(inputs.dataset), cfg, on_epoch)
        weights = context.artifacts_dir / "fuse.pt"
        torch.save(result.state, weights)
        return FuseOutputs(
            val_acc=result.val_acc,
            train_acc=result.train_acc,
            test_acc=result.test_acc,
            test_by_group=result.test_by_group,
            val_by_group=result.val_by_group,
            branch_val_acc=result.branch_val_acc,
            branch_weights=result.branch_weights,
            best_epoch=result.best_epoch,
            epochs=result.epochs,
            params=result.params,
            seconds=round(result.seconds, 3),
            modalities=result.modalities,
            weights=str(weights),
        )
