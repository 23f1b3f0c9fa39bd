"""Entry point of the textkit plugin (``[project.entry-points.autoglm] textkit = ...``)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_textkit.router import KeywordRouterNode
from autoglm_textkit.split import SplitNode


@hookimpl
def register_nodes(register):
    register(SplitNode)
    register(KeywordRouterNode)
