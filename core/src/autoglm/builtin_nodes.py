"""Node types that ship with the core: plumbing every workflow may need, nothing heavy."""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from autoglm.context import NodeContext
from autoglm.hookspecs import hookimpl
from autoglm.nodes import EmptyModel, NodeModel, NodeType


class ValueIO(NodeModel):
    value: Any = None


class NoopNode(NodeType):
    """Passes its input value through unchanged (fan-in points, tests, benchmarks)."""

    name = "core.noop"
    Inputs = ValueIO
    Outputs = ValueIO

    def execute(self, inputs: ValueIO, context: NodeContext) -> ValueIO:
        return ValueIO(value=inputs.value)


class ConstConfig(NodeModel):
    value: Any = None


class ConstNode(NodeType):
    """Emits the value given in its config."""

    name = "core.const"
    Config = ConstConfig
    Inputs = EmptyModel
    Outputs = ValueIO

    def execute(self, inputs: EmptyModel, context: NodeContext) -> ValueIO:
        assert isinstance(self.config, ConstConfig)
        return ValueIO(value=self.config.value)


#: The longest ``core.sleep``. The node paces demos and tests and lets timeouts be seen; an hour
#: covers that, and a longer sleep would only hold a run slot (issue 11: two ``1e9`` sleeps held
#: both of a service's slots until an admin cancelled them).
MAX_SLEEP_SECONDS = 3600.0


class SleepConfig(NodeModel):
    seconds: float = Field(1.0, ge=0, le=MAX_SLEEP_SECONDS, description="Seconds to wait.")


class SleepNode(NodeType):
    """Waits, checking for cancellation every 10 ms; passes its input through. Useful to see
    parallel branches overlap and timeouts stop work."""

    name = "core.sleep"
    Config = SleepConfig
    Inputs = ValueIO
    Outputs = ValueIO

    def execute(self, inputs: ValueIO, context: NodeContext) -> ValueIO:
        assert isinstance(self.config, SleepConfig)
        deadline = time.monotonic() + self.config.seconds
        while time.monotonic() < deadline:
            context.check_cancelled()
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
        return ValueIO(value=inputs.value)


@hookimpl
def register_nodes(register):
    for node_type in (NoopNode, ConstNode, SleepNode):
        register(node_type)


@hookimpl
def register_executors(register):
    from autoglm.executors import LocalExecutor

    register(LocalExecutor)
