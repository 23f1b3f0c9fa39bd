"""DDP mini-batch GraphSAGE training with neighbour sampling, launched on one machine.

Why batches are built here and not by DGL's ``DataLoader(use_ddp=True)``: the global batch of a
step is one seeded permutation slice that every rank computes alike, each rank takes its
contiguous share, and each share splits into ``accumulate_steps`` equal micro-batches. The
gradient DDP averages is then exactly the global batch's, so a DDP run can be checked against
one process on the same batch (and accumulation against one big batch) to ``allclose``.

Gradient compression is a DDP communication hook of our own (the same cast-divide-all-reduce as
torch's ``fp16_compress_hook``/``bf16_compress_hook``) so that it counts the bytes it hands to
the all-reduce: that is how "fp16 halves the traffic" is measured, not assumed.

Ranks are started with ``torch.multiprocessing.spawn`` and meet on ``tcp://master_addr:port``
(loopback by default); a multi-machine run starts the same ``train_rank`` with torchrun
(docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dgl
import torch
import torch.distributed as dist
import torch.nn.functional as F
from dgl.nn import SAGEConv
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from autoglm_gnn.graphs import load_graph_file

RESULT_FILE = "result.json"
MODEL_FILE = "model.pt"


@dataclass
class Job:
    """Everything a rank needs, picklable (it crosses ``spawn``)."""

    graph: str
    out_dir: str
    hidden: int = 64
    layers: int = 2
    fanouts: list[int] = field(default_factory=lambda: [10, 10])
    dropout: float = 0.0
    batch_size: int = 1024
    epochs: int = 1
    max_steps: int = 0
    lr: float = 0.01
    seed: int = 0
    eval_nodes: int = 20_000
    world_size: int = 1
    backend: str = "gloo"
    compression: str = "none"
    accumulate_steps: int = 1
    master_addr: str = "127.0.0.1"
    master_port: int = 0
    #: torch threads per rank; 0: the machine's cores shared out among the ranks
    threads: int = 0


class SAGE(nn.Module):
    """GraphSAGE (mean aggregator) on sampled blocks, one block per layer."""

    def __init__(self, in_feats: int, hidden: int, classes: int, layers: int, dropout: float):
        super().__init__()
        sizes = [in_feats] + [hidden] * (layers - 1) + [classes]
        self.convs = nn.ModuleList(SAGEConv(sizes[i], sizes[i + 1], "mean") for i in range(layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, blocks: list[Any], x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, (conv, block) in enumerate(zip(self.convs, blocks, strict=True)):
            h = conv(block, h)
            if i < len(self.convs) - 1:
                h = self.dropout(F.relu(h))
        return h


# ------------------------------------------------------------------ batches


def global_batches(train_ids: torch.Tensor, batch_size: int, epoch: int, seed: int):
    """The epoch's global batches: one seeded permutation, cut in full batches (the last,
    partial one is dropped so every step has the same size on every rank)."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    perm = train_ids[torch.randperm(train_ids.numel(), generator=generator)]
    count = perm.numel() // batch_size
    return [perm[i * batch_size : (i + 1) * batch_size] for i in range(count)]


