"""``AsyncClient``: the asyncio twin of ``Client``: the same methods, awaited."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from autoglm.client._base import BaseClient
from autoglm.client._ops import Op, Request, Sleep, T


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
