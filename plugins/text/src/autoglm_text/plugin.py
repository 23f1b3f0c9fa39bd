"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_text.node_generate import TextGenerateNode
from autoglm_text.node_index import IndexNode
from autoglm_text.node_prompt import PromptNode
from autoglm_text.node_retrieve import RetrieveNode
from autoglm_text.node_split import SplitNode
from autoglm_text.node_task import TaskTypeNode


@hookimpl
def register_nodes(register):
    """The text task nodes: recognise, index, retrieve, split, prompt, generate."""
    for node_type in (
        TaskTypeNode,
        IndexNode,
        RetrieveNode,
        SplitNode,
        PromptNode,
        TextGenerateNode,
    ):
        register(node_type)
