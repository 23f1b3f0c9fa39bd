"""bench/gnn_defaults.py reads only records made with today's default of each model: after a
default changes (GCNII's depth), its old figures are re-measured, never reported."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import gnn_defaults as gd  # noqa: E402


def test_records_of_an_older_default_are_dropped() -> None:
    from autoglm_gnn.config import TrainConfig

    today = {"graph": "cora", "model": "gcnii", "config": gd.default_key("gcnii")}
    untagged = {"graph": "cora", "model": "mlp"}  # written before records named their config
    shallow = TrainConfig.model_validate({"layer": "gcnii", "k": 10}).model_dump()
    assert gd.default_key("gcnii") != gd.default_key("gcn")
    assert TrainConfig.model_validate({"layer": "gcnii"}).model_dump() != shallow
    older = {**today, "config": "0123456789"}
    assert gd.current([today, untagged, older]) == [today]
