"""The server-wide counts of ``GET /stats``: one read over every resource's table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.tables import Batch, Job, Run, Schedule, Worker
from jobext.states import BatchStatus, RunStatus


async def count_resources(db: Database) -> dict[str, Any]:
    """``{jobs, schedules, batches: {status: count}, workers, runs: {status: count}}``
    (``workers``: those not offline)."""

    def read(session: Session) -> dict[str, Any]:
        jobs = session.exec(select(func.count()).select_from(Job)).one()
        schedules = session.exec(
            select(func.count()).select_from(Schedule).where(Schedule.active)
        ).one()
        online = Worker.offline_at.is_(None)  # type: ignore[union-attr]
        workers = session.exec(select(func.count()).select_from(Worker).where(online)).one()
        by_status = dict(session.exec(select(Run.status, func.count()).group_by(Run.status)).all())
        runs = {s.value: int(by_status.get(s.value, 0)) for s in RunStatus}
        of_batches = dict(
            session.exec(select(Batch.status, func.count()).group_by(Batch.status)).all()
        )
        batches = {s.value: int(of_batches.get(s.value, 0)) for s in BatchStatus}
        return {
            "jobs": int(jobs),
            "schedules": int(schedules),
            "batches": batches,
            "workers": int(workers),
            "runs": runs,
        }

    return await db.read(read)
