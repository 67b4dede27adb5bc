"""A follower of one run's events (:class:`Subscription`): what is stored first, read from the
database in bounded pages, then what the hub hands it as flushes commit, each event once and in
order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobext.runs.event_rows import Event
    from jobext.runs.events import EventHub

#: A follower more than this many events behind reads from the database instead of memory.
MAX_QUEUED_EVENTS = 50_000
#: Events read from the database at once (replay, catching up, paging logs).
PAGE = 5_000


class Subscription:
    """A live view of one run's events; each :meth:`get` returns the next ones, in order.

    It starts by reading the stored events after ``after`` page by page, then takes what the
    hub hands it. A slow client never makes the server hold an unbounded backlog: past
    :data:`MAX_QUEUED_EVENTS` waiting events the subscription drops them and reads from the
    database again.
    """

    def __init__(self, hub: EventHub, run_id: int, after: int):
        self.hub = hub
        self.run_id = run_id
        self.last_seq = after
        self._queue: collections.deque[list[Event]] = collections.deque()
        self._queued = 0
        self._ready = asyncio.Event()
        #: Read from the database before taking queued events.
        self.lagging = True
        #: Counts the times it fell behind: a read that a fall overtook does not catch it up.
        self._falls = 0
        self.closed = False

    def _push(self, events: list[Event]) -> None:
        if not events:
            return
        self._queued += len(events)
        if self._queued > MAX_QUEUED_EVENTS:
            self._fall_behind()
            return
        self._queue.append(events)
        self._ready.set()

    def _fall_behind(self) -> None:
        """Forget the queue: everything in it is stored, so read from the database."""
        self._queue.clear()
        self._queued = 0
        self.lagging = True
        self._falls += 1
        self._ready.set()

    async def get(self, timeout: float) -> list[Event]:
        """The next events in order, each seen once; ``[]`` when ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.lagging and self._queue and self._queue[0][0].seq <= self.last_seq + 1:
                # The replay reached what was handed out since it began: go on from memory.
                self.lagging = False
            if self.lagging:
                falls = self._falls
                batch = await self.hub.read_after(self.run_id, self.last_seq, limit=PAGE)
                if len(batch) < PAGE and falls == self._falls:
                    # Caught up; what was committed meanwhile is in the queue (unless it fell
                    # behind again during the read: then the queue was dropped, read again).
                    self.lagging = False
            elif self._queue:
                if self._queue[0][0].seq > self.last_seq + 1:
                    # Events were stored that this follower was not handed: read them.
                    self._fall_behind()
                    continue
                batch = self._queue.popleft()
                self._queued -= len(batch)
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                self._ready.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), remaining)
                continue
            fresh = [e for e in batch if e.seq > self.last_seq]
            if fresh:
                self.last_seq = fresh[-1].seq
                return fresh
            if not self.lagging and not self._queue and loop.time() >= deadline:
                return []

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub._unsubscribe(self)
