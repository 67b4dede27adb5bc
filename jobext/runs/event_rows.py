"""Run events as rows: the :class:`Event` a run's stream carries, and how events are numbered,
written and read back in the database (the event hub, :mod:`jobext.runs.events`, decides when).

Each flush numbers a run's events after the highest ``seq`` already stored for that run, so
servers writing to one run never clash. SQLite's write lock serialises writers anyway. On
PostgreSQL a flush holds, until it commits, an advisory lock per run (taken in one order, so two
flushes never wait on each other in a cycle) and a ``FOR KEY SHARE`` lock on the run's row (the
run cannot be deleted under its new events). Not a row lock that updates wait for: a claim
holds a job's row while it updates that job's queued runs, and a run's end flushes events of
queued runs before it claims, so the two would wait on each other (a deadlock, seen when
several claims ran at once).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import bindparam, func, insert, text
from sqlmodel import Session, select

from jobext.db.tables import Run, RunEvent
from jobext.states import IN_PROGRESS
from jobext.times import iso

_quote = json.encoder.encode_basestring  # the C encoder: JSON string with non-ASCII kept


@dataclasses.dataclass(slots=True)
class Event:
    """One event of a run's stream; ``text`` is the log line, or JSON for other types.

    ``seq`` is 0 until the event is written. Its SSE form is built once, however many clients
    follow the run; the lines of one batch share the formatting of their timestamp.
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


#: The columns :func:`read_events` selects, in :class:`Event`'s order (plain rows, not ORM
#: objects: a follower replaying a flood reads thousands of them a second).
EVENT_COLUMNS = (
    RunEvent.run_id,
    RunEvent.seq,
    RunEvent.ts,
    RunEvent.type,
    RunEvent.text,
    RunEvent.stream,
    RunEvent.level,
)


def read_events(session: Session, stmt: Any) -> list[Event]:
    return [Event(*row) for row in session.execute(stmt).all()]


_RUN = Run.__table__.c  # type: ignore[attr-defined]
_EVENT = RunEvent.__table__.c  # type: ignore[attr-defined]
#: The top ``seq`` a run has stored: ``max`` of one run's events, which the ``(run_id, seq)``
#: index answers at once (a ``GROUP BY run_id`` over several runs reads every event of each).
_TOP = select(func.max(_EVENT.seq)).where(_EVENT.run_id == _RUN.id).correlate(Run).scalar_subquery()
#: Which of some runs still exist, with their top ``seq``: built once, as every flush asks. On
#: PostgreSQL a flush reads it with ``FOR KEY SHARE`` (see the module's docstring).
_ALIVE = select(_RUN.id, _TOP).where(_RUN.id.in_(bindparam("ids", expanding=True)))
_ALIVE_LOCKED = _ALIVE.with_for_update(of=Run, read=True, key_share=True)  # FOR KEY SHARE
#: The advisory locks under which a flush numbers runs' events on PostgreSQL, taken in the
#: order of their keys (the ordered subquery is not flattened: it is DISTINCT). Two int4 keys:
#: jobext's space, and the run's id folded into an int4 (ids 2**32 apart share a lock).
_NUMBERING = text(
    "SELECT count(pg_advisory_xact_lock(:space, k.key)) FROM (SELECT DISTINCT"
    " CAST(id % 4294967296 - 2147483648 AS int) AS key"
    " FROM unnest(CAST(:ids AS bigint[])) AS id ORDER BY 1) AS k"
)
#: jobext's key space of advisory locks ("jobx").
NUMBERING_SPACE = 0x6A6F6278


def stored_tops(session: Session, run_ids: list[int], *, lock: bool = False) -> dict[int, int]:
    """The top ``seq`` each of ``run_ids`` has stored (0: none yet); runs that do not exist
    are left out. ``lock`` takes the numbering locks on PostgreSQL (see the module's
    docstring)."""
    connection = session.connection()
    locked = lock and connection.dialect.name == "postgresql"  # as Database.locks_rows
    if locked:
        # Its own statement: the tops below are read in a snapshot taken after the wait.
        connection.execute(_NUMBERING, {"space": NUMBERING_SPACE, "ids": run_ids})
    rows = connection.execute(_ALIVE_LOCKED if locked else _ALIVE, {"ids": run_ids})
    return {int(run_id): int(top or 0) for run_id, top in rows}


def write_events(
    session: Session, events: list[Event]
) -> tuple[list[Event], dict[int, tuple[int, int]]]:
    """Number ``events`` after what each run has stored and insert them; events of runs that no
    longer exist are dropped. Returns the written events and, per run, the top ``seq`` before
    and after."""
    before = stored_tops(session, sorted({e.run_id for e in events}), lock=True)
    existing = before.keys()
    counters = dict(before)
    written = []
    for event in events:
        if event.run_id not in existing:
            continue
        counters[event.run_id] += 1
        event.seq = counters[event.run_id]
        event._sse = None
        written.append(event)
    if written:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            # The driver's own executemany with tuples: a flood is written at twice the rate
            # of SQLAlchemy's Core insert, which converts each row's parameters one by one.
            connection.exec_driver_sql(_SQLITE_INSERT, _sqlite_rows(written))
        else:
            # Core, not the ORM's bulk path: a third of the cost per row.
            connection.execute(insert(RunEvent.__table__), [e.row() for e in written])
    return written, {run_id: (before[run_id], counters[run_id]) for run_id in existing}


_SQLITE_INSERT = (
    "INSERT INTO jobext_run_event (run_id, seq, ts, type, stream, level, text)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _sqlite_rows(events: list[Event]) -> list[tuple[Any, ...]]:
    """The rows of ``events`` for :data:`_SQLITE_INSERT`, times written as SQLAlchemy writes a
    ``DateTime`` on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC); the lines of one batch share
    their time, formatted once."""
    rows = []
    last: dt.datetime | None = None
    text = ""
    for e in events:
        if e.ts is not last:
            last = e.ts
            text = e.ts.strftime("%Y-%m-%d %H:%M:%S.%f")
        rows.append((e.run_id, e.seq, text, e.type, e.stream, e.level, e.text))
    return rows


def poll_changes(
    session: Session, run_ids: list[int], since: dt.datetime | None, floor: int
) -> tuple[dict[int, int], list[Run], int]:
    """The stored top ``seq`` of ``run_ids``; with ``since``, the runs changed after it (only
    runs from ``floor`` on can change: those in progress and the newer ones); and the floor for
    the next poll."""
    tops = stored_tops(session, run_ids) if run_ids else {}
    changed: list[Run] = []
    if since is not None:
        changed = list(
            session.exec(
                select(Run)
                .where(Run.id >= floor, Run.updated_at > since)
                .order_by(Run.id)
                .limit(1000)
            ).all()
        )
    in_progress = [s.value for s in IN_PROGRESS]
    lowest = session.exec(select(func.min(Run.id)).where(Run.status.in_(in_progress))).one()
    if lowest is None:
        lowest = (session.exec(select(func.max(Run.id))).one() or 0) + 1
    return tops, changed, int(lowest)
