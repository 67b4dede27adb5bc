"""The server-wide feed of changes (``GET /events``): runs, progress, schedules, batches,
workers, jobs; numbered in this server's life, with a backlog for clients that reconnect."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import uuid as uuid_mod
from typing import Any

#: Server-wide changes kept for clients that reconnect with ``Last-Event-ID``.
FEED_BACKLOG = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One entry of the server-wide feed: ``kind`` (``run``, ``progress``, ``schedule``, …)
    and its JSON, numbered in this server's life."""

    id: int
    kind: str
    data: str

    def sse(self, epoch: str) -> str:
        return f"id: {epoch}-{self.id}\nevent: {self.kind}\ndata: {self.data}\n\n"


class Feed:
    """The server-wide stream of changes (``GET /events``): numbered, with a backlog for
    clients that reconnect; a client whose ``Last-Event-ID`` is no longer in it is told to
    reload (``reset``)."""

    def __init__(self) -> None:
        #: Ids are ``<epoch>-<n>``: a client that comes back after a restart is told to reload.
        self.epoch = uuid_mod.uuid4().hex[:8]
        self._next = 1
        self._backlog: collections.deque[Change] = collections.deque(maxlen=FEED_BACKLOG)
        self._waiters: set[asyncio.Event] = set()
        #: Clients following the feed now.
        self.listeners = 0

    def publish(self, kind: str, data: Any) -> None:
        change = Change(self._next, kind, json.dumps(data, ensure_ascii=False))
        self._next += 1
        self._backlog.append(change)
        for waiter in self._waiters:
            waiter.set()

    def latest(self) -> int:
        """The id of the newest change (0 before the first)."""
        return self._next - 1

    def since(self, last_id: int) -> list[Change] | None:
        """Changes after ``last_id``; None when some of them are no longer kept."""
        if last_id >= self._next - 1:
            return []
        if not self._backlog or self._backlog[0].id > last_id + 1:
            return None
        start = last_id + 1 - self._backlog[0].id
        return list(self._backlog)[start:]

    async def wait(self, last_id: int, timeout: float) -> None:
        """Until there is a change after ``last_id`` or ``timeout`` passes."""
        if last_id < self._next - 1:
            return
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(waiter.wait(), timeout)
        finally:
            self._waiters.discard(waiter)
