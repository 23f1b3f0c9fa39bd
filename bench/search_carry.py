"""Carry a search cut off mid-way from one clone to the next.

A benchmark that needs many CPU-hours runs in sessions of a few hours, each on a fresh clone.
A tuner.search resumes from its journal in the run store, but that store lives in an ignored
work folder, so a search stopped by ``--stop-at`` started again from trial 0 in the next clone:
up to a search's worth of CPU lost per session. This module copies the stopped search's journal
(every node and kind, in order) into a small gzip JSON file beside the committed units, and
copies it back into a fresh store before the same run id starts, so the tuner replays the
recorded trials and trains only the rest. The file is removed once the search is a finished unit.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from autoglm.store import RunStore


class SearchCarry:
    """Partial search journals under ``folder``, one ``<run_id>.json.gz`` per stopped search."""

    def __init__(self, folder: Path, store: RunStore) -> None:
        self.folder = folder
        self.store = store

    def path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json.gz"

    def save(self, run_id: str) -> int:
        """Write the run's journal to its carry file; returns the entries written (0: none, and
        no file)."""
        entries = [
            {"node": node, "kind": kind, "payload": payload}
            for node, kinds in self.store.journal_counts(run_id).items()
            for kind in kinds
            for payload in self.store.journal_read(run_id, node, kind)
        ]
        if not entries:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path(run_id).with_suffix(".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            json.dump({"run_id": run_id, "entries": entries}, out, separators=(",", ":"))
        tmp.replace(self.path(run_id))
        return len(entries)

    def restore(self, run_id: str) -> int:
        """Copy a carried journal into the store, unless the store already has entries of the
        run (this clone ran it: its own journal is at least as long). Returns entries copied."""
        path = self.path(run_id)
        if not path.is_file() or self.store.journal_counts(run_id):
            return 0
        with gzip.open(path, "rt", encoding="utf-8") as source:
            carried = json.load(source)
        for entry in carried["entries"]:
            self.store.journal_append(run_id, entry["node"], entry["kind"], entry["payload"])
        return len(carried["entries"])

    def drop(self, run_id: str) -> None:
        """Forget the carry file of a search that has finished."""
        self.path(run_id).unlink(missing_ok=True)
