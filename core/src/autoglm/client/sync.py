"""``Client``: the blocking SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from autoglm.client._base import BaseClient
from autoglm.client._ops import Op, Request, Sleep, T
from autoglm.client._sse import SseParser, stream_headers
from autoglm.run_events import RunEvent


class Client(BaseClient):
    """A client of an autoglm service::

        with Client("http://127.0.0.1:8080", api_key="agk_...") as client:
            run = client.run("my-workflow", inputs={"seed": 1}, timeout=60)
            print(run.status, run.outputs)

    ``base_url`` defaults to ``$AUTOGLM_URL`` (else http://127.0.0.1:8080), ``api_key`` to
    ``$AUTOGLM_API_KEY``. Reads and config updates are retried with backoff on 5xx and broken
    connections; submissions and cancels only when the connection could not be made.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout, retries=retries, backoff=backoff)
        self._http = httpx.Client(transport=transport, **self._client_options())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def watch(self, run_id: str, *, last_event_id: str | None = None) -> Iterator[RunEvent]:
        """The run's events as they happen (``GET /v1/runs/{id}/events``): ``run``,
        ``node``, ``progress``, ``log``, and ``end`` last, after which the iterator stops.
        A dropped connection is resumed from the last event id, up to ``retries`` times in a
        row; a run that already ended yields its final states and ``end`` at once."""
        parser, failures = SseParser(), 0
        parser.last_id = last_event_id
        while True:
            broken: httpx.TransportError | None = None
            try:
                with self._http.stream(
                    "GET", f"/v1/runs/{run_id}/events", headers=stream_headers(parser.last_id)
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._decode(response)
                    for line in response.iter_lines():
                        for event in parser.feed(line):
                            failures = 0
                            yield event
                            if event.kind == "end":
                                return
            except httpx.TransportError as error:
                broken = error
            failures += 1  # the stream broke or closed before ``end``: resume
            delay = self._watch_resume_delay(run_id, failures, broken)
            if delay is None:
                return
            time.sleep(delay)

    # ------------------------------------------------------------- driving

    def _drive(self, op: Op[T]) -> T:
        try:
            effect = next(op)
            while True:
                if isinstance(effect, Sleep):
                    time.sleep(effect.seconds)
                    effect = op.send(None)
                else:
                    effect = op.send(self._send(effect))
        except StopIteration as stop:
            return stop.value

    def _send(self, request: Request) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    headers=request.headers,
                )
            except httpx.TransportError as error:
                delay = self._retry_delay(request, attempt, error=error)
                if delay is None:
                    raise self._unreachable(request, error) from error
            else:
                delay = self._retry_delay(request, attempt, response=response)
                if delay is None:
                    return self._decode(response)
            time.sleep(delay)
