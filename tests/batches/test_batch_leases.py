"""The lease that lets exactly one server drive a batch, on SQLite and PostgreSQL: two
controllers racing for the same batches each get a disjoint share, a controller can only
write to a batch it holds, and a lapsed lease is taken over."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pg import fresh_database, url_of
from sqlalchemy import insert, update
from sqlmodel import select

from jobext.batches.controller import BatchController
from jobext.batches.leases import LeaseLost
from jobext.db.engine import Database
from jobext.db.tables import Batch

N = 60


class _Batches:
    """What a controller needs of its manager to take leases."""

    def __init__(self, db: Database):
        self.db = db
        self.runs = None
        self.on_change: Any = None


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database.open(f"sqlite:///{tmp_path / 'leases.db'}")
        yield database
        database.dispose()
        return
    with fresh_database("jobext_leases") as name:
        database = Database.open(url_of(name))
        yield database
        database.dispose()


def controller(db: Database, server: str) -> BatchController:
    return BatchController(_Batches(db), server_id=server, lease_s=30.0)  # type: ignore[arg-type]


def owners(db: Database) -> dict[int, str | None]:
    with db.reading() as session:
        return {b.id: b.lease_owner for b in session.exec(select(Batch)).all() if b.id}


def test_two_controllers_never_hold_one_batch(db: Database) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with db.writing() as session:
        session.execute(
            insert(Batch),
            [
                {
                    "job": "j",
                    "status": ("starting", "running", "pausing", "stopping", "re-starting")[i % 5],
                    "concurrent": 1,
                    "failures_to_ignore": 0,
                    "failures": 0,
                    "done": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(N)
            ],
        )
    a, b = controller(db, "server-a"), controller(db, "server-b")

    def take(c: BatchController) -> list[int]:
        for _ in range(20):
            with db.writing() as session:
                c.leases.take(session)
        with db.reading() as session:
            return c.leases.held(session)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        held_a, held_b = pool.map(take, (a, b))
    assert set(held_a).isdisjoint(held_b)
    assert sorted(held_a + held_b) == sorted(owners(db))
    assert set(owners(db).values()) <= {"server-a", "server-b"}

    # Only the holder may write to a batch.
    some_a = held_a[0] if held_a else held_b[0]
    holder, other = (a, b) if held_a else (b, a)
    with db.writing() as session:
        holder.leases.locked(session, some_a)
    with pytest.raises(LeaseLost), db.writing() as session:
        other.leases.locked(session, some_a)

    # A lapsed lease (its server died) is taken over, and the old holder can no longer write.
    with db.writing() as session:
        session.execute(
            update(Batch)
            .where(Batch.lease_owner == holder.server_id)
            .values(lease_expires_at=now - dt.timedelta(seconds=1))
        )
    taken = take(other)
    assert sorted(taken) == sorted(owners(db))
    with pytest.raises(LeaseLost), db.writing() as session:
        holder.leases.locked(session, some_a)

    # A server that shuts down hands its leases back at once.
    with db.writing() as session:
        other.leases.release(session)
    assert set(owners(db).values()) == {None}
