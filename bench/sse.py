"""A light Server-Sent Events client for the benchmarks.

It reads the raw response in chunks, stamps each chunk with its arrival time and keeps it; the
events are parsed only after the stream has ended, so the client spends as little CPU as possible
while the server (on the same machine) is being measured.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import time
from typing import Any


@dataclasses.dataclass(slots=True)
class SseEvent:
    id: int | None
    event: str
    data: str
    received: float  # time.time() when the chunk holding the end of this event arrived

    def json(self) -> Any:
        return json.loads(self.data)


@dataclasses.dataclass
class SseCapture:
    status: int
    chunks: list[tuple[float, bytes]]
    opened: float
    ended: float

    def events(self) -> list[SseEvent]:
        out: list[SseEvent] = []
        buffer = b""
        for received, chunk in self.chunks:
            buffer += chunk
            if b"\n\n" not in buffer:
                continue
            blocks = buffer.split(b"\n\n")
            buffer = blocks.pop()
            for block in blocks:
                event = _parse_block(block, received)
                if event is not None:
                    out.append(event)
        if buffer.strip():
            event = _parse_block(buffer, self.ended)
            if event is not None:
                out.append(event)
        return out


def _parse_block(block: bytes, received: float) -> SseEvent | None:
    ev_id: int | None = None
    name = "message"
    data: list[str] = []
    for raw in block.decode("utf-8").split("\n"):
        if not raw or raw.startswith(":"):
            continue
        key, _, value = raw.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if key == "id":
            ev_id = int(value)
        elif key == "event":
            name = value
        elif key == "data":
            data.append(value)
    if not data and ev_id is None:
        return None
    return SseEvent(ev_id, name, "\n".join(data), received)


def capture(
    host: str,
    port: int,
    path: str,
    token: str,
    *,
    timeout: float = 300.0,
    headers: dict[str, str] | None = None,
) -> SseCapture:
    """GET ``path`` as an event stream and keep every chunk with its arrival time until the
    server ends the response."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    opened = time.time()
    conn.request(
        "GET",
        path,
        headers={
            "Authorization": f"token {token}",
            "Accept": "text/event-stream",
            **(headers or {}),
        },
    )
    response = conn.getresponse()
    chunks: list[tuple[float, bytes]] = []
    now = time.time
    read1 = response.read1
    try:
        while True:
            chunk = read1(1 << 20)
            if not chunk:
                break
            chunks.append((now(), chunk))
    finally:
        ended = time.time()
        conn.close()
    return SseCapture(response.status, chunks, opened, ended)
