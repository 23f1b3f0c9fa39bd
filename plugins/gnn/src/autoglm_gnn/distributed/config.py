"""Settings of distributed training. Light (pydantic only): the node module imports this to
declare its config, and listing plugins must not import torch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from autoglm import NodeModel

#: Ranks on one machine: beyond this, loopback DDP on CPU only thrashes; a cluster launches
#: ranks on several machines with torchrun instead (docs/scale-out.md).
MAX_WORLD_SIZE = 64


class DistributedSettings(NodeModel):
    """``distributed:`` of ``gnn.train_distributed``."""

    world_size: int = Field(2, ge=1, le=MAX_WORLD_SIZE, description="processes (ranks)")
    backend: Literal["gloo", "nccl"] = Field(
        "gloo", description="gloo: CPU (any machine); nccl: one GPU per rank"
    )
    gradient_compression: Literal["none", "fp16", "bf16"] = Field(
        "none", description="cast gradients before the all-reduce: half the bytes on the wire"
    )
    accumulate_steps: int = Field(
        1, ge=1, le=1024, description="micro-batches per optimiser step (no_sync between them)"
    )
    master_addr: str = Field(
        "127.0.0.1",
        pattern=r"^[A-Za-z0-9_.:-]{1,253}$",
        description="rendezvous address (loopback: all ranks on this machine)",
    )
    master_port: int = Field(0, ge=0, le=65535, description="rendezvous port; 0: a free one")


class DistributedTrainConfig(NodeModel):
    """Config of ``gnn.train_distributed``: a GraphSAGE trained on sampled neighbourhoods."""

    hidden: int = Field(64, ge=1, le=4096, description="hidden units")
    layers: int = Field(2, ge=1, le=4, description="SAGEConv layers (= sampling hops)")
    fanouts: list[int] = Field(
        default_factory=lambda: [10, 10],
        max_length=4,
        description="neighbours sampled per hop (-1: all); one per layer",
    )
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout between layers")
    batch_size: int = Field(
        1024, ge=1, le=1_000_000, description="global batch: seeds per optimiser step, all ranks"
    )
    epochs: int = Field(1, ge=1, le=1000, description="passes over the training nodes")
    max_steps: int = Field(0, ge=0, le=10_000_000, description="stop after this many; 0: all")
    lr: float = Field(0.01, gt=0, le=10, description="Adam learning rate")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of weights, batches, sampling")
    eval_nodes: int = Field(
        20_000, ge=1, le=1_000_000, description="test nodes scored (the first ones, in order)"
    )
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)

    @model_validator(mode="after")
    def _shapes(self) -> DistributedTrainConfig:
        """Every rank and every micro-batch gets the same number of seeds: then the averaged
        gradient is exactly the global batch's (the equivalence the tests check)."""
        if len(self.fanouts) != self.layers:
            raise ValueError(f"fanouts has {len(self.fanouts)} entries for {self.layers} layers")
        parts = self.distributed.world_size * self.distributed.accumulate_steps
        if self.batch_size % parts:
            raise ValueError(
                f"batch_size {self.batch_size} is not divisible by world_size * "
                f"accumulate_steps = {parts}"
            )
        return self
