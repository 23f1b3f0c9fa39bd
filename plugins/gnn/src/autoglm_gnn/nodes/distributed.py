"""``gnn.train_distributed``: data-parallel mini-batch training with neighbour sampling, for
graphs too big for ``gnn.train``'s full-batch training. Light module: torch and DGL load in
``execute`` (``autoglm_gnn.distributed.training``)."""

from __future__ import annotations

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm_gnn.distributed.config import DistributedTrainConfig
from autoglm_gnn.nodes.training import GraphInput


class DistributedOutputs(NodeModel):
    test_acc: float = Field(description="accuracy on the first eval_nodes test nodes")
    steps: int = Field(description="optimiser steps taken")
    samples: int = Field(description="seed nodes trained on, all ranks together")
    samples_per_s: float = Field(description="training throughput after the first step")
    bytes_sent: int = Field(description="gradient bytes rank 0 handed to the all-reduce")
    checkpoint: str = Field(description="state_dict of the trained GraphSAGE (rank 0)")


class TrainDistributedNode(NodeType):
    """GraphSAGE on sampled neighbourhoods, on ``world_size`` DDP ranks of this machine."""

    name = "gnn.train_distributed"
    description = "DDP mini-batch GraphSAGE with neighbour sampling (gloo or nccl)"
    Config = DistributedTrainConfig
    Inputs = GraphInput
    Outputs = DistributedOutputs

    def execute(self, inputs: GraphInput, context: NodeContext) -> DistributedOutputs:
        from autoglm_gnn.distributed.training import MODEL_FILE, Job, launch

        cfg: DistributedTrainConfig = self.config
        settings = cfg.distributed
        out = context.artifacts_dir
        context.progress(0, 1, f"{settings.world_size} rank(s), {settings.backend}")
        result = launch(
            Job(
                graph=str(inputs.graph),
                out_dir=str(out),
                hidden=cfg.hidden,
                layers=cfg.layers,
                fanouts=list(cfg.fanouts),
                dropout=cfg.dropout,
                batch_size=cfg.batch_size,
                epochs=cfg.epochs,
                max_steps=cfg.max_steps,
                lr=cfg.lr,
                seed=cfg.seed,
                eval_nodes=cfg.eval_nodes,
                world_size=settings.world_size,
                backend=settings.backend,
                compression=settings.gradient_compression,
                accumulate_steps=settings.accumulate_steps,
                master_addr=settings.master_addr,
                master_port=settings.master_port,
            )
        )
        context.progress(1, 1, f"test_acc {result['test_accuracy']:.4f}")
        return DistributedOutputs(
            test_acc=result["test_accuracy"],
            steps=result["steps"],
            samples=result["samples"],
            samples_per_s=result["samples_per_s"],
            bytes_sent=result["bytes_sent"],
            checkpoint=str(out / MODEL_FILE),
        )
