"""bench/gcnii_depth.py trains real GCNII variants, keeps one record per run (a rerun trains
nothing new) and marks gnn.train's own GCNII default in its table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import gcnii_depth as gd  # noqa: E402


def test_runs_are_recorded_once_and_reported(tmp_path: Path) -> None:
    argv = ["--graphs", "csbm-0.9", "--variants", "k10", "--seeds", "1"]
    argv += ["--work-dir", str(tmp_path), "--out", str(tmp_path / "report.md")]
    gd.main(argv)
    runs = tmp_path / "runs.jsonl"
    (record,) = [json.loads(line) for line in runs.read_text().splitlines()]
    assert (record["graph"], record["name"], record["seed"]) == ("csbm-0.9", "k10", 100)
    assert 0.5 < record["test"] <= 1.0 and record["epochs"] <= 200
    gd.main(argv)  # resumable: nothing is trained twice
    assert len(runs.read_text().splitlines()) == 1
    text = (tmp_path / "report.md").read_text()
    assert "| k 10, dropout 0.5, max_epochs 200 | " in text
    assert f"{100 * record['test']:.2f} (val {100 * record['val']:.1f}, n 1)" in text


def test_the_default_row_is_the_one_gnn_train_uses() -> None:
    from autoglm_gnn.config import TrainConfig

    rows = [
        {"graph": "cora", "name": name, "file": 0, "seed": 100, "val": 0.8, "test": 0.8, "cpu": 1.0}
        for name in gd.VARIANTS
    ]
    bold = [line for line in gd.report(rows).splitlines() if line.startswith("| **")]
    (line,) = bold
    deep = TrainConfig.model_validate({"layer": "gcnii"})
    assert f"**k {deep.k}, dropout {deep.dropout}, max_epochs {deep.max_epochs}**" in line
