"""``gnn.profile``: statistics of any graph file (the loaders also output them)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm_gnn.nodes.training import GraphInput


class ProfileOutputs(NodeModel):
    profile: dict[str, Any] = Field(description="all statistics, as the loaders output them")
    nodes: int
    edges: int
    feature_dim: int
    classes: int
    edge_homophily: float
    isolated_nodes: int


class ProfileNode(NodeType):
    """Profile a graph: size, degrees, density, features, classes, homophily, isolated nodes."""

    name = "gnn.profile"
    description = "Graph statistics: degrees, density, features, classes, homophily, isolated"
    Inputs = GraphInput
    Outputs = ProfileOutputs

    def init(self, config, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn.graphs import load_graph_file
        from autoglm_gnn.profiler import profile_graph

        self._load, self._profile = load_graph_file, profile_graph

    def execute(self, inputs: GraphInput, context: NodeContext) -> ProfileOutputs:
        stats = self._profile(self._load(inputs.graph))
        headline = {key: stats[key] for key in ProfileOutputs.model_fields if key != "profile"}
        return ProfileOutputs(profile=stats, **headline)
