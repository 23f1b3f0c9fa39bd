"""A private test node for the event stream tests (loaded with ``--plugins-dir``): reports
progress and logs a line at each of its steps, so a watcher can see both arrive live."""

from __future__ import annotations

import time

from autoglm import NodeContext, NodeModel, NodeType, hookimpl


class StepsConfig(NodeModel):
    steps: int = 5
    pause: float = 0.3


class Done(NodeModel):
    steps: int


class StepsNode(NodeType):
    """Counts ``steps`` steps, ``pause`` seconds apart, reporting each one."""

    name = "chatty.steps"
    Config = StepsConfig
    Outputs = Done

    def execute(self, inputs, context: NodeContext) -> Done:
        config = self.config
        for step in range(1, config.steps + 1):
            time.sleep(config.pause)
            context.progress(step, config.steps, f"step {step}")
            context.log.info("step done", step=step)
        return Done(steps=config.steps)


@hookimpl
def register_nodes(register):
    register(StepsNode)
