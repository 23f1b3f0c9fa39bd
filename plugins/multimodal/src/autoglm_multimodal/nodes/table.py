"""``multimodal.table``: CSV/Parquet columns beside the other modalities, encoded with
statistics of the training items only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputPath
from autoglm_multimodal.nodes.common import FeatureOutputs, ManifestFingerprint, finish


class TableConfig(NodeModel):
    id_column: str = Field("id", description="column holding each row's item id")
    columns: dict[str, Literal["numeric", "categorical", "auto"]] | None = Field(
        None, description="columns to use and their type (null: every other column, auto-typed)"
    )
    fill: Literal["mean", "median", "zero"] = Field(
        "mean", description="value replacing a missing number (fitted on training rows)"
    )
    missing_indicators: bool = Field(True, description="add a 0/1 column per numeric column")
    max_categories: int = Field(
        50, ge=1, le=10_000, description="most frequent training categories kept per column"
    )
    scale: bool = Field(True, description="standardise numeric columns (training statistics)")
    on_error: Literal["skip", "fail"] = Field("skip", description="as for the other modalities")


class TableInputs(NodeModel):
    items: InputPath = Field(description="items manifest (JSON lines) with splits")
    table: InputPath = Field(description="CSV, TSV or Parquet file, one row per item")
    stats: InputPath | None = Field(
        None, description="encoder (stats.json) of an earlier run, instead of fitting one"
    )


class TableNode(ManifestFingerprint, NodeType):
    """Table columns: typed, missing values filled, categories one-hot, scaled."""

    name = "multimodal.table"
    version = "1"
    description = "CSV/Parquet columns typed, filled, one-hot encoded and scaled (train-fitted)"
    Config = TableConfig
    Inputs = TableInputs
    Outputs = FeatureOutputs

    def execute(self, inputs: TableInputs, context: NodeContext) -> FeatureOutputs:
        import numpy as np

        from autoglm_multimodal.errors import ItemProblem, MultimodalError
        from autoglm_multimodal.items import read_items
        from autoglm_multimodal.table import TableEncoder, infer_kind, parse_number, read_table

        cfg: TableConfig = self.config
        items = read_items(inputs.items)
        frame = read_table(inputs.table)
        if cfg.id_column not in frame.columns:
            raise MultimodalError(
                f"{inputs.table}: no id column {cfg.id_column!r}; columns: {list(frame.columns)}"
            )
        records = frame.to_dict("records")
        by_id: dict[str, tuple[int, dict]] = {}
        for number, record in enumerate(records, 2):  # line 1 is the header
            key = str(record[cfg.id_column])
            if key in by_id:
                raise MultimodalError(f"{inputs.table}:{number}: duplicate id {key!r}")
            by_id[key] = (number, record)
        wanted = cfg.columns or {c: "auto" for c in frame.columns if c != cfg.id_column}
        unknown = sorted(set(wanted) - set(frame.columns))
        if unknown:
            raise MultimodalError(f"{inputs.table}: no column(s) {unknown}")
        # Types are inferred from the training items' rows: a held-out row decides nothing.
        train_ids = {i["id"] for i in items if i.get("split") == "train"}
        train_records = [r for r in records if str(r[cfg.id_column]) in train_ids]
        kinds = {
            c: infer_kind([r[c] for r in train_records]) if k == "auto" else k
            for c, k in wanted.items()
        }
        encoder = TableEncoder.load(inputs.stats) if inputs.stats is not None else None
        if encoder is not None:  # inference: the columns and types the encoder was fitted on
            kinds = {c: "numeric" for c in encoder.numeric} | {
                c: "categorical" for c in encoder.categorical
            }
            absent = sorted(set(kinds) - set(frame.columns))
            if absent:
                raise MultimodalError(f"{inputs.table}: no column(s) {absent} of the encoder")
        rows: dict[str, dict] = {}
        problems: list[ItemProblem] = []
        for item in items:
            found = by_id.get(item["id"])
            if found is None:
                problems.append(ItemProblem(item["id"], inputs.table, "no row with this id"))
                continue
            number, record = found
            row, bad = {}, None
            for column, kind in kinds.items():
                value = record[column]
                if kind == "numeric":
                    try:
                        row[column] = parse_number(value)
                    except (TypeError, ValueError):
                        bad = f"line {number}, column {column!r}: {value!r} is not a number"
                        break
                else:
                    missing = value is None or (isinstance(value, float) and np.isnan(value))
                    row[column] = None if missing else str(value)
            if bad:
                problems.append(ItemProblem(item["id"], inputs.table, bad))
            else:
                rows[item["id"]] = row
        if encoder is None:
            train = [rows[i["id"]] for i in items if i.get("split") == "train" and i["id"] in rows]
            encoder = TableEncoder.fit(
                train, kinds, cfg.fill, cfg.missing_indicators, cfg.max_categories, cfg.scale
            )
        names = encoder.columns()
        out = np.zeros((len(items), len(names)), np.float32)
        ok = []
        for index, item in enumerate(items):
            ok.append(item["id"] in rows)
            if item["id"] in rows:
                out[index] = encoder.encode(rows[item["id"]])
        order = {item["id"]: row for row, item in enumerate(items)}
        problems.sort(key=lambda p: order[p.item])
        meta = {"config": cfg.model_dump(), "columns": names, "kinds": kinds}
        return finish(
            context, "table", items, {"features": out}, ok, problems, cfg.on_error, meta, encoder
        )
