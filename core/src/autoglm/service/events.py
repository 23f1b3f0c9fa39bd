"""``GET /v1/runs/{id}/events``: a run's state changes, progress and log lines as
Server-Sent Events, resumable with ``Last-Event-ID``.

Why one poller per watched run, shared by all its watchers: a hundred browser tabs on one run
must cost one store read per tick, not a hundred, or watching would slow the submissions it
watches (the API's thread pool is small on purpose). Each watcher first reads its own catch-up
(from the start, or from its ``Last-Event-ID``) and then follows the shared poller's events.
The key travels as a header like on every other route (the page streams with ``fetch``, not
``EventSource``, which cannot send headers), so no key is ever in a URL or an access log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio.to_thread
import structlog
from fastapi import FastAPI, Header, Path, Request
from fastapi.responses import StreamingResponse

from autoglm.run_events import RunEvent, RunReader
from autoglm.service.auth import require
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.keys import ApiKey

log = structlog.get_logger("autoglm.service")

#: seconds between store reads of a watched run: well under the 300 ms the page aims for
POLL_S = 0.1
#: a comment line this often keeps proxies from closing an idle stream
KEEPALIVE_S = 15.0


@dataclass
class _Hub:
    """The shared poller of one run and the events it has read so far."""

    reader: RunReader
    events: list[RunEvent] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    watchers: int = 0
    task: asyncio.Task | None = None
    done: bool = False
    #: the last watcher left: the poller stops after its read in flight, if any
    left: bool = False


class EventHubs:
    """The hubs of the runs being watched; a hub stops when its last watcher leaves."""

    def __init__(self, store_path: str) -> None:
        self.store_path = store_path
        self._hubs: dict[str, _Hub] = {}

    def _join(self, run_id: str) -> _Hub:
        hub = self._hubs.get(run_id)
        if hub is None:
            hub = _Hub(RunReader(self.store_path, run_id))
            self._hubs[run_id] = hub
            hub.task = asyncio.create_task(self._poll(run_id, hub))
        hub.watchers += 1
        return hub

    def _leave(self, run_id: str, hub: _Hub) -> None:
        hub.watchers -= 1
        if hub.watchers <= 0 and self._hubs.get(run_id) is hub:
            del self._hubs[run_id]
            hub.left = True  # the poller stops and closes its reader (``_poll``)

    async def _poll(self, run_id: str, hub: _Hub) -> None:
        """Read the run every ``POLL_S`` until it ends or its last watcher leaves, then close
        the reader. Why not cancel this task when the last watcher leaves: cancelling it
        mid-read returned to the event loop while the worker thread still read through the
        connection, and closing it then crashed the service (a segfault in SQLite or in
        the connection's statement cache). The reader's lock also makes a close wait for a
        read in flight (on shutdown, when the task is cancelled)."""
        try:
            while not hub.done and not hub.left:
                try:
                    new = await anyio.to_thread.run_sync(hub.reader.poll)
                except Exception as exc:  # a store hiccup: say so, keep watching
                    log.warning("event poll failed", run_id=run_id, error=str(exc))
                    new = []
                if new:
                    async with hub.changed:
                        hub.events.extend(new)
                        hub.done = hub.reader.ended
                        hub.changed.notify_all()
                await asyncio.sleep(POLL_S)
        except asyncio.CancelledError:
            pass
        finally:
            hub.reader.close()

    async def stream(self, run_id: str, last_event_id: str | None) -> AsyncIterator[str]:
        """SSE frames: the catch-up, then the shared poller's events until ``end``."""
        hub = self._join(run_id)
        try:
            position = len(hub.events)  # joined before the catch-up: nothing falls between
            catchup = RunReader(self.store_path, run_id, last_event_id)
            try:
                first = await anyio.to_thread.run_sync(catchup.poll)
            finally:
                catchup.close()
            seen_seq = max((_seq(e) for e in first), default=_seq_of(last_event_id))
            yield "retry: 1000\n\n"
            for event in first:
                yield event.to_sse()
            if catchup.ended:
                return
            while True:
                async with hub.changed:
                    if position >= len(hub.events):
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(hub.changed.wait(), KEEPALIVE_S)
                    batch = hub.events[position:]
                    position = len(hub.events)
                if not batch:
                    yield ": keepalive\n\n"
                    continue
                for event in batch:
                    if event.kind in {"progress", "log"} and _seq(event) <= seen_seq:
                        continue  # already in the catch-up
                    yield event.to_sse()
                    if event.kind == "end":
                        return
        finally:
            self._leave(run_id, hub)


def _seq(event: RunEvent) -> int:
    return _seq_of(event.id)


def _seq_of(ident: str | None) -> int:
    return int((ident or "0.0").partition(".")[2] or 0) if ident else 0


def event_routes(app: FastAPI, store_path: str, run_exists: object) -> None:
    """Add the events route; ``run_exists(run_id) -> bool`` answers 404s before streaming."""
    hubs = EventHubs(store_path)
    app.state.event_hubs = hubs

    @app.get(
        "/v1/runs/{run_id}/events",
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "The event stream."},
            **error_responses(401, 403, 404, 422),
        },
        tags=["runs"],
    )
    async def run_events(
        request: Request,
        run_id: str = Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="A run id."),
        last_event_id: str | None = Header(
            default=None,
            alias="Last-Event-ID",
            max_length=64,
            description="Resume after this event (sent by the client on reconnect).",
        ),
        _key: ApiKey = require("read"),
    ) -> StreamingResponse:
        """The run's events as Server-Sent Events: ``run`` (status), ``node`` (a node's state),
        ``progress``, ``log`` and finally ``end``. Reconnect with ``Last-Event-ID``."""
        exists = await anyio.to_thread.run_sync(run_exists, run_id)  # type: ignore[arg-type]
        if not exists:
            raise ApiError(404, f"no run {run_id!r}")
        return StreamingResponse(
            hubs.stream(run_id, last_event_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
