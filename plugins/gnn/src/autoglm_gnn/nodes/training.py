"""Training nodes: ``gnn.train`` (the objective a tuner optimises), ``gnn.evaluate`` (retrain
the chosen config over seeds and report test accuracy) and ``gnn.predict`` (reload a
checkpoint and predict)."""

from __future__ import annotations

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm_gnn.config import TrainConfig

CHECKPOINT_FILE = "model.pt"


class GraphInput(NodeModel):
    graph: str = Field(description="graph file written by a gnn loader")


class TrainOutputs(NodeModel):
    val_acc: float = Field(description="validation accuracy of the selected epoch")
    train_acc: float
    test_acc: float | None = Field(
        None, description="test accuracy of the selected model, only with report_test"
    )
    best_epoch: int = Field(description="epoch selected by validation accuracy (1-based)")
    epochs: int = Field(description="epochs run before early stopping or max_epochs")
    seconds: float = Field(description="wall time of the run")
    checkpoint: str | None = Field(None, description="checkpoint file, with save_checkpoint")
    params: int = Field(description="trainable parameters")


def epoch_reporter(context: NodeContext, total: int):
    """An epoch callback that honours cancellation and reports progress every 10 epochs."""

    def report(epoch: int, val_acc: float, best: float) -> None:
        context.check_cancelled()
        if epoch % 10 == 0 or epoch == total:
            context.progress(epoch, total, f"val_acc {val_acc:.4f} (best {best:.4f})")

    return report


class TrainNode(NodeType):
    """Train one GNN configuration, full batch, early stopping on validation accuracy."""

    name = "gnn.train"
    description = "Train a GNN configuration (the objective a tuner optimises)"
    Config = TrainConfig
    Inputs = GraphInput
    Outputs = TrainOutputs

    def init(self, config: TrainConfig, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn.trainer import train_config

        self._train = train_config

    def execute(self, inputs: GraphInput, context: NodeContext) -> TrainOutputs:
        cfg: TrainConfig = self.config
        result = self._train(
            inputs.graph,
            cfg,
            checkpoint_path=context.artifacts_dir / CHECKPOINT_FILE,
            callback=epoch_reporter(context, cfg.max_epochs),
        )
        return TrainOutputs(**result.outputs())
