"""The graphs the graph benchmarks run on, written once as graph files.

Design decisions are judged on more than Cora: a homophilous citation graph (Cora, public
split), a heterophilous one (Actor, its 10 standard 60/20/20 splits) and contextual SBM graphs
whose homophily is a knob (one graph per level, gnn.synthetic's defaults otherwise). Each name
maps to a list of graph files: one per split (Actor) or a single one.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

#: Homophily levels of the CSBM sweep (edge homophily: share of edges inside a class).
CSBM_LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)
ACTOR_SPLITS = 10


def short_hash(value: Any) -> str:
    """A stable 10-hex name for a JSON value (configs, search settings): the graph benches
    file their units and records under it."""
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:10]


@functools.cache
def defaults_tag() -> str:
    """Ten hex digits naming the full configs of gnn.select's untuned defaults. Results that
    depend on them (the bar, the selections) are filed under it, so a changed default (GCNII's
    depth, 2026-12-01) recomputes those while searches and per-config runs are reused."""
    from autoglm_gnn.config import TrainConfig
    from autoglm_gnn.selection import default_candidates

    return short_hash([TrainConfig.model_validate(c).model_dump() for c in default_candidates()])


def select_folder() -> str:
    """graph_generalise's folder of guarded selections made with today's defaults (the older
    ``select/`` and ``select-guarded/`` folders hold selections no longer read)."""
    return f"select-{defaults_tag()}"


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
