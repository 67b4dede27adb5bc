"""One run's row inside a transaction: fetched (404 when unknown), refused when a batch's (409),
its status set with the times that go with it.

Apart from :mod:`jobext.runs.manager` so that :mod:`jobext.runs.removal`, which the job manager
imports, can use them without importing the run manager (which imports the job manager).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.tables import Run
from jobext.errors import Conflict, NotFound
from jobext.states import FINAL, RunStatus
from jobext.times import utcnow

#: One run by id, and the same row-locked (PostgreSQL): built once, as every run's end and
#: every read of a run asks.
_RUN_BY_ID = select(Run).where(Run.id == bindparam("run_id"))
_RUN_BY_ID_LOCKED = _RUN_BY_ID.with_for_update()
_RUN_TABLE = Run.__table__  # type: ignore[attr-defined]
#: The same as a plain row (its columns by name), for reads that only show the run.
_RUN_ROW_BY_ID = _RUN_TABLE.select().where(_RUN_TABLE.c.id == bindparam("run_id"))


def find_run(session: Session, run_id: int, *, lock: Database | None = None) -> Run | None:
    """Run ``run_id`` (row-locked on PostgreSQL when ``lock`` is given), or None."""
    stmt = _RUN_BY_ID_LOCKED if lock is not None and lock.locks_rows else _RUN_BY_ID
    return session.scalars(stmt, {"run_id": run_id}).first()


def run_row(connection: Connection, run_id: int) -> Row[Any]:
    """Run ``run_id`` as a row (attributes named as :class:`Run`'s); 404 when unknown."""
    row = connection.execute(_RUN_ROW_BY_ID, {"run_id": run_id}).first()
    if row is None:
        raise NotFound(f"no run with id {run_id}")
    return row


def get_run(session: Session, run_id: int, *, lock: Database | None = None) -> Run:
    """Run ``run_id`` (row-locked on PostgreSQL when ``lock`` is given); 404 when unknown."""
    run = find_run(session, run_id, lock=lock)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    return run


def refuse_batch_run(run: Run) -> None:
    """A batch's runs are steered by its directives only: 409 ``managed_by_batch``."""
    if run.batch_id is not None:
        raise Conflict(
            f"run {run.id} is managed by batch {run.batch_id}: use its directives",
            reason="managed_by_batch",
        )


def set_status(run: Run, new: RunStatus) -> None:
    """Set ``run``'s status with the times that go with it."""
    now = utcnow()
    run.status = new.value
    run.updated_at = now
    if new is RunStatus.RUNNING and run.started_at is None:
        run.started_at = now
    if new in FINAL:
        run.ended_at = now
        if run.started_at is not None:
            run.duration_s = round((now - run.started_at).total_seconds(), 3)
