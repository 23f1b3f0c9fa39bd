"""Loader nodes: each writes one graph file in the shared format and profiles it, so a tuner
can read the graph by path and warm-start from runs on graphs with a similar profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputDir, InputPath, UnpickleFrom

GRAPH_FILE = "graph.bin"


class LoaderOutputs(NodeModel):
    path: str = Field(description="graph file (dgl.save_graphs) in the shared format")
    profile: dict[str, Any] = Field(description="graph statistics from gnn.profile")


class _Loader(NodeType):
    """Shared plumbing: build the graph in ``build``, then save and profile it."""

    Outputs = LoaderOutputs

    def init(self, config, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn import graphs, profiler

        self._save, self._profile = graphs.save_graph, profiler.profile_graph

    def build(self, context: NodeContext, inputs: Any = None):
        raise NotImplementedError

    def execute(self, inputs, context: NodeContext) -> LoaderOutputs:
        g = self.build(context, inputs)
        path = self._save(context.artifacts_dir / GRAPH_FILE, g)
        profile = self._profile(g)
        context.log.info("graph written", path=path, nodes=profile["nodes"], edges=profile["edges"])
        return LoaderOutputs(path=path, profile=profile)


#: Largest synthetic graph: ogbn-arxiv size and more, while the generator's arrays (features
#: in float64, edges in int64) stay near a gigabyte. ``nodes: 1e9`` tried to allocate 7.45 GiB
#: for its labels alone (issue 11).
MAX_SYNTHETIC_NODES = 1_000_000
MAX_SYNTHETIC_EDGES = 20_000_000
MAX_SYNTHETIC_FEATURE_VALUES = 100_000_000


class SyntheticConfig(NodeModel):
    nodes: int = Field(1000, ge=2, le=MAX_SYNTHETIC_NODES, description="number of nodes")
    classes: int = Field(4, ge=2, le=1000, description="number of communities (= classes)")
    avg_degree: float = Field(8.0, gt=0, le=1000, description="expected degree of a node")
    homophily: float = Field(0.8, ge=0, le=1, description="probability an edge stays in-class")
    features: int = Field(32, ge=1, le=10_000, description="feature dimension")
    feature_signal: float = Field(
        1.0, ge=0, description="distance of class means from the origin over the noise scale"
    )
    train_per_class: int = Field(20, ge=1, description="labelled training nodes per class")
    val_fraction: float = Field(
        0.3, gt=0, lt=1, description="share of the remaining nodes for validation (rest: test)"
    )
    seed: int = Field(0, description="seed: the same seed gives the same graph")

    @model_validator(mode="after")
    def _size(self) -> SyntheticConfig:
        """Each field has its own maximum; their products size the arrays, so bound them too."""
        edges = self.nodes * self.avg_degree / 2
        if edges > MAX_SYNTHETIC_EDGES:
            raise ValueError(
                f"nodes * avg_degree / 2 = {edges:.0f} edges; at most {MAX_SYNTHETIC_EDGES}"
            )
        values = self.nodes * self.features
        if values > MAX_SYNTHETIC_FEATURE_VALUES:
            raise ValueError(
                f"nodes * features = {values} feature values; at most "
                f"{MAX_SYNTHETIC_FEATURE_VALUES}"
            )
        return self


class SyntheticNode(_Loader):
    """A seeded contextual stochastic block model graph (runs offline)."""

    name = "gnn.synthetic"
    description = "Seeded synthetic graph (contextual SBM): communities, homophily, feature signal"
    Config = SyntheticConfig

    def build(self, context: NodeContext, inputs: Any = None):
        from autoglm_gnn.synthetic import CSBMSpec, generate_csbm

        return generate_csbm(CSBMSpec(**self.config.model_dump()))


class PlanetoidConfig(NodeModel):
    root: UnpickleFrom = Field(
        "",
        description="folder with the raw ind.<name>.* files (Python pickles, so a folder the "
        "policy must trust for unpickling); empty: $AUTOGLM_DATA_DIR/planetoid",
    )
    name: str = Field(
        "cora",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="dataset name in the file names: cora, citeseer, pubmed (a plain name: "
        "it is joined to root, so no separators or '..')",
    )


class PlanetoidInputs(NodeModel):
    root: UnpickleFrom | None = Field(
        None,
        description="folder of the raw (pickled) files, overriding config.root (so a run input "
        "such as $inputs.data_dir can choose it)",
    )


class PlanetoidNode(_Loader):
    """A Planetoid citation graph (Cora, CiteSeer, PubMed) with its public split."""

    name = "gnn.planetoid"
    description = "Planetoid citation graph from its raw files, public split, row-normalised"
    Config = PlanetoidConfig
    Inputs = PlanetoidInputs

    @classmethod
    def state_fingerprint(
        cls, config: PlanetoidConfig, inputs: PlanetoidInputs, context: NodeContext
    ) -> str:
        """The raw files it reads (a user may point ``root`` at a folder of their own)."""
        from autoglm.fingerprints import folder_fingerprint
        from autoglm_gnn.paths import planetoid_dir

        root = inputs.root or config.root or str(planetoid_dir())
        return folder_fingerprint(root, [f"ind.{config.name}.*"])

    def build(self, context: NodeContext, inputs: Any = None):
        from autoglm_gnn.paths import planetoid_dir
        from autoglm_gnn.planetoid import read_planetoid

        root = (inputs.root if inputs else None) or self.config.root or str(planetoid_dir())
        return read_planetoid(root, self.config.name)


class GeomGCNConfig(NodeModel):
    root: InputDir = Field(
        "",
        description="folder holding <name>/out1_*.txt and splits/ (read only: text and .npz "
        "without pickles); empty: $AUTOGLM_DATA_DIR/geomgcn",
    )
    name: str = Field(
        "film",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="graph folder: film (alias actor), cornell, texas, wisconsin, chameleon, "
        "squirrel (a plain name: it is joined to root)",
    )
    split: int = Field(0, ge=0, le=99, description="which of the 10 standard splits (0-9)")
    row_normalise: bool = Field(
        True, description="divide each feature row by its sum (Geom-GCN's preprocessing)"
    )


class GeomGCNInputs(NodeModel):
    root: InputDir | None = Field(
        None, description="folder of the geom-gcn files, overriding config.root (a run input)"
    )


class GeomGCNNode(_Loader):
    """A Geom-GCN benchmark graph (Actor, WebKB, Wikipedia) with one of its 10 splits."""

    name = "gnn.geomgcn"
    description = "Geom-GCN heterophily graph (Actor/film, WebKB...) with one of its 10 splits"
    Config = GeomGCNConfig
    Inputs = GeomGCNInputs

    @staticmethod
    def _root(config: GeomGCNConfig, inputs: GeomGCNInputs | None) -> str:
        from autoglm_gnn.paths import geomgcn_dir

        return (inputs.root if inputs else None) or config.root or str(geomgcn_dir())

    @classmethod
    def state_fingerprint(
        cls, config: GeomGCNConfig, inputs: GeomGCNInputs, context: NodeContext
    ) -> str:
        """The two text files and the split file it reads."""
        from autoglm.fingerprints import files_fingerprint
        from autoglm_gnn.geomgcn import folder_name, split_file

        root = cls._root(config, inputs)
        folder = Path(root) / folder_name(config.name)
        return files_fingerprint(
            [
                folder / "out1_node_feature_label.txt",
                folder / "out1_graph_edges.txt",
                split_file(root, config.name, config.split),
            ]
        )

    def build(self, context: NodeContext, inputs: Any = None):
        from autoglm_gnn.geomgcn import read_geomgcn

        cfg: GeomGCNConfig = self.config
        return read_geomgcn(
            self._root(cfg, inputs), cfg.name, cfg.split, normalise=cfg.row_normalise
        )


class FilesConfig(NodeModel):
    edges: InputPath = Field(description="edge list: .csv/.tsv/.txt (source, target) or .npy (E,2)")
    features: InputPath = Field(
        description="node features: .csv/.tsv/.txt rows, .npy (N,F) or .npz"
    )
    labels: InputPath = Field(description="node labels: one column (ints or class names) or .npy")
    masks: InputPath | None = Field(
        None, description="train/val/test masks: .csv with header train,val,test, or .npz"
    )
    directed: bool = Field(False, description="keep edges one-way (default: symmetrise)")
    row_normalise: bool = Field(False, description="divide each feature row by its sum")
    split_seed: int = Field(0, description="seed of the split made when masks are not given")
    train_per_class: int | None = Field(
        None, ge=1, description="Planetoid-style split: labelled nodes per class"
    )
    train_fraction: float = Field(0.6, ge=0, lt=1, description="fractional split: train share")
    val_fraction: float = Field(0.2, gt=0, lt=1, description="validation share")


class FilesNode(_Loader):
    """A user's graph from an edge list, features, labels and optional masks."""

    name = "gnn.files"
    description = "Graph from edge list + features + labels files (masks or a seeded split)"
    Config = FilesConfig

    @classmethod
    def state_fingerprint(cls, config: FilesConfig, inputs: Any, context: NodeContext) -> str:
        """The user's files (sizes, modification times): an edited file is read again."""
        from autoglm.fingerprints import files_fingerprint

        named = (config.edges, config.features, config.labels, config.masks)
        return files_fingerprint(p for p in named if p)

    def build(self, context: NodeContext, inputs: Any = None):
        from autoglm_gnn.files import FilesSpec, read_files

        return read_files(FilesSpec(**self.config.model_dump()))
