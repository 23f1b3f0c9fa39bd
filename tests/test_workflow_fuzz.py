"""Fuzzing the validator: 2,000 adversarial and mutated workflows per run, seeded so a failure
reproduces. No case may escape with a traceback, cost 2 s of CPU or more (or 10 s of wall time,
a hang), or end in a problem that does not say where (file and a line, node or field)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from autoglm.plugins import Host, PluginSelection
from autoglm.testing.workflow_fuzz import adversarial_cases, check_case, fuzz_cases

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
CASES = 2000
SEED = 20261130
#: per case: CPU seconds (the cost, whatever else shares the cores) and wall seconds (a hang)
MAX_S = 2.0
HANG_S = 10.0


@pytest.fixture(scope="module")
def host() -> Host:
    """Every installed plugin, so mutations of the shipped workflows meet their real nodes."""
    return Host.load(PluginSelection())


@pytest.mark.slow
def test_no_case_crashes_hangs_or_goes_unlocated(host: Host, tmp_path: Path):
    seeds = {path.name: path.read_text(encoding="utf-8") for path in CONFIGS}
    assert seeds, "configs/*.yaml are the mutator's seeds"
    outcomes = [
        check_case(name, data, host, tmp_path) for name, data in fuzz_cases(seeds, CASES, SEED)
    ]
    assert len(outcomes) == CASES
    bad = [o for o in outcomes if not o.ok]
    assert not bad, "\n\n".join(f"{o.name} [{o.kind}]: {o.detail}" for o in bad[:5])
    slow = max(outcomes, key=lambda o: o.cpu_seconds)
    assert slow.cpu_seconds < MAX_S, f"{slow.name} took {slow.cpu_seconds:.2f} s of CPU"
    hung = max(outcomes, key=lambda o: o.seconds)
    assert hung.seconds < HANG_S, f"{hung.name} took {hung.seconds:.2f} s"
    kinds = Counter(o.kind for o in outcomes)
    # the mutator must exercise both sides: broken files and files that still validate
    assert kinds["invalid"] > CASES // 4 and kinds["valid"] > 20, kinds


def test_every_adversarial_case_is_refused_with_a_located_problem(host: Host, tmp_path: Path):
    # statically valid: a 3,000-node chain, and a `when` that only fails at run time; a scalar
    # in core.const's value may be anything YAML can build
    valid = {"chain-3000", "node-line-9"}
    for name, data in adversarial_cases().items():
        outcome = check_case(name, data, host, tmp_path)
        assert outcome.ok, (name, outcome.kind, outcome.detail)
        assert outcome.cpu_seconds < MAX_S and outcome.seconds < HANG_S, (name, outcome)
        if not name.startswith("scalar-"):
            expected = "valid" if name in valid else "invalid"
            assert outcome.kind == expected, (name, [str(p) for p in outcome.problems][:3])
