"""Tables: typed columns, missing values, categorical encoding and scaling, fitted on the
training rows only and saved for inference.

A numeric column's fill value and scale, and a categorical column's categories, come from the
rows of training items; a category first seen in validation or test encodes as all zeros
(as it would in deployment). A cell that cannot be read as its column's type makes its item a
located bad item instead of a silent NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_multimodal.errors import MultimodalError

OTHER = "__other__"
MISSING = "__missing__"


def read_table(path: str | Path):
    """A CSV/TSV or Parquet file as a pandas DataFrame of strings (typing happens later)."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError:
                raise MultimodalError(
                    f"{path}: reading Parquet needs pyarrow "
                    "(pip install 'autoglm-multimodal[parquet]')"
                ) from None
            return frame.astype(object).where(frame.notna(), None)
        sep = "\t" if suffix in {".tsv", ".tab"} else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except MultimodalError:
        raise
    except Exception as exc:  # pandas' parser errors: located
        raise MultimodalError(f"{path}: cannot read the table: {exc}") from None


def infer_kind(values: list[Any]) -> str:
    """numeric when every present value parses as a number, else categorical."""
    present = [v for v in values if v is not None and not _missing(v)]
    if not present:
        return "numeric"
    try:
        [float(v) for v in present]
    except (TypeError, ValueError):
        return "categorical"
    return "numeric"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def parse_number(value: Any) -> float | None:
    """The number of a cell (None when missing); ValueError when it is not a number."""
    if _missing(value):
        return None
    number = float(value)
    if not np.isfinite(number):
        raise ValueError("not finite")
    return number


@dataclass
class TableEncoder:
    """What was fitted on the training rows, per column: enough to encode new rows."""

    numeric: dict[str, dict[str, float]] = field(default_factory=dict)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    indicators: bool = True
    fitted_on: int = 0

    @classmethod
    def fit(
        cls,
        rows: list[dict[str, Any]],
        kinds: dict[str, str],
        fill: str,
        indicators: bool,
        max_categories: int,
        scale: bool,
    ) -> TableEncoder:
        if not rows:
            raise MultimodalError("no training rows to fit the table encoder on")
        encoder = cls(indicators=indicators, fitted_on=len(rows))
        for column, kind in kinds.items():
            if kind == "numeric":
                values = np.asarray(
                    [v for r in rows if (v := r[column]) is not None], dtype=np.float64
                )
                if values.size == 0:
                    center = 0.0
                else:
                    center = {"mean": values.mean(), "median": np.median(values), "zero": 0.0}[fill]
                filled = np.asarray([center if r[column] is None else r[column] for r in rows])
                mean, std = (filled.mean(), max(filled.std(), 1e-6)) if scale else (0.0, 1.0)
                encoder.numeric[column] = {
                    "fill": float(center),
                    "mean": float(mean),
                    "std": float(std),
                }
            else:
                counts: dict[str, int] = {}
                for r in rows:
                    key = MISSING if r[column] is None else str(r[column])
                    counts[key] = counts.get(key, 0) + 1
                kept = sorted(counts, key=lambda k: (-counts[k], k))
                encoder.categorical[column] = sorted(kept[:max_categories])
        return encoder

    def columns(self) -> list[str]:
        """Names of the encoded output columns, in order."""
        names = []
        for column in self.numeric:
            names.append(column)
            if self.indicators:
                names.append(f"{column}__missing")
        for column, categories in self.categorical.items():
            names += [f"{column}={c}" for c in categories]
        return names

    def encode(self, row: dict[str, Any]) -> np.ndarray:
        out = []
        for column, fitted in self.numeric.items():
            value = row[column]
            filled = fitted["fill"] if value is None else value
            out.append((filled - fitted["mean"]) / fitted["std"])
            if self.indicators:
                out.append(1.0 if value is None else 0.0)
        for column, categories in self.categorical.items():
            key = MISSING if row[column] is None else str(row[column])
            out += [1.0 if key == c else 0.0 for c in categories]
        return np.asarray(out, np.float32)

    def to_dict(self) -> dict:
        return {
            "numeric": self.numeric,
            "categorical": self.categorical,
            "indicators": self.indicators,
            "fitted_on": self.fitted_on,
        }

    def save(self, path: str | Path) -> None:
        import json

        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> TableEncoder:
        import json

        data = json.loads(Path(path).read_text())
        return cls(data["numeric"], data["categorical"], data["indicators"], data["fitted_on"])
