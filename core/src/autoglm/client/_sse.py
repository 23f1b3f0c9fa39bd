"""Server-Sent Events for ``watch``: a parser shared by both clients, and the reconnect rule.

Why hand-written: the format is four line kinds, and a dependency (httpx-sse) would be the
SDK's second. The parser is fed lines and yields ``RunEvent``s; the clients own the HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from autoglm.run_events import RunEvent


class SseParser:
    """Feed it decoded lines (without their newline); ``feed`` yields each complete event."""

    def __init__(self) -> None:
        self._kind = "message"
        self._data: list[str] = []
        self._id = ""
        self.last_id: str | None = None

    def feed(self, line: str) -> Iterator[RunEvent]:
        if line == "":
            if self._data:
                text = "\n".join(self._data)
                try:
                    data = json.loads(text)
                except ValueError:
                    data = {"text": text}
                if self._id:
                    self.last_id = self._id
                yield RunEvent(self._kind, data, self._id)
            self._kind, self._data = "message", []
            return
        if line.startswith(":"):
            return  # a comment: keepalive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._kind = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value


def stream_headers(last_event_id: str | None) -> dict[str, str]:
    headers = {"Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    return headers
