"""Private test nodes for the run sandbox tests, loaded with ``--plugins-dir``: a node that
says which process ran it, one that spins the CPU ignoring cancellation, one that eats memory.
Each writes its pid to ``pid_file`` first, so a test can see the process that ran it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from autoglm import NodeContext, NodeModel, NodeType, hookimpl


class PidOut(NodeModel):
    pid: int


class WhereNode(NodeType):
    """Reports the pid of the process that executed it."""

    name = "sandboxnodes.where"
    Outputs = PidOut

    def execute(self, inputs, context: NodeContext) -> PidOut:
        return PidOut(pid=os.getpid())


class SpinConfig(NodeModel):
    pid_file: str = ""
    seconds: float = 1e9


class SpinNode(NodeType):
    """Busy-loops in pure Python and never checks for cancellation: only a kill stops it."""

    name = "sandboxnodes.spin"
    Config = SpinConfig
    Outputs = PidOut

    def execute(self, inputs, context: NodeContext) -> PidOut:
        if self.config.pid_file:
            Path(self.config.pid_file).write_text(str(os.getpid()))
        deadline = time.monotonic() + self.config.seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
        return PidOut(pid=os.getpid())


class HogConfig(NodeModel):
    pid_file: str = ""
    mb: int = 100_000
    chunk_mb: int = 16


class HogNode(NodeType):
    """Allocates ``mb`` MB, touching every page, ``chunk_mb`` at a time, then holds it."""

    name = "sandboxnodes.hog"
    Config = HogConfig
    Outputs = PidOut

    def execute(self, inputs, context: NodeContext) -> PidOut:
        if self.config.pid_file:
            Path(self.config.pid_file).write_text(str(os.getpid()))
        held = []
        chunk = self.config.chunk_mb
        for _ in range(self.config.mb // chunk):
            held.append(bytearray(b"x" * (chunk * 1024 * 1024)))
        time.sleep(60)
        return PidOut(pid=len(held))


class BlobConfig(NodeModel):
    kb: int = 100


class TextValue(NodeModel):
    value: str


class BlobNode(NodeType):
    """Outputs a text of ``kb`` kilobytes: a big value from a small request."""

    name = "sandboxnodes.blob"
    Config = BlobConfig
    Outputs = TextValue

    def execute(self, inputs, context: NodeContext) -> TextValue:
        return TextValue(value="x" * (self.config.kb * 1000))


@hookimpl
def register_nodes(register):
    for node_type in (WhereNode, SpinNode, HogNode, BlobNode):
        register(node_type)
