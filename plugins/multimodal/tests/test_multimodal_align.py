"""multimodal.align with known sample rates and offsets: a 100 Hz stream joined with a
30 Hz stream whose clock runs 50 ms late, by nearest match, interpolation and windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoglm.testing import run_node
from autoglm_multimodal.errors import MultimodalError
from autoglm_multimodal.nodes.align import AlignNode

OFFSET = 0.05


def _signal(t: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * 0.5 * t)


@pytest.fixture
def streams(tmp_path) -> dict[str, str]:
    left_t = np.arange(0, 2, 1 / 100)  # 100 Hz, 200 samples
    right_true = np.arange(0, 2, 1 / 30)  # 30 Hz, 60 samples
    left = pd.DataFrame({"time": left_t, "x": _signal(left_t)})
    # The right device's clock is 50 ms behind: it stamps true time t as t - 0.05.
    right = pd.DataFrame({"t": right_true - OFFSET, "y": _signal(right_true)})
    paths = {"left": tmp_path / "left.csv", "right": tmp_path / "right.csv"}
    left.to_csv(paths["left"], index=False)
    right.to_csv(paths["right"], index=False)
    return {k: str(v) for k, v in paths.items()}


def _aligned(out) -> pd.DataFrame:
    return pd.read_csv(out.aligned)


def test_nearest_within_tolerance_with_the_known_offset(tmp_path, streams):
    config = {"right_time": "t", "right_offset": OFFSET, "tolerance": 0.5 / 100}
    out = run_node(AlignNode, config, streams, home=tmp_path)
    report = out.report
    # 60 right samples, each within 5 ms of exactly one left sample at 100 Hz.
    assert report["matched"] == out.rows == 60 and report["dropped_left"] == 140
    assert report["unused_right"] == 0 and report["max_abs_offset"] <= 0.005
    frame = _aligned(out)
    assert np.allclose(frame["left.x"], frame["right.y"], atol=0.02)


def test_without_the_offset_the_same_tolerance_matches_nothing_true(tmp_path, streams):
    out = run_node(AlignNode, {"right_time": "t", "tolerance": 0.004}, streams, home=tmp_path)
    frame = _aligned(out)
    # The match pairs samples 50 ms apart: the values disagree by about the signal's slope.
    assert out.rows > 0 and not np.allclose(frame["left.x"], frame["right.y"], atol=0.02)


def test_linear_interpolation_fills_every_covered_left_sample(tmp_path, streams):
    config = {
        "right_time": "t",
        "right_offset": OFFSET,
        "tolerance": 0.001,
        "interpolate": "linear",
        "max_gap": 0.05,
    }
    out = run_node(AlignNode, config, streams, home=tmp_path)
    report = out.report
    assert report["matched"] + report["interpolated"] == out.rows
    assert report["interpolated"] > 100
    frame = _aligned(out)
    assert np.allclose(frame["left.x"], frame["right.y"], atol=0.01)
    # Left samples after the last right sample (t > 1.9667) have no neighbour: dropped.
    assert report["dropped_left"] == int((np.arange(0, 2, 1 / 100) > 2 - 1 / 30 + 1e-9).sum())


def test_windows_aggregate_both_streams(tmp_path, streams):
    config = {
        "mode": "window",
        "right_time": "t",
        "right_offset": OFFSET,
        "window": 0.2,
        "stride": 0.2,
    }
    out = run_node(AlignNode, config, streams, home=tmp_path)
    assert out.rows == out.report["windows"] == 9 and out.report["dropped_windows"] == 0
    frame = _aligned(out)
    # 20 left samples against 6 right ones per window: the means differ by sampling only.
    assert np.allclose(frame["left.x"], frame["right.y"], atol=0.05)


def test_times_going_backwards_are_located(tmp_path, streams):
    bad = Path(tmp_path / "bad.csv")
    bad.write_text("time,x\n0.0,1\n0.2,2\n0.1,3\n")
    with pytest.raises(MultimodalError, match=r"bad.csv:4: times go backwards"):
        run_node(AlignNode, {}, {"left": str(bad), "right": streams["left"]}, home=tmp_path)
