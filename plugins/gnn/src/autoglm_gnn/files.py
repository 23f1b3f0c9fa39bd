"""A user's graph from files: an edge list, node features, labels, and optional masks.

Formats, chosen by file suffix:

* edges: ``.csv`` / ``.tsv`` / ``.txt`` (whitespace) with two integer columns (source, target;
  an optional header row), or ``.npy`` of shape (E, 2) or (2, E);
* features: ``.csv`` / ``.tsv`` / ``.txt`` with one numeric row per node, ``.npy`` (N, F), or
  ``.npz`` (a scipy sparse matrix saved with ``scipy.sparse.save_npz``, or an array ``feat``);
* labels: one column (integers, or strings mapped to classes in sorted order) or ``.npy``;
* masks: ``.csv`` with header columns ``train,val,test`` (0/1 or true/false), or ``.npz``
  holding ``train_mask``, ``val_mask``, ``test_mask``. Without masks a seeded stratified split.

Every problem is reported with the file and, for tables, the row and column at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dgl
import numpy as np
import pandas as pd
import scipy.sparse as sp

from autoglm_gnn.errors import GraphFileError
from autoglm_gnn.graphs import MASKS, build_graph
from autoglm_gnn.planetoid import row_normalise
from autoglm_gnn.splits import seeded_split

TABLE_SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": r"\s+", ".edges": r"\s+"}
TRUE_WORDS = {"1", "true", "yes", "t", "y"}
FALSE_WORDS = {"0", "false", "no", "f", "n", ""}


@dataclass(frozen=True)
class FilesSpec:
    """Paths and options of the ``gnn.files`` node."""

    edges: str
    features: str
    labels: str
    masks: str | None = None
    directed: bool = False
    row_normalise: bool = False
    split_seed: int = 0
    train_per_class: int | None = None
    train_fraction: float = 0.6
    val_fraction: float = 0.2


def _existing(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise GraphFileError(path, f"{what} file not found")
    return path


def _read_table(path: Path, what: str) -> tuple[pd.DataFrame, list[str] | None]:
    """A table as strings, and its header (lower-cased) when the first row has a non-numeric
    cell. Label tables keep their first row: class names are not numeric either."""
    sep = TABLE_SEPARATORS.get(path.suffix.lower())
    if sep is None:
        raise GraphFileError(
            path, f"unsupported {what} format {path.suffix!r}; expected {_formats(what)}"
        )
    try:
        table = pd.read_csv(
            path, sep=sep, header=None, dtype=str, comment="#", keep_default_na=False
        )
    except pd.errors.EmptyDataError as exc:
        raise GraphFileError(path, f"{what} file is empty") from exc
    except Exception as exc:
        raise GraphFileError(path, f"cannot parse {what} table ({exc})") from exc
    first = pd.to_numeric(table.iloc[0].str.strip(), errors="coerce")
    header = None
    if bool(first.isna().any()) and what != "labels":
        header = [str(cell).strip().lower() for cell in table.iloc[0]]
        table = table.iloc[1:].reset_index(drop=True)
    if table.empty:
        raise GraphFileError(path, f"{what} file has no data rows")
    return table, header


def _numeric(table: pd.DataFrame, path: Path, what: str, header: list | None) -> np.ndarray:
    values = table.apply(lambda col: pd.to_numeric(col.str.strip(), errors="coerce"))
    bad = values.isna().to_numpy()
    if bad.any():
        row, col = np.argwhere(bad)[0]
        line = row + 1 + int(header is not None)
        raise GraphFileError(
            path,
            f"{what}: line {line}, column {col + 1}: expected a number, "
            f"found {table.iat[row, col]!r}",
        )
    return values.to_numpy()


def _formats(what: str) -> str:
    extra = {"edges": ".npy", "features": ".npy or .npz", "labels": ".npy", "masks": ".npz"}
    return f".csv, .tsv, .txt or {extra[what]}"


def read_edges(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    path = _existing(path, "edge list")
    if path.suffix.lower() == ".npy":
        array = _load_npy(path)
        if array.ndim == 2 and array.shape[0] == 2 and array.shape[1] != 2:
            array = array.T
        if array.ndim != 2 or array.shape[1] != 2:
            raise GraphFileError(
                path, f"edge array must have shape (E, 2) or (2, E), found {array.shape}"
            )
    else:
        table, header = _read_table(path, "edges")
        if table.shape[1] < 2:
            raise GraphFileError(
                path, f"edges: expected 2 columns (source, target), found {table.shape[1]}"
            )
        array = _numeric(table.iloc[:, :2], path, "edges", header)
    if not np.all(np.equal(np.mod(array, 1), 0)):
        raise GraphFileError(path, "edges: node ids must be integers")
    array = array.astype(np.int64)
    return array[:, 0], array[:, 1]


def read_features(path: str | Path) -> np.ndarray:
    path = _existing(path, "features")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = _load_npy(path)
    elif suffix == ".npz":
        array = _load_npz_features(path)
    else:
        table, header = _read_table(path, "features")
        array = _numeric(table, path, "features", header)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise GraphFileError(path, f"features must be a matrix (N, F), found shape {array.shape}")
    if not np.isfinite(array).all():
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise GraphFileError(path, f"features: row {row} holds NaN or infinity")
    return array.astype(np.float32)


def read_labels(path: str | Path) -> np.ndarray:
    path = _existing(path, "labels")
    if path.suffix.lower() == ".npy":
        raw = _load_npy(path).ravel()
    else:
        table, _ = _read_table(path, "labels")
        names = [str(cell).strip().lower() for cell in table.iloc[0]]
        if "label" in names:  # a header row naming the label column
            raw = table.iloc[1:, names.index("label")].str.strip().to_numpy()
        elif table.shape[1] == 1:
            raw = table.iloc[:, 0].str.strip().to_numpy()
        else:
            raise GraphFileError(
                path,
                f"labels: expected one column or a header with a 'label' column, "
                f"found {table.shape[1]} columns {names}",
            )
    numeric = pd.to_numeric(pd.Series(raw), errors="coerce")
    if not numeric.isna().any() and np.all(np.mod(numeric, 1) == 0) and numeric.min() >= 0:
        return numeric.to_numpy().astype(np.int64)
    # Class names: map to 0..C-1 in sorted order.
    if pd.Series(raw).eq("").any():
        row = int(np.flatnonzero(pd.Series(raw).eq("").to_numpy())[0])
        raise GraphFileError(path, f"labels: row {row} is empty")
    _, codes = np.unique(raw.astype(str), return_inverse=True)
    return codes.astype(np.int64)


def read_masks(path: str | Path, num_nodes: int) -> dict[str, np.ndarray]:
    path = _existing(path, "masks")
    if path.suffix.lower() == ".npz":
        with np.load(path) as archive:
            missing = [m for m in MASKS if m not in archive]
            if missing:
                raise GraphFileError(
                    path, f"masks: missing arrays {missing}; found {sorted(archive.files)}"
                )
            masks = {m: np.asarray(archive[m]).ravel() for m in MASKS}
    else:
        table, names = _read_table(path, "masks")
        wanted = ["train", "val", "test"]
        if names is None or any(w not in names for w in wanted):
            raise GraphFileError(
                path, f"masks: expected a header with columns {wanted}, found {names or 'none'}"
            )
        masks = {}
        for word, mask in zip(wanted, MASKS, strict=True):
            cells = table.iloc[:, names.index(word)].str.strip().str.lower()
            unknown = ~cells.isin(TRUE_WORDS | FALSE_WORDS)
            if unknown.any():
                row = int(np.flatnonzero(unknown.to_numpy())[0])
                raise GraphFileError(
                    path,
                    f"masks: line {row + 2}, column {word!r}: expected 0/1 or true/false, "
                    f"found {cells.iloc[row]!r}",
                )
            masks[mask] = cells.isin(TRUE_WORDS).to_numpy()
    for name, mask in masks.items():
        if mask.shape[0] != num_nodes:
            raise GraphFileError(
                path, f"masks: {name} has {mask.shape[0]} entries, expected {num_nodes} (nodes)"
            )
        masks[name] = mask.astype(bool)
    overlap = masks["train_mask"] & (masks["val_mask"] | masks["test_mask"])
    if overlap.any():
        raise GraphFileError(
            path, f"masks: node {int(np.flatnonzero(overlap)[0])} is in train and val/test"
        )
    return masks


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise GraphFileError(path, f"not a readable .npy array ({exc})") from exc


def _load_npz_features(path: Path) -> np.ndarray:
    try:
        return sp.load_npz(path).toarray()
    except Exception:
        pass
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "feat" not in archive:
                raise GraphFileError(
                    path,
                    f"expected a scipy sparse matrix or an array 'feat', found {archive.files}",
                )
            return np.asarray(archive["feat"])
    except GraphFileError:
        raise
    except Exception as exc:
        raise GraphFileError(path, f"not a readable .npz archive ({exc})") from exc


def read_files(spec: FilesSpec) -> dgl.DGLGraph:
    """The graph described by ``spec`` in the shared format."""
    src, dst = read_edges(spec.edges)
    feat = read_features(spec.features)
    labels = read_labels(spec.labels)
    n = feat.shape[0]
    if labels.shape[0] != n:
        raise GraphFileError(
            spec.labels, f"{labels.shape[0]} labels but the features file has {n} rows (nodes)"
        )
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        worst = int(src.min() if min(src.min(), dst.min()) < 0 else max(src.max(), dst.max()))
        raise GraphFileError(
            spec.edges, f"node id {worst} out of range: features define nodes 0..{n - 1}"
        )
    if spec.masks:
        masks = read_masks(spec.masks, n)
    else:
        masks = seeded_split(
            labels,
            seed=spec.split_seed,
            train_per_class=spec.train_per_class,
            train_fraction=spec.train_fraction,
            val_fraction=spec.val_fraction,
        )
    if spec.row_normalise:
        feat = row_normalise(sp.csr_matrix(feat)).toarray()
    return build_graph(src, dst, feat, labels, masks, undirected=not spec.directed)