def rank_share(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    size = batch.numel() // world_size
    return batch[rank * size : (rank + 1) * size]


# -------------------------------------------------------------- comm hooks


@dataclass
class CommCounter:
    """State of the counting all-reduce hook: the dtype sent and the bytes handed over."""

    dtype: torch.dtype | None
    bytes_sent: int = 0
    calls: int = 0


def counting_allreduce_hook(state: CommCounter, bucket):
    """All-reduce a gradient bucket (cast to ``state.dtype`` when compressing), averaged over
    the ranks, counting the bytes of the tensor actually communicated.

    ``bucket`` and the return value carry no annotations on purpose: DDP checks them against
    ``dist.GradBucket`` and ``Future``, and postponed annotations are strings that fail it."""
    buffer = bucket.buffer()
    world = dist.get_world_size()
    tensor = buffer if state.dtype is None else buffer.to(state.dtype)
    tensor.div_(world)
    state.bytes_sent += tensor.numel() * tensor.element_size()
    state.calls += 1
    future = dist.all_reduce(tensor, async_op=True).get_future()

    def decompress(done: torch.futures.Future) -> torch.Tensor:
        value = done.value()[0]
        if state.dtype is None:
            return value
        buffer.copy_(value)
        return buffer

    return future.then(decompress)


COMPRESSION = {"none": None, "fp16": torch.float16, "bf16": torch.bfloat16}


# ---------------------------------------------------------------- training


def _device(job: Job, rank: int) -> torch.device:
    if job.backend == "nccl":
        torch.cuda.set_device(rank % max(1, torch.cuda.device_count()))
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def train_rank(rank: int, job: Job) -> dict[str, Any]:
    """Train as rank ``rank`` of ``job.world_size`` (1: no process group, no DDP); rank 0
    writes the result and the weights to ``job.out_dir`` and returns the result."""
    torch.set_num_threads(job.threads or max(1, (os.cpu_count() or 1) // job.world_size))
    distributed = job.world_size > 1
    if distributed:
        dist.init_process_group(
            job.backend,
            init_method=f"tcp://{job.master_addr}:{job.master_port}",
            rank=rank,
            world_size=job.world_size,
        )
    try:
        return _train(rank, job, distributed)
    finally:
        if distributed:
            dist.destroy_process_group()


def _train(rank: int, job: Job, distributed: bool) -> dict[str, Any]:
    device = _device(job, rank)
    g = load_graph_file(job.graph)
    feat, label = g.ndata["feat"], g.ndata["label"]
    train_ids = torch.nonzero(g.ndata["train_mask"], as_tuple=True)[0]
    classes = int(label.max()) + 1
    torch.manual_seed(job.seed)  # the same initial weights on every rank and in one process
    dgl.seed(job.seed + rank)
    model = SAGE(feat.shape[1], job.hidden, classes, job.layers, job.dropout).to(device)
    counter = CommCounter(COMPRESSION[job.compression])
    net: nn.Module = model
    if distributed:
        net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        net.register_comm_hook(counter, counting_allreduce_hook)
    optimiser = torch.optim.Adam(model.parameters(), lr=job.lr)
    sampler = dgl.dataloading.NeighborSampler(job.fanouts)
    steps = timed = 0
    if distributed:
        dist.barrier()
    start = time.perf_counter()
    for epoch in range(job.epochs):
        for batch in global_batches(train_ids, job.batch_size, epoch, job.seed):
            share = rank_share(batch, rank, job.world_size)
            _step(net, optimiser, g, feat, label, sampler, share, job, device, distributed)
            steps += 1
            if steps == 1:  # the first step pays one-off set-up costs: time from the second
                start = time.perf_counter()
            else:
                timed += batch.numel()
            if job.max_steps and steps >= job.max_steps:
                break
        if job.max_steps and steps >= job.max_steps:
            break
    if distributed:
        dist.barrier()
    seconds = time.perf_counter() - start
    samples = steps * job.batch_size
    result = {
        "rank": rank,
        "world_size": job.world_size,
        "compression": job.compression,
        "accumulate_steps": job.accumulate_steps,
        "steps": steps,
        "samples": samples,
        "train_seconds": seconds,
        "samples_per_s": timed / seconds if seconds > 0 and timed else 0.0,
        "bytes_sent": counter.bytes_sent,
        "allreduce_calls": counter.calls,
    }
    if rank == 0:
        result["test_accuracy"] = evaluate(model, g, job, device)
        out = Path(job.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / MODEL_FILE)
        (out / RESULT_FILE).write_text(json.dumps(result, indent=2))
    return result


def _step(
    net: nn.Module,
    optimiser: torch.optim.Optimizer,
    g: Any,
    feat: torch.Tensor,
    label: torch.Tensor,
    sampler: Any,
    share: torch.Tensor,
    job: Job,
    device: torch.device,
    distributed: bool,
) -> None:
    """One optimiser step over this rank's share, in ``accumulate_steps`` micro-batches;
    gradients are all-reduced only on the last (``no_sync`` before it)."""
    net.train()
    micro = share.chunk(job.accumulate_steps)
    for i, seeds in enumerate(micro):
        last = i == len(micro) - 1
        sync = contextlib.nullcontext() if last or not distributed else net.no_sync()
        with sync:
            input_nodes, output_nodes, blocks = sampler.sample(g, seeds)
            blocks = [block.to(device) for block in blocks]
            logits = net(blocks, feat[input_nodes].to(device))
            loss = F.cross_entropy(logits, label[output_nodes].to(device))
            (loss / len(micro)).backward()
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)


@torch.no_grad()
def evaluate(model: nn.Module, g: Any, job: Job, device: torch.device) -> float:
    """Accuracy on the first ``eval_nodes`` test nodes, all neighbours (no sampling noise)."""
    model.eval()
    test_ids = torch.nonzero(g.ndata["test_mask"], as_tuple=True)[0][: job.eval_nodes]
    sampler = dgl.dataloading.MultiLayerFullNeighborSampler(job.layers)
    correct = 0
    for chunk in test_ids.split(4096):
        input_nodes, output_nodes, blocks = sampler.sample(g, chunk)
        blocks = [block.to(device) for block in blocks]
        logits = model(blocks, g.ndata["feat"][input_nodes].to(device))
        correct += int((logits.argmax(1).cpu() == g.ndata["label"][output_nodes]).sum())
    return correct / max(1, test_ids.numel())


# ---------------------------------------------------------------- launcher


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _spawned(rank: int, job: Job) -> None:
    train_rank(rank, job)


def launch(job: Job) -> dict[str, Any]:
    """Run ``job``: in this process for one rank, else ``world_size`` spawned ranks meeting on
    loopback. Returns rank 0's result (also in ``out_dir/result.json``)."""
    if job.world_size == 1:
        return train_rank(0, job)
    if not job.master_port:
        job.master_port = free_port(job.master_addr)
    import torch.multiprocessing as mp

    mp.spawn(_spawned, args=(job,), nprocs=job.world_size, join=True)
    return json.loads((Path(job.out_dir) / RESULT_FILE).read_text())


def job_settings(job: Job) -> dict[str, Any]:
    return asdict(job)
