"""Per-run event streams (state, progress, log), numbered by the database, replayable; and the
server-wide feed of state and progress changes that keeps lists live.

An event is created on the event loop without a number and waits in memory; every
``flush_interval`` seconds the waiting events are written in one transaction on the database's
thread, which numbers each run's events after the highest ``seq`` already stored for that run
(under the run's row lock on PostgreSQL; SQLite's write lock serialises writers anyway). So
servers writing to one run never clash, and ``seq`` is the SSE ``id``: a client reconnecting
with ``Last-Event-ID: n`` gets exactly the events after ``n``.

A follower (:class:`Subscription`) first reads what is stored, in bounded pages, then the events
each flush hands it once they are committed; it drops any it has seen. Events that another
server wrote reach this one through one change poll per server (:meth:`EventHub.run_poller`),
whatever the number of followers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select as sa_select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from jobext.db.engine import Database
from jobext.db.tables import RunEvent
from jobext.runs.changes import Feed
from jobext.runs.event_rows import EVENT_COLUMNS, Event, poll_changes, read_events, write_events
from jobext.runs.followers import PAGE, Subscription
from jobext.runs.shapes import run_json
from jobext.times import iso, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Events waiting to be written beyond which the executors stop reading their jobs' pipes until
#: a flush takes them (about a flush interval of a flood).
MAX_PENDING = 5_000


class EventHub:
    """Collects, persists and fans out the events of every run this server touches."""

    def __init__(self, db: Database, *, flush_interval: float = 0.05, poll_s: float = 1.0):
        self.db = db
        self.flush_interval = flush_interval
        self.poll_s = poll_s
        self.feed = Feed()
        self._pending: list[Event] = []
        self._subs: dict[int, set[Subscription]] = {}
        #: The highest seq known to be stored, for runs with subscribers.
        self._top: dict[int, int] = {}
        #: The highest seq this server's flushes wrote, set on the database's thread before the
        #: commit: the poll must not take this server's own writes, whose hand-out may still be
        #: on its way to the loop, for another server's.
        self._writing_top: dict[int, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._has_pending = asyncio.Event()
        #: Set while fewer than :data:`MAX_PENDING` events wait to be written; ``_crowded``
        #: while as many do.
        self._roomy = asyncio.Event()
        self._roomy.set()
        self._crowded = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._last_poll = utcnow()
        #: ``updated_at`` of the runs this server published, so the poll does not repeat them.
        self._published: dict[int, Any] = {}
        self._logged: dict[str, float] = {}
        self.api_base = "/jobext/api/v1"

    # -- writing

    def emit(
        self,
        run_id: int,
        type: str,
        text: str,
        *,
        stream: str | None = None,
        level: str | None = None,
    ) -> None:
        """Queue one event; it is numbered and published when it is written."""
        self._pending.append(Event(run_id, 0, utcnow(), type, text, stream, level))
        self._has_pending.set()

    def emit_json(self, run_id: int, type: str, data: Any) -> None:
        self.emit(run_id, type, json.dumps(data, ensure_ascii=False))

    def emit_state(self, run_id: int, run: dict[str, Any]) -> None:
        """A run's new state: in its stream, and in the server-wide feed."""
        self.emit_json(run_id, "state", run)
        self.feed.publish("run", run)
        if len(self._published) > 10_000:
            self._published.clear()
        self._published[run_id] = run.get("updated_at")

    def emit_progress(self, run_id: int, progress: dict[str, Any]) -> None:
        self.emit_json(run_id, "progress", progress)
        self.feed.publish("progress", {"id": run_id, **progress})

    def emit_logs(
        self, run_id: int, lines: Iterable[tuple[str, str | None, str]], ts: dt.datetime | None
    ) -> None:
        """Queue many log lines ``(stream, level, text)`` at once."""
        when = ts or utcnow()
        when_iso = iso(when) or ""
        before = len(self._pending)
        self._pending.extend(
            Event(run_id, 0, when, "log", text, stream, level, when_iso)
            for stream, level, text in lines
        )
        if len(self._pending) > before:
            self._has_pending.set()
            self._measure_backlog()

    def _measure_backlog(self) -> None:
        """Set both events from the number of events waiting (the one state they show)."""
        if len(self._pending) >= MAX_PENDING:
            self._roomy.clear()
            self._crowded.set()
        else:
            self._roomy.set()
            self._crowded.clear()

    async def room(self) -> None:
        """Return once fewer than :data:`MAX_PENDING` events wait to be written (at once when
        they do): the executors' pipe readers wait here during a flood, so the backlog stays in
        the job (its ``print`` waits) instead of growing in the server's memory."""
        if not self._roomy.is_set():
            await self._roomy.wait()

    async def flush(self, then: Callable[[Session], T] | None = None) -> T | None:
        """Write the waiting events now, and hand them to their followers; with ``then``, run
        ``then(session)`` in the same transaction, after them, and return what it returns (a
        run's end is committed with its last log lines, in one round trip).

        When the database cannot be reached the events wait for the next flush (and the error
        is raised). When some row cannot be stored, its text is made safe and it is tried once
        more; what still fails is dropped and logged, so one bad line never blocks a run's
        stream (``then`` is still run, on its own).
        """
        async with self._flush_lock:
            if not self._pending and then is None:
                return None
            pending, self._pending = self._pending, []
            self._measure_backlog()

            def write(
                session: Session,
            ) -> tuple[tuple[list[Event], dict[int, tuple[int, int]]], T | None]:
                written = write_events(session, pending) if pending else ([], {})
                for run_id, (_, after) in written[1].items():
                    if run_id in self._subs:
                        self._writing_top[run_id] = after
                return written, (then(session) if then is not None else None)

            try:
                (written, tops), result = await self.db.run(write)
            except OperationalError:
                log.warning("jobext: could not write %d run events; will retry", len(pending))
                self._pending[:0] = pending
                self._measure_backlog()
                raise
            except Exception:
                for event in pending:
                    event.text = event.text.encode("utf-8", "backslashreplace").decode("utf-8")
                try:
                    (written, tops), result = await self.db.run(write)
                except Exception:
                    log.exception("jobext: dropped %d run events", len(pending))
                    return await self.db.run(then) if then is not None else None
            self._hand_out(written, tops)
            return result

    def _hand_out(self, events: list[Event], tops: dict[int, tuple[int, int]]) -> None:
        by_run: dict[int, list[Event]] = {}
        for event in events:
            by_run.setdefault(event.run_id, []).append(event)
        for run_id, (before, after) in tops.items():
            subs = self._subs.get(run_id)
            if not subs:
                continue
            # Behind what was stored before this batch (another server wrote in between): the
            # followers read it in order from the database. New followers read what came
            # before this batch from the database anyway, up to the first event handed to them.
            known = self._top.get(run_id)
            gap = known is not None and before > known
            self._top[run_id] = after
            for sub in subs:
                if gap:
                    sub._fall_behind()  # another server wrote in between: read it in order
                else:
                    sub._push(by_run.get(run_id, []))

    def discard(self, run_ids: Iterable[int]) -> None:
        """Forget removed runs: their unwritten events are not written (one pass over the
        backlog, however many runs)."""
        gone = set(run_ids)
        if gone:
            self._pending = [e for e in self._pending if e.run_id not in gone]
            self._measure_backlog()

    async def run_flusher(self) -> None:
        """Flush ``flush_interval`` seconds after events arrive, until cancelled; idle, it
        sleeps until there is something to write."""
        while True:
            await self._has_pending.wait()
            if not self._crowded.is_set():
                # A flood that fills the backlog is written at once, not after the interval.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._crowded.wait(), self.flush_interval)
            if not self._pending:
                self._has_pending.clear()
                continue
            try:
                await self.flush()
            except Exception:
                await asyncio.sleep(1.0)

    async def run_poller(self) -> None:
        """Once per ``poll_s``: one query for what other servers wrote to the runs that have
        followers here, and, while the server-wide feed has listeners, for the runs changed
        by other servers."""
        floor = 0
        while True:
            await asyncio.sleep(self.poll_s)
            watched = list(self._subs)
            since = self._last_poll if self.feed.listeners else None
            started = utcnow()
            try:
                poll = functools.partial(poll_changes, run_ids=watched, since=since, floor=floor)
                tops, changed, floor = await self.db.read(poll)
            except Exception:
                self.log_once("poll", "jobext: event poll failed")
                continue
            # Overlap the windows a little: a commit can land after its updated_at was set.
            self._last_poll = started - dt.timedelta(seconds=1)
            for run_id, top in tops.items():
                if top > max(self._top.get(run_id, 0), self._writing_top.get(run_id, 0)):
                    self._top[run_id] = top
                    for sub in self._subs.get(run_id, ()):
                        sub._fall_behind()
            for run in changed:
                data = run_json(run, self.api_base)
                if self._published.get(run.id or 0) != data["updated_at"]:
                    self.feed.publish("run", data)

    def log_once(self, key: str, message: str) -> None:
        """Log ``message`` with its traceback at most once a minute per ``key``."""
        now = asyncio.get_running_loop().time()
        if now - self._logged.get(key, -1e9) >= 60.0:
            self._logged[key] = now
            log.warning(message, exc_info=True)

    def start(self) -> None:
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self.run_flusher()),
                loop.create_task(self.run_poller()),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(OperationalError):
            await self.flush()

    # -- reading

    async def read_after(
        self, run_id: int, after: int, *, limit: int = PAGE, type: str | None = None
    ) -> list[Event]:
        """Stored events of ``run_id`` with ``seq > after``, at most ``limit``."""
        stmt = sa_select(*EVENT_COLUMNS).where(RunEvent.run_id == run_id, RunEvent.seq > after)
        if type is not None:
            stmt = stmt.where(RunEvent.type == type)
        stmt = stmt.order_by(RunEvent.seq).limit(limit)
        return await self.db.read(functools.partial(read_events, stmt=stmt))

    async def read_last(self, run_id: int, count: int, *, type: str | None = None) -> list[Event]:
        """The last ``count`` stored events of ``run_id`` (of ``type``), oldest first."""
        stmt = sa_select(*EVENT_COLUMNS).where(RunEvent.run_id == run_id)
        if type is not None:
            stmt = stmt.where(RunEvent.type == type)
        stmt = stmt.order_by(RunEvent.seq.desc()).limit(count)  # type: ignore[attr-defined]
        rows = await self.db.read(functools.partial(read_events, stmt=stmt))
        return rows[::-1]

    def subscribe(self, run_id: int, after: int = 0) -> Subscription:
        """Follow ``run_id`` from after ``after``: the first :meth:`Subscription.get` calls
        replay what is stored."""
        sub = Subscription(self, run_id, after)
        self._subs.setdefault(run_id, set()).add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.run_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.run_id]
                self._top.pop(sub.run_id, None)
                self._writing_top.pop(sub.run_id, None)

    def subscriber_count(self, run_id: int) -> int:
        return len(self._subs.get(run_id, ()))
