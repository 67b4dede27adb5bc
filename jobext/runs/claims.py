"""Claiming queued runs: which runs this server starts next, decided in the database so that
servers sharing it never start a run twice nor more runs of a job than it allows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.tables import Job, Run
from jobext.states import ACTIVE, RunStatus
from jobext.times import utcnow
from jobext.workers.heartbeats import accepts_runs


def claim_queued_runs(
    session: Session, db: Database, *, server_id: str, pinned: set[str], slots: int
) -> tuple[list[tuple[Run, Job]], dt.datetime | None]:
    """Claim up to ``slots`` queued runs, oldest first, within each job's max_concurrent;
    and say when the first queued run that waits for its backoff may start.

    One transaction: the jobs' rows are locked while their active runs are counted, and
    each claim is a compare-and-set on the run's status, so servers sharing the database
    never start the same run twice nor more runs of a job than it allows. A draining (or
    offline) worker claims nothing; its row stays share-locked until the claim commits.
    """
    if not accepts_runs(session, server_id):
        return [], None
    now = utcnow()
    backoff = session.exec(
        select(func.min(Run.not_before)).where(
            Run.status == RunStatus.QUEUED.value, Run.not_before > now
        )
    ).one()
    # The few columns that decide; the runs chosen are read whole at the end.
    candidates = session.exec(
        select(Run.id, Run.job, Run.batch_id, Run.worker)
        .where(
            Run.status == RunStatus.QUEUED.value,
            or_(Run.not_before.is_(None), Run.not_before <= now),
            or_(Run.worker.is_(None), Run.worker.in_([server_id, *pinned])),
        )
        .order_by(Run.id)
        .limit(slots * 4 + 20)
    ).all()
    if not candidates:
        return [], backoff
    names = sorted({row[1] for row in candidates})
    jobs = {
        j.name: j
        for j in session.exec(
            db.for_update(select(Job).where(Job.name.in_(names)).order_by(Job.name))
        ).all()
    }
    active = dict(
        session.exec(
            select(Run.job, func.count())
            .where(
                Run.job.in_(names),
                Run.status.in_([s.value for s in ACTIVE]),
                # A batch's runs are bounded by the batch, not by max_concurrent.
                Run.batch_id.is_(None),
            )
            .group_by(Run.job)
        ).all()
    )
    chosen: list[int] = []
    for run_id, job_name, batch_id, pinned_to in candidates:
        if len(chosen) >= slots:
            break
        job = jobs.get(job_name)
        own = batch_id is None
        if job is None or (own and active.get(job_name, 0) >= job.max_concurrent):
            continue
        if pinned_to in pinned and not accepts_runs(session, pinned_to):
            continue
        # Pinned to another worker: it stays that run's worker; else this server's, until
        # a remote executor's claim names where the run executes.
        worker = pinned_to if pinned_to in pinned else server_id
        claimed = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
            .values(
                status=RunStatus.RUNNING.value,
                worker=worker,
                server=server_id,
                started_at=now,
                updated_at=now,
            )
            .returning(Run.id)
        ).first()
        if claimed is not None:
            active[job_name] = active.get(job_name, 0) + own
            chosen.append(run_id)
    if not chosen:
        return [], backoff
    runs = session.exec(select(Run).where(Run.id.in_(chosen)).order_by(Run.id)).all()
    return [(run, jobs[run.job]) for run in runs], backoff
