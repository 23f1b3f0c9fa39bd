"""The graphs the graph benchmarks run on, written once as graph files.

Design decisions are judged on more than Cora: a homophilous citation graph (Cora, public
split), a heterophilous one (Actor, its 10 standard 60/20/20 splits) and contextual SBM graphs
whose homophily is a knob (one graph per level, gnn.synthetic's defaults otherwise). Each name
maps to a list of graph files: one per split (Actor) or a single one.
"""

from __future__ import annotations

from pathlib import Path

#: Homophily levels of the CSBM sweep (edge homophily: share of edges inside a class).
CSBM_LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)
ACTOR_SPLITS = 10


def graph_names(spec: str) -> list[str]:
    """``cora,actor,csbm`` -> the graph names (``csbm`` expands to one per level)."""
    names = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part == "csbm":
            names += [f"csbm-{level}" for level in CSBM_LEVELS]
        else:
            names.append(part)
    return names


def build(name: str, data_dir: Path, work: Path) -> list[str]:
    """Graph files of ``name`` (``cora``, ``actor``, ``csbm-<homophily>``) under ``work``."""
    from autoglm_gnn.graphs import save_graph

    work.mkdir(parents=True, exist_ok=True)
    if name == "cora":
        from autoglm_gnn.planetoid import read_planetoid

        path = work / "cora.bin"
        if not path.is_file():
            save_graph(path, read_planetoid(data_dir / "planetoid", "cora"))
        return [str(path)]
    if name == "actor":
        from autoglm_gnn.geomgcn import read_geomgcn

        paths = []
        for split in range(ACTOR_SPLITS):
            path = work / f"actor-{split}.bin"
            if not path.is_file():
                save_graph(path, read_geomgcn(data_dir / "geomgcn", "film", split))
            paths.append(str(path))
        return paths
    if name.startswith("csbm-"):
        from autoglm_gnn.synthetic import CSBMSpec, generate_csbm

        path = work / f"{name}.bin"
        if not path.is_file():
            save_graph(path, generate_csbm(CSBMSpec(homophily=float(name[5:]), seed=0)))
        return [str(path)]
    raise SystemExit(f"unknown graph {name!r}: expected cora, actor or csbm-<homophily>")
