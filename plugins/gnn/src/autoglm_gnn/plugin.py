"""Entry point of the plugin: light on purpose (no heavy imports at module level)."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_gnn.nodes.distributed import TrainDistributedNode
from autoglm_gnn.nodes.loaders import FilesNode, GeomGCNNode, PlanetoidNode, SyntheticNode
from autoglm_gnn.nodes.profile import ProfileNode
from autoglm_gnn.nodes.training import EvaluateNode, PredictNode, SelectNode, TrainNode

NODE_TYPES = (
    SyntheticNode,
    PlanetoidNode,
    FilesNode,
    GeomGCNNode,
    ProfileNode,
    TrainNode,
    SelectNode,
    EvaluateNode,
    PredictNode,
    TrainDistributedNode,
)


@hookimpl
def register_nodes(register):
    """Hand every gnn node type to the host."""
    for node_type in NODE_TYPES:
        register(node_type)
