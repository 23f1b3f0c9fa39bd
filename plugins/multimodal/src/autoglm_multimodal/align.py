"""Join two timestamped streams sampled at different rates.

Two explicit strategies, each reporting what it dropped or invented:

* ``nearest``: each left sample takes the right sample nearest in time if it lies within
  ``tolerance``; otherwise, with ``interpolate: linear``, the right values interpolated between
  the right neighbours when those are at most ``max_gap`` apart; otherwise the left sample is
  dropped (and counted).
* ``window``: windows of ``window`` seconds every ``stride`` seconds over the time both streams
  cover; each stream's samples in a window are aggregated (mean, first, last); a window missing
  either stream is dropped (and counted).

A known clock offset of the right stream is given as ``right_offset`` (added to its times).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoglm_multimodal.errors import MultimodalError


@dataclass
class Stream:
    """Times (seconds, increasing) and numeric value columns of one stream."""

    name: str
    times: np.ndarray
    values: np.ndarray
    columns: list[str]


def read_stream(path: str | Path, time_column: str, name: str) -> Stream:
    """A CSV/TSV/Parquet stream; errors name the file, and the line for bad or unsorted times."""
    import pandas as pd

    from autoglm_multimodal.table import read_table

    frame = read_table(path)
    if time_column not in frame.columns:
        raise MultimodalError(
            f"{path}: no time column {time_column!r}; columns: {list(frame.columns)}"
        )
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    times = numbers[time_column].to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise MultimodalError(
            f"{path}:{bad[0] + 2}: time {frame[time_column].iloc[bad[0]]!r} is not a number"
        )
    back = np.flatnonzero(np.diff(times) < 0)
    if back.size:
        row = back[0] + 1
        raise MultimodalError(
            f"{path}:{row + 2}: times go backwards ({times[row]} after {times[row - 1]})"
        )
    columns = [c for c in frame.columns if c != time_column]
    values = numbers[columns].to_numpy(np.float64)
    for j, column in enumerate(columns):
        wrong = np.flatnonzero(np.isnan(values[:, j]) & frame[column].notna().to_numpy())
        if wrong.size:
            value = frame[column].iloc[wrong[0]]
            raise MultimodalError(
                f"{path}:{wrong[0] + 2}: column {column!r}: {value!r} is not a number"
            )
    return Stream(name, times, values, columns)


@dataclass
class Aligned:
    times: np.ndarray
    left: np.ndarray
    right: np.ndarray
    report: dict


def align_nearest(
    left: Stream, right: Stream, tolerance: float, interpolate: bool, max_gap: float
) -> Aligned:
    """Nearest right sample within ``tolerance`` for each left sample (see the module doc)."""
    t = right.times
    if t.size == 0:
        raise MultimodalError(f"stream {right.name!r} is empty")
    pos = np.searchsorted(t, left.times)
    before = np.clip(pos - 1, 0, t.size - 1)
    after = np.clip(pos, 0, t.size - 1)
    pick = np.where(np.abs(t[before] - left.times) <= np.abs(t[after] - left.times), before, after)
    matched = np.abs(t[pick] - left.times) <= tolerance
    values = right.values[pick].copy()
    inside = (pos > 0) & (pos < t.size)
    gap_ok = inside & ((t[after] - t[before]) <= max_gap)
    filled = interpolate & ~matched & gap_ok if interpolate else np.zeros_like(matched)
    if filled.any():
        b, a = before[filled], after[filled]
        span = np.where(t[a] > t[b], t[a] - t[b], 1.0)
        weight = ((left.times[filled] - t[b]) / span)[:, None]
        values[filled] = right.values[b] * (1 - weight) + right.values[a] * weight
    keep = matched | filled
    used = np.zeros(t.size, bool)
    used[pick[matched]] = True
    report = {
        "mode": "nearest",
        "left_samples": int(left.times.size),
        "right_samples": int(t.size),
        "rows": int(keep.sum()),
        "matched": int(matched.sum()),
        "interpolated": int(filled.sum()),
        "dropped_left": int((~keep).sum()),
        "unused_right": int((~used).sum()),
        "max_abs_offset": float(np.abs(t[pick[matched]] - left.times[matched]).max())
        if matched.any()
        else None,
    }
    return Aligned(left.times[keep], left.values[keep], values[keep], report)


def _aggregate(values: np.ndarray, how: str) -> np.ndarray:
    return {"mean": lambda v: v.mean(axis=0), "first": lambda v: v[0], "last": lambda v: v[-1]}[
        how
    ](values)


def align_windows(left: Stream, right: Stream, window: float, stride: float, how: str) -> Aligned:
    """Windows over the time both streams cover (see the module doc)."""
    start = max(left.times.min(), right.times.min())
    end = min(left.times.max(), right.times.max())
    if end <= start:
        raise MultimodalError(
            f"streams {left.name!r} and {right.name!r} do not overlap in time "
            f"({left.times.min()}-{left.times.max()} vs {right.times.min()}-{right.times.max()})"
        )
    starts = (
        np.arange(start, end - window + stride * 1e-9, stride)
        if end - start >= window
        else np.array([start])
    )
    times, lrows, rrows, empty = [], [], [], 0
    for s in starts:
        lo = slice(*np.searchsorted(left.times, [s, s + window]))
        ro = slice(*np.searchsorted(right.times, [s, s + window]))
        if lo.stop <= lo.start or ro.stop <= ro.start:
            empty += 1
            continue
        times.append(s)
        lrows.append(_aggregate(left.values[lo], how))
        rrows.append(_aggregate(right.values[ro], how))
    width_l, width_r = left.values.shape[1], right.values.shape[1]
    report = {
        "mode": "window",
        "left_samples": int(left.times.size),
        "right_samples": int(right.times.size),
        "windows": int(starts.size),
        "rows": len(times),
        "dropped_windows": empty,
        "dropped_left": int(((left.times < start) | (left.times >= starts[-1] + window)).sum()),
        "dropped_right": int(((right.times < start) | (right.times >= starts[-1] + window)).sum()),
        "interpolated": 0,
    }
    return Aligned(
        np.asarray(times),
        np.asarray(lrows).reshape(-1, width_l),
        np.asarray(rrows).reshape(-1, width_r),
        report,
    )


def write_aligned(path: Path, aligned: Aligned, left: Stream, right: Stream) -> Path:
    import pandas as pd

    frame = pd.DataFrame({"time": aligned.times})
    for j, column in enumerate(left.columns):
        frame[f"{left.name}.{column}"] = aligned.left[:, j]
    for j, column in enumerate(right.columns):
        frame[f"{right.name}.{column}"] = aligned.right[:, j]
    frame.to_csv(path, index=False)
    return path
