"""Reader of the Geom-GCN benchmark files (Pei et al., ICLR 2020): Actor ("film"), the WebKB
pages (Cornell, Texas, Wisconsin) and the Wikipedia networks (Chameleon, Squirrel).

These are the files PyG's ``Actor``/``WebKB``/``WikipediaNetwork`` and DGL's geom-gcn datasets
read, laid out as the benchmark ships them::

    ROOT/<name>/out1_node_feature_label.txt   node_id <TAB> features <TAB> label (header line)
    ROOT/<name>/out1_graph_edges.txt          source <TAB> target (header line)
    ROOT/splits/<name>_split_0.6_0.2_<i>.npz  train_mask, val_mask, test_mask (10 splits)

Actor's features are lists of active keyword indices (binary bag of words); the other graphs'
are dense comma-separated values. We read the text ourselves (DGL's dataset classes download
and write caches next to the data; the shared data folder stays read-only) and apply the
shared graph rules: symmetric edges, no duplicates, no self-loops. The heterophily literature
reports mean and spread over the 10 fixed splits, so a split is part of the graph, chosen by
index.
"""

from __future__ import annotations

from pathlib import Path

import dgl
import numpy as np
import scipy.sparse as sp

from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.graphs import MASKS, build_graph
from autoglm_gnn.planetoid import row_normalise

#: Benchmark names; ``actor`` is PyG's name of the ``film`` files.
ALIASES = {"actor": "film"}
#: Graphs whose feature column lists active indices instead of values.
INDEX_FEATURES = {"film"}
#: Actor's keyword vocabulary (indices 0-931; PyG and DGL fix the width, as a node's list may
#: miss the largest index).
FILM_FEATURES = 932
SPLITS = 10


def folder_name(name: str) -> str:
    """The benchmark's folder name for ``name`` (``actor`` -> ``film``), lower case."""
    name = name.lower()
    return ALIASES.get(name, name)


def split_file(root: str | Path, name: str, split: int) -> Path:
    """The split file of ``name`` (``splits/`` beside the graph folders, or inside its folder)."""
    stem = f"{folder_name(name)}_split_0.6_0.2_{split}.npz"
    root = Path(root)
    for candidate in (root / "splits" / stem, root / folder_name(name) / stem):
        if candidate.is_file():
            return candidate
    return root / "splits" / stem


def _lines(path: Path) -> list[list[str]]:
    """Tab-separated rows after the header line."""
    if not path.is_file():
        raise GraphFileError(path, "geom-gcn file not found")
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return [row.rstrip("\n").split("\t") for row in rows if row.strip()]


def _read_nodes(path: Path, index_features: bool) -> tuple[sp.csr_matrix, np.ndarray]:
    ids, labels, columns, values, dense = [], [], [], [], []
    for line_no, row in enumerate(_lines(path), start=2):
        if len(row) != 3:
            raise GraphFileError(
                path, f"line {line_no}: expected 3 tab-separated columns, found {len(row)}"
            )
        try:
            ids.append(int(row[0]))
            labels.append(int(row[2]))
            items = [item for item in row[1].split(",") if item != ""]
            if index_features:
                columns.append(np.array(items, dtype=np.int64))
            else:
                dense.append(np.array(items, dtype=np.float32))
        except ValueError as exc:
            raise GraphFileError(path, f"line {line_no}: expected numbers ({exc})") from exc
    n = len(ids)
    order = np.asarray(ids, dtype=np.int64)
    if n == 0 or sorted(order.tolist()) != list(range(n)):
        raise GraphFileError(path, f"node ids must be 0..{n - 1}, each once")
    label = np.empty(n, dtype=np.int64)
    label[order] = labels
    if index_features:
        width = max(FILM_FEATURES, 1 + max((int(c.max()) for c in columns if c.size), default=0))
        rows = np.repeat(order, [c.size for c in columns])
        cols = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        values = np.ones(cols.size, dtype=np.float32)
        feat = sp.csr_matrix((values, (rows, cols)), shape=(n, width))
        feat.data[:] = 1.0  # a keyword listed twice is still one keyword
    else:
        widths = {v.size for v in dense}
        if len(widths) != 1:
            raise GraphFileError(path, f"feature rows of different lengths {sorted(widths)}")
        matrix = np.empty((n, widths.pop()), dtype=np.float32)
        matrix[order] = np.stack(dense)
        feat = sp.csr_matrix(matrix)
    return feat, label


def _read_edges(path: Path, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        pairs = np.array([[int(a), int(b)] for a, b in _lines(path)], dtype=np.int64)
    except ValueError as exc:
        raise GraphFileError(path, f"expected two integer node ids per line ({exc})") from exc
    pairs = pairs.reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= num_nodes):
        raise GraphFileError(path, f"node id out of range 0..{num_nodes - 1}")
    return pairs[:, 0], pairs[:, 1]


def read_split(path: Path, num_nodes: int) -> dict[str, np.ndarray]:
    """The three masks of a split file, as bool vectors over ``num_nodes``."""
    if not path.is_file():
        raise GraphFileError(path, "geom-gcn split file not found")
    with np.load(path) as data:
        missing = [m for m in MASKS if m not in data]
        if missing:
            raise GraphFileError(path, f"split file lacks {missing}")
        masks = {m: np.asarray(data[m]).astype(bool) for m in MASKS}
    for name, mask in masks.items():
        if mask.shape != (num_nodes,):
            raise GraphFileError(path, f"{name} has shape {mask.shape}, expected ({num_nodes},)")
    return masks


def read_geomgcn(
    root: str | Path, name: str = "film", split: int = 0, *, normalise: bool = True
) -> dgl.DGLGraph:
    """Graph ``name`` with split ``split`` (0-9) from ``root``, in the shared format.

    ``normalise`` divides each feature row by its sum, as Geom-GCN's own preprocessing (and
    the H2GCN, GPR-GNN and GCNII code on these graphs) does.
    """
    folder = Path(root) / folder_name(name)
    if not folder.is_dir():
        raise GraphFileError(folder, "geom-gcn graph folder not found")
    feat, label = _read_nodes(
        folder / "out1_node_feature_label.txt", folder_name(name) in INDEX_FEATURES
    )
    src, dst = _read_edges(folder / "out1_graph_edges.txt", feat.shape[0])
    masks = read_split(split_file(root, name, split), feat.shape[0])
    if normalise:
        feat = row_normalise(feat)
    return build_graph(src, dst, feat.toarray(), label, masks)
