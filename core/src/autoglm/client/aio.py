"""``AsyncClient``: the asyncio twin of ``Client``: the same methods, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from autoglm.client._base import BaseClient
from autoglm.client._ops import Op, Request, Sleep, T
from autoglm.client._sse import SseParser, stream_headers
from autoglm.run_events import RunEvent


class AsyncClient(BaseClient):
    """``Client`` for asyncio code: every public method returns an awaitable::

    async with AsyncClient(api_key="agk_...") as client:
        accepted = await client.submit("my-workflow")
        run = await client.wait(accepted.id, timeout=60)
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout, retries=retries, backoff=backoff)
        self._http = httpx.AsyncClient(transport=transport, **self._client_options())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def watch(
        self, run_id: str, *, last_event_id: str | None = None
    ) -> AsyncIterator[RunEvent]:
        """``Client.watch`` for asyncio: ``async for event in client.watch(run_id)``."""
        parser, failures = SseParser(), 0
        parser.last_id = last_event_id
        while True:
            broken: httpx.TransportError | None = None
            try:
                async with self._http.stream(
                    "GET", f"/v1/runs/{run_id}/events", headers=stream_headers(parser.last_id)
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        self._decode(response)
                    async for line in response.aiter_lines():
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
            await asyncio.sleep(delay)

    async def _drive(self, op: Op[T]) -> T:
        try:
            effect = next(op)
            while True:
                if isinstance(effect, Sleep):
                    await asyncio.sleep(effect.seconds)
                    effect = op.send(None)
                else:
                    effect = op.send(await self._send(effect))
        except StopIteration as stop:
            return stop.value

    async def _send(self, request: Request) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
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
            await asyncio.sleep(delay)
