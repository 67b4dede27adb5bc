"""Any worker's row: registered, heartbeating, signed off; and what is asked of it.

A worker is where runs execute (a row of ``jobext_worker``, :class:`~jobext.db.tables.Worker`):
each Jupyter server's local executor is one (kind ``local``), each Dask worker another (kind
``dask``). Its id is a UUID; a run's ``worker`` names the worker that claimed it. Every worker
heartbeats: its row's ``last_seen`` and its host's ``stats`` are refreshed.

**Workers of another kind** (the Dask executor's) have no server process of their own: whoever
knows such a worker makes its row and keeps it alive with these functions::

    spec = WorkerSpec(WorkerKind.DASK, "tcp://10.0.0.7:40001", Host(...), slots=4)
    worker_id = await register_worker(db, spec, stats=...)   # a new UUID, ``ready``
    await heartbeat_worker(db, worker_id, stats=..., slots=...)  # every heartbeat_s
    await sign_off_worker(db, worker_id)                     # it left: ``offline`` at once

or, when several servers know the same worker (a Dask cluster shared by the servers of one
database), each calls :func:`upsert_worker` with an id they all derive from the worker itself:
one row, made by the first, kept alive by all. Inside the transaction that gives the worker a
run, ask :func:`accepts_runs` (not draining, not offline; PostgreSQL row-locks it so that a
drain waits for the claim). Give such a worker no ``pid``: it is judged by its heartbeat alone,
so ``offline_after_s`` after its last heartbeat it is ``offline``. ``drain`` and ``resume``
(:mod:`jobext.workers.manager`) act on every kind alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid as uuid_mod
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jobext.db.engine import Database
from jobext.db.tables import Worker
from jobext.errors import NotFound
from jobext.states import WorkerKind
from jobext.times import utcnow
from jobext.workers.host import Host


@dataclasses.dataclass(frozen=True)
class WorkerSpec:
    """What a worker is, for its whole life."""

    kind: WorkerKind
    name: str
    host: Host
    slots: int
    #: The process whose life is the worker's, on ``host``; None: judged by heartbeat alone.
    pid: int | None = None


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands times back without their (UTC) offset."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


async def register_worker(
    db: Database,
    spec: WorkerSpec,
    *,
    stats: dict[str, Any] | None = None,
    worker_id: str | None = None,
) -> str:
    """Make the row of a new worker (``ready``); return its id (a new UUID unless given)."""
    row = _row(spec, worker_id or str(uuid_mod.uuid4()), stats)
    await db.run(lambda s: s.add(row))
    return row.id


def _upsert(
    session: Session, spec: WorkerSpec, worker_id: str, stats: dict[str, Any] | None
) -> bool:
    row = session.get(Worker, worker_id)
    if row is None:
        session.add(_row(spec, worker_id, stats))
        session.flush()
        return True
    now = utcnow()
    values: dict[str, Any] = {"last_seen": now, "slots": spec.slots, "name": spec.name[:255]}
    if stats is not None:
        values["stats"] = stats
    if row.offline_at is not None:
        values.update(offline_at=None, updated_at=now)
    session.execute(update(Worker).where(col(Worker.id) == worker_id).values(**values))
    return False


async def upsert_worker(
    db: Database, spec: WorkerSpec, worker_id: str, *, stats: dict[str, Any] | None = None
) -> bool:
    """Make the row of worker ``worker_id`` (``ready``), or heartbeat it when it exists (with
    ``stats`` and ``spec.slots``; an offline one is live again, as ready or draining as it was
    left). For a worker that several servers know by the same id; True when this call made it."""
    try:
        return await db.run(functools.partial(_upsert, spec=spec, worker_id=worker_id, stats=stats))
    except IntegrityError:
        # Another server made it meanwhile: heartbeat it.
        return await db.run(functools.partial(_upsert, spec=spec, worker_id=worker_id, stats=stats))


def _row(spec: WorkerSpec, worker_id: str, stats: dict[str, Any] | None) -> Worker:
    now = utcnow()
    return Worker(
        id=worker_id,
        name=spec.name[:255],
        kind=spec.kind.value,
        host=spec.host.name[:255],
        machine=spec.host.machine[:255],
        pid=spec.pid,
        slots=spec.slots,
        started_at=now,
        last_seen=now,
        updated_at=now,
        os_name=spec.host.os_name[:64],
        os_version=spec.host.os_version[:255],
        cpu_arch=spec.host.cpu_arch[:32],
        cpu_cores=spec.host.cpu_cores,
        stats=stats,
    )


def _beat(
    session: Session, worker_id: str, stats: dict[str, Any] | None, slots: int | None
) -> bool:
    row = session.exec(select(Worker.id, Worker.offline_at).where(Worker.id == worker_id)).first()
    if row is None:
        raise NotFound(f"no worker with id {worker_id!r}")
    offline_at = row[1]
    now = utcnow()
    values: dict[str, Any] = {"last_seen": now}
    if stats is not None:
        values["stats"] = stats
    if slots is not None:
        values["slots"] = slots
    if offline_at is not None:
        values.update(offline_at=None, updated_at=now)
    session.execute(update(Worker).where(col(Worker.id) == worker_id).values(**values))
    return offline_at is not None


async def heartbeat_worker(
    db: Database,
    worker_id: str,
    *,
    stats: dict[str, Any] | None = None,
    slots: int | None = None,
) -> bool:
    """The worker is alive now (with fresh ``stats`` and ``slots`` when given). Returns True
    when it had been taken for offline (its runs were settled meanwhile): it is live again, as
    ready or draining as it was left. :class:`NotFound` when its row is gone."""
    return await db.run(functools.partial(_beat, worker_id=worker_id, stats=stats, slots=slots))


async def sign_off_worker(db: Database, worker_id: str) -> None:
    """The worker left: ``offline`` at once (its runs still in progress are settled by the next
    heartbeat of any server)."""
    now = utcnow()
    await db.run(
        lambda s: s.execute(
            update(Worker)
            .where(col(Worker.id) == worker_id, col(Worker.offline_at).is_(None))
            .values(offline_at=now, updated_at=now)
        )
    )


def accepts_runs(session: Session, worker_id: str) -> bool:
    """May ``worker_id`` be given a run now (it exists, is not draining, not offline)? For the
    transaction that claims runs: on PostgreSQL the row is share-locked until it commits, so a
    drain waits for the claim and no run is claimed after the drain answered."""
    conn = session.connection()
    stmt = _ACCEPTS_LOCKED if conn.dialect.name == "postgresql" else _ACCEPTS
    row = conn.execute(stmt, {"worker_id": worker_id}).first()
    return row is not None and not row[0] and row[1] is None


# Built once: every claim asks it.
_ACCEPTS = sa_select(Worker.draining, Worker.offline_at).where(  # type: ignore[call-overload]
    Worker.id == bindparam("worker_id")
)
_ACCEPTS_LOCKED = _ACCEPTS.with_for_update(read=True)


def worker_alive(session: Session, worker_id: str, *, offline_after_s: float) -> bool:
    """Is ``worker_id`` a worker that is not offline and heartbeat within ``offline_after_s``?"""
    row = session.get(Worker, worker_id)
    if row is None or row.offline_at is not None:
        return False
    return aware(row.last_seen) >= utcnow() - dt.timedelta(seconds=offline_after_s)
