"""An event stream of a run that reconnects with Last-Event-ID."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import requests

from jobext.client._common import JSON, STREAM_READ_TIMEOUT
from jobext.client.errors import NoServer, _raise_for

if TYPE_CHECKING:
    from jobext.client import JobsClient


class EventStream(Iterator[JSON]):
    """The events of one run, ``{"id": int, "event": str, "data": dict}``, until ``close``.

    A dropped connection is resumed with ``Last-Event-ID``, so each event is seen exactly once
    and in order. ``close()`` (from any thread) ends the iteration.
    """

    def __init__(
        self,
        client: JobsClient,
        run_id: int,
        last_event_id: int | None = None,
        *,
        retries: int = 5,
        types: Iterable[str] | None = None,
    ):
        self.run_id = run_id
        #: The id of the last event handed out (where a reconnect resumes).
        self.last_event_id = last_event_id or 0
        #: How many times the stream was resumed after a dropped connection.
        self.reconnects = 0
        #: The HTTP response being read (None between connections).
        self.response: requests.Response | None = None
        self._client = client
        self._retries = retries
        self._types = frozenset(types) if types is not None else None
        self._closed = threading.Event()
        self._session = client._new_session()
        self._events = self._generate()

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> JSON:
        return next(self._events)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Stop following: the iteration ends (a thread blocked reading wakes up)."""
        self._closed.set()
        response = self.response
        if response is not None:
            # Closing the socket alone would not wake a thread blocked in recv(); a shutdown does.
            with contextlib.suppress(Exception):
                sock = response.raw.connection.sock  # type: ignore[union-attr]
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                response.close()
        with contextlib.suppress(Exception):
            self._session.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _generate(self) -> Iterator[JSON]:
        failures = 0
        try:
            while not self.closed:
                try:
                    for event in self._connect():
                        failures = 0
                        yield event
                        if event["event"] == "close":
                            return
                except (
                    requests.ConnectionError,
                    requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    OSError,
                ) as exc:
                    if self.closed:
                        return
                    failures += 1
                    if failures > self._retries:
                        raise NoServer(
                            f"lost the event stream of run {self.run_id} "
                            f"({failures} failures in a row): {exc}"
                        ) from exc
                else:
                    # The server ended the reply without a close event: resume right away.
                    if self.closed:
                        return
                    failures += 1
                    if failures > self._retries:
                        raise NoServer(f"the event stream of run {self.run_id} keeps ending")
                self.reconnects += 1
                if failures > 1:
                    self._closed.wait(min(5.0, 0.2 * 2 ** (failures - 2)))
        finally:
            self.close()

    def _connect(self) -> Iterator[JSON]:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = str(self.last_event_id)
        response = self._session.get(
            self._client._url(f"runs/{self.run_id}/events"),
            headers=headers,
            stream=True,
            timeout=(self._client.timeout, STREAM_READ_TIMEOUT),
        )
        self.response = response
        try:
            _raise_for(response)
            for event in _parse_sse(_chunks(response)):
                if self.closed:
                    return
                if event["id"] is not None:
                    if event["id"] <= self.last_event_id:
                        continue  # already handed out before a reconnect
                    self.last_event_id = event["id"]
                if (
                    self._types is None
                    or event["event"] in self._types
                    or event["event"] == "close"
                ):
                    yield event
        finally:
            self.response = None
            response.close()


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body of a streamed response as it arrives; a response closed under the reader
    (a dropped connection, or ``close()`` from another thread) ends it with a
    ``ConnectionError`` whatever urllib3 makes of it."""
    try:
        yield from response.iter_content(chunk_size=None)
    except (requests.RequestException, OSError):
        raise
    except Exception as exc:
        if getattr(response.raw, "closed", False):
            raise requests.ConnectionError("the event stream was closed") from exc
        raise


def _parse_sse(chunks: Iterable[bytes]) -> Iterator[JSON]:
    """Events of an SSE byte stream: ``{"id": int | None, "event": str, "data": Any}``."""
    buffer = b""
    fields: dict[str, str] = {}
    data: list[str] = []
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8").rstrip("\r")
            if not line:
                if data:
                    text = "\n".join(data)
                    try:
                        payload: Any = json.loads(text)
                    except ValueError:
                        payload = text
                    raw_id = fields.get("id")
                    yield {
                        "id": int(raw_id) if raw_id and raw_id.isdigit() else None,
                        "event": fields.get("event", "message"),
                        "data": payload,
                    }
                fields, data = {}, []
                continue
            if line.startswith(":"):
                continue  # a comment: keepalive
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "data":
                data.append(value)
            else:
                fields[key] = value


# ---------------------------------------------------------------------------- the client
