"""bench/search_carry.py: a search journal cut off in one clone's run store comes back, kind by
kind and in order, in another clone's empty store, where tuner.search replays it."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from search_carry import SearchCarry  # noqa: E402

from autoglm.store import RunStore  # noqa: E402


def _journal(store: RunStore, run_id: str) -> dict[tuple[str, str], list]:
    return {
        (node, kind): store.journal_read(run_id, node, kind)
        for node, kinds in store.journal_counts(run_id).items()
        for kind in kinds
    }


def test_a_stopped_search_journal_moves_to_a_fresh_clone(tmp_path):
    first = RunStore(tmp_path / "clone1.sqlite")
    for trial in range(5):
        first.journal_append("r", "search", "trial", {"trial": trial, "score": trial / 10})
    first.journal_append("r", "search", "warm_start", {"sources": []})
    first.journal_append("other", "search", "trial", {"trial": 99})
    folder = tmp_path / "units" / "partial"
    assert SearchCarry(folder, first).save("r") == 6
    assert [p.name for p in folder.iterdir()] == ["r.json.gz"]

    second = RunStore(tmp_path / "clone2.sqlite")
    carry = SearchCarry(folder, second)
    assert carry.restore("r") == 6
    assert _journal(second, "r") == _journal(first, "r")
    assert second.journal_counts("other") == {}  # only the stopped run travels
    # the clone's own journal wins: restoring again would duplicate every trial
    assert carry.restore("r") == 0
    assert len(second.journal_read("r", "search", "trial")) == 5
    carry.drop("r")
    assert not carry.path("r").exists()


def test_nothing_to_carry_writes_no_file(tmp_path):
    carry = SearchCarry(tmp_path / "partial", RunStore(tmp_path / "s.sqlite"))
    assert carry.save("never-ran") == 0
    assert not (tmp_path / "partial").exists()
    assert carry.restore("never-ran") == 0
