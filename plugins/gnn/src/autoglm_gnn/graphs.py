"""The graph file format shared by every loader and by the tuner plugin.

A graph file is ``dgl.save_graphs(path, [g])`` where ``g.ndata`` holds ``feat`` (float32),
``label`` (int64) and boolean ``train_mask``/``val_mask``/``test_mask``. Loaders build graphs
with :func:`build_graph` so every file obeys the same rules (symmetric, no self-loops, no
duplicate edges), and consumers read them back with :func:`load_graph_file`, which checks the
contract and reports what is wrong with a file instead of failing deep inside training.
"""

from __future__ import annotations

from pathlib import Path

import dgl
import numpy as np
import torch

from autoglm_gnn.errors import GraphFileError

MASKS = ("train_mask", "val_mask", "test_mask")
REQUIRED_FIELDS = ("feat", "label", *MASKS)


def build_graph(
    src: np.ndarray,
    dst: np.ndarray,
    feat: np.ndarray,
    label: np.ndarray,
    masks: dict[str, np.ndarray],
    *,
    undirected: bool = True,
) -> dgl.DGLGraph:
    """A DGL graph in the shared format. Edges are made symmetric (when ``undirected``),
    de-duplicated and stripped of self-loops: models add self-loops themselves where their
    normalisation needs them, so a file never double counts them."""
    num_nodes = int(feat.shape[0])
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if undirected:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    keep = src != dst
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    if pairs.size == 0:
        pairs = np.zeros((0, 2), dtype=np.int64)
    g = dgl.graph(
        (torch.from_numpy(pairs[:, 0]), torch.from_numpy(pairs[:, 1])), num_nodes=num_nodes
    )
    g.ndata["feat"] = torch.as_tensor(np.asarray(feat, dtype=np.float32))
    g.ndata["label"] = torch.as_tensor(np.asarray(label, dtype=np.int64))
    for name in MASKS:
        g.ndata[name] = torch.as_tensor(np.asarray(masks[name], dtype=bool))
    return g


def save_graph(path: str | Path, g: dgl.DGLGraph) -> str:
    """Write ``g`` in the shared format and return the path as a string (a node output)."""
    check_graph(g, path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dgl.save_graphs(str(path), [g])
    return str(path)


def load_graph_file(path: str | Path) -> dgl.DGLGraph:
    """Read a graph file written by a gnn loader, checking that it follows the contract."""
    path = Path(path)
    if not path.is_file():
        raise GraphFileError(path, "graph file not found (expected a file written by a gnn loader)")
    try:
        graphs, _ = dgl.load_graphs(str(path))
    except Exception as exc:  # DGL raises bare DGLError/RuntimeError on foreign files
        raise GraphFileError(path, f"not a DGL graph file ({type(exc).__name__}: {exc})") from exc
    if len(graphs) != 1:
        raise GraphFileError(path, f"expected exactly one graph in the file, found {len(graphs)}")
    g = graphs[0]
    for name in MASKS:
        # DGL stores bool tensors as uint8; give readers the bool masks of the contract.
        if name in g.ndata and g.ndata[name].dtype == torch.uint8:
            g.ndata[name] = g.ndata[name].bool()
    check_graph(g, path)
    return g


def check_graph(g: dgl.DGLGraph, path: str | Path = "<graph>") -> None:
    """Raise :class:`GraphFileError` unless ``g`` holds every field the contract requires."""
    missing = [name for name in REQUIRED_FIELDS if name not in g.ndata]
    if missing:
        raise GraphFileError(
            path, f"node data lacks {missing}; expected fields {list(REQUIRED_FIELDS)}"
        )
    n = g.num_nodes()
    feat, label = g.ndata["feat"], g.ndata["label"]
    if feat.dim() != 2 or feat.dtype != torch.float32:
        raise GraphFileError(
            path,
            f"'feat' must be a float32 matrix, found {feat.dtype} of shape {tuple(feat.shape)}",
        )
    if label.dim() != 1 or label.dtype != torch.int64:
        raise GraphFileError(
            path,
            f"'label' must be an int64 vector, found {label.dtype} of shape {tuple(label.shape)}",
        )
    if n and int(label.min()) < 0:
        raise GraphFileError(path, f"'label' must be >= 0, found {int(label.min())}")
    for name in MASKS:
        mask = g.ndata[name]
        if mask.dtype != torch.bool or mask.dim() != 1:
            raise GraphFileError(path, f"'{name}' must be a bool vector, found {mask.dtype}")
    if n and not bool(g.ndata["train_mask"].any()):
        raise GraphFileError(path, "'train_mask' selects no node; training needs labelled nodes")


def resplit_files(
    path: str | Path, count: int, folder: str | Path, first_seed: int = 0
) -> list[str]:
    """``count`` copies of the graph file at ``path`` with re-drawn training and validation
    nodes (:func:`autoglm_gnn.splits.resplit`, seeds ``first_seed``..), written under
    ``folder`` once: a file's name carries a digest of the source file, so a changed source
    gets new copies and an unchanged one reuses them."""
    import hashlib

    from autoglm_gnn.splits import resplit

    path, folder = Path(path), Path(folder)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    out = []
    g = None
    for seed in range(first_seed, first_seed + count):
        target = folder / f"{path.stem}-{digest}-resplit{seed}.bin"
        if not target.is_file():
            g = g if g is not None else load_graph_file(path)
            train, val = resplit(
                g.ndata["label"].numpy(),
                g.ndata["train_mask"].numpy(),
                g.ndata["val_mask"].numpy(),
                seed,
            )
            copy = g.clone()
            copy.ndata["train_mask"] = torch.from_numpy(train)
            copy.ndata["val_mask"] = torch.from_numpy(val)
            tmp = target.with_suffix(".tmp")
            save_graph(tmp, copy)
            tmp.replace(target)
        out.append(str(target))
    return out
