"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_multimodal.nodes.align import AlignNode
from autoglm_multimodal.nodes.audio import AudioNode
from autoglm_multimodal.nodes.dataset import DatasetNode
from autoglm_multimodal.nodes.fuse import FuseNode
from autoglm_multimodal.nodes.image import ImageNode
from autoglm_multimodal.nodes.source import PairDigitsNode, SplitNode
from autoglm_multimodal.nodes.table import TableNode
from autoglm_multimodal.nodes.text import TextNode

NODE_TYPES = (
    PairDigitsNode,
    SplitNode,
    AudioNode,
    ImageNode,
    TextNode,
    TableNode,
    AlignNode,
    DatasetNode,
    FuseNode,
)


@hookimpl
def register_nodes(register):
    """Hand every multimodal node type to the host."""
    for node_type in NODE_TYPES:
        register(node_type)
