"""Reader of the raw Planetoid files (``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}``).

We read the Python 2 pickles ourselves (``encoding="latin1"``) rather than through DGL's
dataset class, because DGL writes its processed cache next to the raw files and the shared data
folder must stay read-only. The construction follows Kipf & Welling's reference code and DGL's
``CitationGraphDataset``: test rows re-ordered by ``test.index``, isolated test ids of CiteSeer
padded with zero rows, features row-normalised, the public split 20 per class / 500 / 1000.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import dgl
import numpy as np
import scipy.sparse as sp

from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.graphs import build_graph

PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")


def _load_part(path: Path):
    if not path.is_file():
        raise GraphFileError(path, "Planetoid file not found (expected the raw ind.<name>.* files)")
    try:
        with path.open("rb") as f, warnings.catch_warnings():
            # The 2016 pickles name scipy.sparse.csr, a module scipy now deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            return pickle.load(f, encoding="latin1")
    except Exception as exc:
        raise GraphFileError(path, f"not a readable Planetoid pickle ({exc})") from exc


def _load_test_index(path: Path) -> np.ndarray:
    if not path.is_file():
        raise GraphFileError(path, "Planetoid test index not found")
    try:
        return np.array([int(line) for line in path.read_text().split()], dtype=np.int64)
    except ValueError as exc:
        raise GraphFileError(path, f"expected one integer node id per line ({exc})") from exc


def row_normalise(features: sp.spmatrix) -> sp.csr_matrix:
    """Divide each row by its sum (rows summing to 0 stay 0), as DGL's loader does."""
    features = sp.csr_matrix(features, dtype=np.float32)
    rowsum = np.asarray(features.sum(axis=1)).ravel()
    inv = np.divide(1.0, rowsum, out=np.zeros_like(rowsum), where=rowsum != 0)
    return sp.diags(inv).dot(features).tocsr()


def read_planetoid(root: str | Path, name: str = "cora") -> dgl.DGLGraph:
    """The Planetoid graph ``name`` from ``root`` with its public split, in the shared format."""
    root = Path(root)
    if not root.is_dir():
        raise GraphFileError(root, "Planetoid folder not found")
    _x, y, tx, ty, allx, ally, adjacency = (_load_part(root / f"ind.{name}.{p}") for p in PARTS)
    test_index = _load_test_index(root / f"ind.{name}.test.index")
    if not isinstance(adjacency, dict):
        raise GraphFileError(
            root / f"ind.{name}.graph",
            f"expected a dict of adjacency lists, found {type(adjacency).__name__}",
        )
    test_range = np.sort(test_index)
    if name == "citeseer":
        # Some CiteSeer test ids are isolated nodes absent from tx/ty: pad them with zeros.
        full = np.arange(test_range.min(), test_range.max() + 1)
        tx_ext = sp.lil_matrix((full.size, tx.shape[1]))
        tx_ext[test_range - test_range.min(), :] = tx
        ty_ext = np.zeros((full.size, y.shape[1]))
        ty_ext[test_range - test_range.min(), :] = ty
        tx, ty = tx_ext, ty_ext

    features = sp.vstack((allx, tx)).tolil()
    features[test_index, :] = features[test_range, :]
    labels_onehot = np.vstack((ally, ty))
    labels_onehot[test_index, :] = labels_onehot[test_range, :]
    labels = labels_onehot.argmax(axis=1)
    num_nodes = labels.shape[0]

    src = np.array([s for s, nbrs in adjacency.items() for _ in nbrs], dtype=np.int64)
    dst = np.array([d for nbrs in adjacency.values() for d in nbrs], dtype=np.int64)
    if src.size and max(src.max(), dst.max()) >= num_nodes:
        raise GraphFileError(
            root / f"ind.{name}.graph",
            f"node id {max(src.max(), dst.max())} out of range for {num_nodes} nodes",
        )

    masks = {m: np.zeros(num_nodes, dtype=bool) for m in ("train_mask", "val_mask", "test_mask")}
    masks["train_mask"][: y.shape[0]] = True
    masks["val_mask"][y.shape[0] : y.shape[0] + 500] = True
    masks["test_mask"][test_range] = True
    feat = row_normalise(features).toarray()
    return build_graph(src, dst, feat, labels, masks)
