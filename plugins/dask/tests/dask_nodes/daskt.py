"""Test nodes for the dask executor: each execution is logged with the pid that ran it and its
parent's, so that tests can count executions and find (and kill) the worker running a node."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from autoglm import NodeContext, NodeModel, NodeType, hookimpl


class WorkConfig(NodeModel):
    log: str
    add: int = 0
    sleep: float = 0.0
    #: on its first execution only, write the pids here and block (to be killed)
    hold_file: str | None = None


class Value(NodeModel):
    value: int = 0


class Work(NodeType):
    """Adds ``add`` to its input, reports progress, logs the execution."""

    name = "daskt.work"
    Config = WorkConfig
    Inputs = Value
    Outputs = Value

    def execute(self, inputs: Value, context: NodeContext) -> Value:
        context.progress(1, 2, "half way")
        hold = self.config.hold_file
        if hold and not Path(hold).exists():
            Path(hold).write_text(json.dumps({"pid": os.getpid(), "ppid": os.getppid()}))
            time.sleep(120)
        if self.config.sleep:
            time.sleep(self.config.sleep)
        with open(self.config.log, "a", encoding="utf-8") as handle:
            handle.write(
                json.dumps({"node": context.node_id, "pid": os.getpid(), "ppid": os.getppid()})
                + "\n"
            )
        context.progress(2, 2, "done")
        return Value(value=inputs.value + self.config.add)


@hookimpl
def register_nodes(register):
    register(Work)
