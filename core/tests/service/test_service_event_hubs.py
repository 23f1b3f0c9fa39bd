"""The event poller's connection is never closed while a read goes through it.

Reproduces the service's crash (a segfault in SQLite, or in the connection's statement
cache, seen in the events tests): the last watcher's leaving cancelled the poller task and
closed its reader's connection from the event loop while the worker thread was still
reading through it. Real store, real reader, real threads; the reader's read is slowed so
that the leave lands inside it."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from autoglm.run_events import RunReader
from autoglm.service import events
from autoglm.store import RunStore


def _store_with_a_run(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    run_id = store.create_run(
        workflow_name="wf",
        workflow_source="nodes: []",
        workflow_path=None,
        inputs={},
        selection={},
    )
    store.close()
    return path, run_id


class SlowReader(RunReader):
    """A real reader whose reads take 0.3 s (inside the read, connection open), recording
    when each read began and ended and when the connection was closed."""

    def _poll(self):
        self.read_starts.append(time.monotonic())
        events_read = super()._poll()
        time.sleep(0.3)
        self.read_ends.append(time.monotonic())
        return events_read

    def close(self) -> None:
        super().close()
        self.closed_at.append(time.monotonic())


def _slow(path: Path, run_id: str) -> SlowReader:
    reader = SlowReader(path, run_id)
    reader.read_starts, reader.read_ends, reader.closed_at = [], [], []
    return reader


def test_closing_a_reader_waits_for_its_read_in_flight(tmp_path):
    path, run_id = _store_with_a_run(tmp_path)
    reader = _slow(path, run_id)
    first: list = []
    thread = threading.Thread(target=lambda: first.extend(reader.poll()))
    thread.start()
    time.sleep(0.1)  # the read is in flight
    reader.close()
    thread.join()
    assert first and first[0].kind == "run"  # the read finished, on an open connection
    assert reader.closed_at[0] >= reader.read_ends[0]
    assert reader.poll() == [] and reader._conn is None  # closed stays closed


def test_the_last_watcher_leaving_mid_read_does_not_close_the_connection_under_it(
    tmp_path, monkeypatch
):
    path, run_id = _store_with_a_run(tmp_path)
    made: list[SlowReader] = []

    def reader_of(store_path, run, last_event_id=None):
        made.append(_slow(Path(store_path), run))
        return made[-1]

    monkeypatch.setattr(events, "RunReader", reader_of)

    async def watch_then_leave() -> None:
        hubs = events.EventHubs(str(path))
        hub = hubs._join(run_id)
        while len(made) < 1 or len(made[0].read_starts) < 2:  # its second read in flight
            await asyncio.sleep(0.01)
        hubs._leave(run_id, hub)
        assert hub.task is not None
        await asyncio.wait_for(hub.task, 5)

    asyncio.run(watch_then_leave())
    poller = made[0]
    assert len(poller.read_ends) == len(poller.read_starts) == 2  # no read cut short
    assert len(poller.closed_at) == 1 and poller.closed_at[0] >= poller.read_ends[-1]
