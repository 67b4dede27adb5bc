"""Per-run event streams: state, progress and log events, numbered, persisted, replayable.

Every event of a run gets the next ``seq`` of that run (1, 2, 3, ...): it is the SSE ``id``, so a
client that reconnects with ``Last-Event-ID: n`` gets exactly the events after ``n``. Events go to
live subscribers at once and to the database in batches (every ``flush_interval`` seconds), so a
job printing tens of thousands of lines a second costs one INSERT per batch, not per line.

A subscriber first gets a replay: rows already in the database, then the events still waiting to
be written, then live events. All of this runs on the event loop's thread, so nothing can slip in
between the snapshot and the subscription.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import select

from jobext.db.engine import Store
from jobext.db.tables import RunEvent
from jobext.times import iso, utcnow

log = logging.getLogger(__name__)


_quote = json.encoder.encode_basestring  # the C encoder: JSON string with non-ASCII kept


@dataclasses.dataclass(slots=True)
class Event:
    """One event of a run's stream; ``text`` is the log line, or JSON for other types.

    Its SSE form is built once, however many clients follow the run; the lines of one batch
    share the formatting of their timestamp.
    """

    run_id: int
    seq: int
    ts: dt.datetime
    type: str
    text: str
    stream: str | None = None
    level: str | None = None
    ts_iso: str = ""
    _sse: str | None = None

    def __post_init__(self) -> None:
        if not self.ts_iso:
            self.ts_iso = iso(self.ts) or ""

    def data(self) -> str:
        """The SSE ``data`` field: JSON (for a log line, the same as ``json.dumps(log_json())``)."""
        if self.type != "log":
            return self.text
        stream = "null" if self.stream is None else _quote(self.stream)
        level = "null" if self.level is None else _quote(self.level)
        return (
            f'{{"seq": {self.seq}, "ts": "{self.ts_iso}", "stream": {stream}, '
            f'"level": {level}, "text": {_quote(self.text)}}}'
        )

    def log_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts_iso,
            "stream": self.stream,
            "level": self.level,
            "text": self.text,
        }

    def sse(self) -> str:
        if self._sse is None:
            self._sse = f"id: {self.seq}\nevent: {self.type}\ndata: {self.data()}\n\n"
        return self._sse

    def row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "ts": self.ts,
            "type": self.type,
            "stream": self.stream,
            "level": self.level,
            "text": self.text,
        }

    @classmethod
    def from_row(cls, row: RunEvent) -> Event:
        return cls(
            run_id=row.run_id,
            seq=row.seq,
            ts=row.ts,
            type=row.type,
            text=row.text,
            stream=row.stream,
            level=row.level,
        )


#: A subscriber more than this many events behind reads from the database instead of memory.
MAX_QUEUED_EVENTS = 50_000
_CATCH_UP_BATCH = 5_000


class Subscription:
    """A live view of one run's events; each :meth:`get` returns the next ones, in order.

    A slow client never makes the server hold an unbounded backlog: past
    :data:`MAX_QUEUED_EVENTS` waiting events the subscription drops them and catches up from the
    database, then goes live again.
    """

    def __init__(self, hub: EventHub, run_id: int, after: int):
        self.hub = hub
        self.run_id = run_id
        self.last_seq = after
        self._queue: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._queued = 0
        self.lagging = False
        self.closed = False

    def _push(self, events: list[Event]) -> None:
        if self.lagging:
            return
        self._queued += len(events)
        if self._queued > MAX_QUEUED_EVENTS:
            self.lagging = True
            self._queue = asyncio.Queue()
            self._queued = 0
            return
        self._queue.put_nowait(events)

    async def get(self, timeout: float) -> list[Event]:
        """The next events in order, each seen once; ``[]`` when ``timeout`` passes first."""
        if self.lagging:
            batch = self.hub.read_after(self.run_id, self.last_seq, limit=_CATCH_UP_BATCH)
            if len(batch) < _CATCH_UP_BATCH:
                # Caught up; nothing can be emitted between that read and this line.
                self.lagging = False
        else:
            try:
                batch = await asyncio.wait_for(self._queue.get(), timeout)
                self._queued -= len(batch)
            except asyncio.TimeoutError:
                # Events written by another server reach this one only through the database.
                batch = self.hub.read_after(self.run_id, self.last_seq)
        fresh = [e for e in batch if e.seq > self.last_seq]
        if fresh:
            self.last_seq = fresh[-1].seq
        return fresh

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub._unsubscribe(self)


class EventHub:
    """Numbers, fans out and persists the events of every run this server touches."""

    def __init__(self, store: Store, *, flush_interval: float = 0.05):
        self.store = store
        self.flush_interval = flush_interval
        self._seq: dict[int, int] = {}
        self._pending: list[Event] = []
        self._subs: dict[int, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._has_pending = asyncio.Event()

    # -- writing

    def _next_seq(self, run_id: int) -> int:
        seq = self._seq.get(run_id)
        if seq is None:
            with self.store.read() as session:
                seq = session.exec(
                    select(func.coalesce(func.max(RunEvent.seq), 0)).where(
                        RunEvent.run_id == run_id
                    )
                ).one()
        seq = int(seq) + 1
        self._seq[run_id] = seq
        return seq

    def open_stream(self, run_id: int) -> None:
        """Start numbering the events of a run that was just created (saves a lookup)."""
        self._seq.setdefault(run_id, 0)

    def emit(
        self,
        run_id: int,
        type: str,
        text: str,
        *,
        stream: str | None = None,
        level: str | None = None,
    ) -> Event:
        """Number and publish one event."""
        event = Event(run_id, self._next_seq(run_id), utcnow(), type, text, stream, level)
        self._publish(run_id, [event])
        return event

    def emit_json(self, run_id: int, type: str, data: Any) -> Event:
        return self.emit(run_id, type, json.dumps(data, ensure_ascii=False))

    def emit_logs(
        self, run_id: int, lines: Iterable[tuple[str, str | None, str]], ts: dt.datetime | None
    ) -> None:
        """Publish many log lines ``(stream, level, text)`` at once."""
        seq = self._seq.get(run_id)
        if seq is None:
            seq = self._next_seq(run_id) - 1
        when = ts or utcnow()
        when_iso = iso(when) or ""
        events = []
        for stream, level, text in lines:
            seq += 1
            events.append(Event(run_id, seq, when, "log", text, stream, level, when_iso))
        if events:
            self._seq[run_id] = seq
            self._publish(run_id, events)

    def _publish(self, run_id: int, events: list[Event]) -> None:
        self._pending.extend(events)
        self._has_pending.set()
        for sub in self._subs.get(run_id, ()):
            sub._push(events)

    def flush(self) -> None:
        """Write the waiting events to the database in one statement.

        When the database cannot be reached the events wait for the next flush. When some row
        cannot be stored, the batch is written row by row (see :meth:`_insert_alone`), so one
        bad line never blocks a run's stream.
        """
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            self._insert(pending)
        except OperationalError:
            log.warning("jobext: could not write %d run events; will retry", len(pending))
            self._pending[:0] = pending
            raise
        except Exception:
            for event in pending:
                self._insert_alone(event)

    def _insert_alone(self, event: Event) -> None:
        """Write one event that failed in a batch: renumbered when its ``seq`` is taken (another
        server wrote to this run's stream), made safe when its text is not storable, dropped
        (and logged) only when neither helps."""
        for attempt in range(3):
            try:
                self._insert([event])
                return
            except OperationalError:
                self._pending.append(event)
                return
            except IntegrityError:
                with self.store.read() as session:
                    top = session.exec(
                        select(func.max(RunEvent.seq)).where(RunEvent.run_id == event.run_id)
                    ).one()
                event.seq = int(top or 0) + 1
                event._sse = None
                if self._seq.get(event.run_id, 0) < event.seq:
                    self._seq[event.run_id] = event.seq
            except Exception:
                if attempt:
                    break
                event.text = event.text.encode("utf-8", "backslashreplace").decode("utf-8")
        log.error("jobext: dropped event %s of run %s", event.seq, event.run_id)

    def _insert(self, events: list[Event]) -> None:
        # Core, not the ORM's bulk path: a third of the cost per row.
        with self.store.write() as session:
            session.connection().execute(insert(RunEvent.__table__), [e.row() for e in events])

    def forget(self, run_id: int) -> None:
        """Drop the sequence counter of a run that has ended (after a flush)."""
        self._seq.pop(run_id, None)

    def discard(self, run_id: int) -> None:
        """Forget a removed run entirely: its unwritten events are not written."""
        self._seq.pop(run_id, None)
        self._pending = [e for e in self._pending if e.run_id != run_id]

    async def run_flusher(self) -> None:
        """Flush ``flush_interval`` seconds after events arrive, until cancelled; idle, it
        sleeps until there is something to write."""
        while True:
            await self._has_pending.wait()
            await asyncio.sleep(self.flush_interval)
            try:
                self.flush()
            except Exception:
                await asyncio.sleep(1.0)
            if not self._pending:
                self._has_pending.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run_flusher())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self.flush()

    # -- reading

    def read_after(
        self, run_id: int, after: int, *, limit: int | None = None, type: str | None = None
    ) -> list[Event]:
        """Events of ``run_id`` with ``seq > after``, from the database and the unwritten batch."""
        stmt = select(RunEvent).where(RunEvent.run_id == run_id, RunEvent.seq > after)
        if type is not None:
            stmt = stmt.where(RunEvent.type == type)
        stmt = stmt.order_by(RunEvent.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.store.read() as session:
            events = [Event.from_row(r) for r in session.exec(stmt).all()]
        top = events[-1].seq if events else after
        if limit is None or len(events) < limit:
            extra = [
                e
                for e in self._pending
                if e.run_id == run_id and e.seq > top and (type is None or e.type == type)
            ]
            events.extend(extra[: None if limit is None else limit - len(events)])
        return events

    def subscribe(self, run_id: int, after: int = 0) -> tuple[Subscription, list[Event]]:
        """Subscribe to ``run_id``; return the subscription and the replay after ``after``."""
        replay = self.read_after(run_id, after)
        sub = Subscription(self, run_id, replay[-1].seq if replay else after)
        self._subs.setdefault(run_id, set()).add(sub)
        return sub, replay

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.run_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.run_id]

    def subscriber_count(self, run_id: int) -> int:
        return len(self._subs.get(run_id, ()))
