"""``multimodal.align``: join two timestamped streams of different sample rates."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputPath


class AlignConfig(NodeModel):
    mode: Literal["nearest", "window"] = Field(
        "nearest", description="nearest sample within a tolerance, or fixed windows"
    )
    left_time: str = Field("time", description="time column (seconds) of the left stream")
    right_time: str = Field("time", description="time column (seconds) of the right stream")
    left_name: str = Field("left", description="prefix of the left stream's output columns")
    right_name: str = Field("right", description="prefix of the right stream's output columns")
    right_offset: float = Field(
        0.0, ge=-1e9, le=1e9, description="seconds added to the right stream's times (clock offset)"
    )
    tolerance: float = Field(
        0.01, gt=0, le=1e6, description="nearest: largest time difference of a match (s)"
    )
    interpolate: Literal["none", "linear"] = Field(
        "none", description="nearest: fill an unmatched left sample by linear interpolation"
    )
    max_gap: float = Field(
        0.1, gt=0, le=1e6, description="interpolate only between right samples this close (s)"
    )
    window: float = Field(0.1, gt=0, le=1e6, description="window: length of a window (s)")
    stride: float = Field(0.1, gt=0, le=1e6, description="window: step between windows (s)")
    aggregate: Literal["mean", "first", "last"] = Field(
        "mean", description="window: how a stream's samples in a window are combined"
    )

    @model_validator(mode="after")
    def _distinct(self) -> AlignConfig:
        if self.left_name == self.right_name:
            raise ValueError("left_name and right_name must differ")
        return self


class AlignInputs(NodeModel):
    left: InputPath = Field(description="CSV/TSV/Parquet stream with a time column")
    right: InputPath = Field(description="CSV/TSV/Parquet stream with a time column")


class AlignOutputs(NodeModel):
    aligned: str = Field(description="CSV of the aligned rows: time, then each stream's columns")
    rows: int
    report: dict = Field(description="matched, interpolated, dropped and unused sample counts")


class AlignNode(NodeType):
    """Align two streams by timestamp: nearest within a tolerance, or windows."""

    name = "multimodal.align"
    version = "1"
    description = "Join streams of different sample rates by timestamp; report drops"
    Config = AlignConfig
    Inputs = AlignInputs
    Outputs = AlignOutputs

    @classmethod
    def state_fingerprint(
        cls, config: AlignConfig, inputs: AlignInputs, context: NodeContext
    ) -> str:
        from autoglm.fingerprints import files_fingerprint

        return files_fingerprint([inputs.left, inputs.right])

    def execute(self, inputs: AlignInputs, context: NodeContext) -> AlignOutputs:
        from autoglm_multimodal.align import (
            align_nearest,
            align_windows,
            read_stream,
            write_aligned,
        )

        cfg: AlignConfig = self.config
        left = read_stream(inputs.left, cfg.left_time, cfg.left_name)
        right = read_stream(inputs.right, cfg.right_time, cfg.right_name)
        right.times = right.times + cfg.right_offset
        if cfg.mode == "nearest":
            aligned = align_nearest(
                left, right, cfg.tolerance, cfg.interpolate == "linear", cfg.max_gap
            )
        else:
            aligned = align_windows(left, right, cfg.window, cfg.stride, cfg.aggregate)
        path = write_aligned(Path(context.artifacts_dir) / "aligned.csv", aligned, left, right)
        context.log.info("aligned", **aligned.report)
        return AlignOutputs(aligned=str(path), rows=aligned.report["rows"], report=aligned.report)
