"""bench/gnn_ensemble.py's report pairs each ensemble run with its own member 0 and sums the
gains per graph, from the records alone (nothing is trained here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import gnn_ensemble as ge  # noqa: E402


def record(name: str, config: dict, seed: int, single: float, ensemble: float) -> dict:
    key = ge.record_key(name, config, seed, 5)
    return {
        "key": key,
        "single_test": single,
        "ensemble_test": ensemble,
        "single_val": single,
        "ensemble_val": ensemble,
        "cpu": 2.0,
    }


def test_report_pairs_runs_and_sums_gains_per_graph(tmp_path: Path) -> None:
    args = ge.parse_args(["--graphs", "csbm-0.5", "--picks", "0", "--work-dir", str(tmp_path)])
    rows = [
        record("csbm-0.5.bin", {"layer": "gcn"}, 100, 0.60, 0.62),
        record("csbm-0.5.bin", {"layer": "gcn"}, 101, 0.64, 0.63),
        record("csbm-0.5.bin", {"layer": "gcn"}, 102, 0.62, 0.62),
        record("other.bin", {"layer": "gcn"}, 100, 0.10, 0.90),  # another graph: not counted
        record("csbm-0.5.bin", {"layer": "mlp"}, 100, 0.40, 0.42),
    ]
    log = tmp_path / "runs.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = ge.report(args, log)
    assert "| csbm-0.5 | gcn | 3 | 62.00 ± 1.63 | 62.33 ± 0.47 | +0.33 |" in text
    assert "| csbm-0.5 | mlp | 1 | 40.00 ± 0.00 | 42.00 ± 0.00 | +2.00 | - |" in text
    assert "| csbm-0.5 | appnp | 0 | not run yet |" in text
    assert "* csbm-0.5: mean gain +0.75 points over 4 runs (2 better, 1 worse, 1 equal)" in text
    assert "smaller spread over runs for 1 of 2 configs" in text
