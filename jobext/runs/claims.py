"""Claiming queued runs: which runs this server starts next, decided in the database so that
servers sharing it never start a run twice nor more runs of a job than it allows.

A claim follows every run's end (in the same transaction) and every enqueue, so its
statements are built once, here, and the columns that decide are read through the connection,
not as ORM objects: only the runs chosen and their jobs are loaded whole.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlmodel import Session

from jobext.db.engine import Database
from jobext.db.tables import Job, Run
from jobext.states import ACTIVE, RunStatus
from jobext.times import utcnow
from jobext.workers.heartbeats import accepts_runs

_RUN = Run.__table__.c  # type: ignore[attr-defined]
_QUEUED = RunStatus.QUEUED.value

#: When the first queued run that waits for its backoff (``not_before``) may start.
_BACKOFF = select(func.min(_RUN.not_before)).where(
    _RUN.status == _QUEUED, _RUN.not_before > bindparam("now")
)
#: The oldest startable queued runs: the columns that decide.
_CANDIDATES = (
    select(_RUN.id, _RUN.job, _RUN.batch_id, _RUN.worker)
    .where(
        _RUN.status == _QUEUED,
        or_(_RUN.not_before.is_(None), _RUN.not_before <= bindparam("now")),
        or_(_RUN.worker.is_(None), _RUN.worker.in_(bindparam("workers", expanding=True))),
    )
    .order_by(_RUN.id)
    .limit(bindparam("limit"))
)
#: Active runs per job; a batch's runs are bounded by the batch, not by max_concurrent.
_ACTIVE = (
    select(_RUN.job, func.count())
    .where(
        _RUN.job.in_(bindparam("names", expanding=True)),
        _RUN.status.in_([s.value for s in ACTIVE]),
        _RUN.batch_id.is_(None),
    )
    .group_by(_RUN.job)
)
_JOBS: Select[Job] = (
    select(Job).where(Job.name.in_(bindparam("names", expanding=True))).order_by(Job.name)  # type: ignore[attr-defined]
)
_JOBS_LOCKED = _JOBS.with_for_update()
#: The compare-and-set: a run another server claimed meanwhile is not queued any more.
_CLAIM = (
    update(Run)
    .where(Run.id == bindparam("run_id"), Run.status == _QUEUED)  # type: ignore[arg-type]
    .values(
        status=RunStatus.RUNNING.value,
        worker=bindparam("worker"),
        server=bindparam("server"),
        started_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)
_CHOSEN: Select[Run] = (
    select(Run).where(Run.id.in_(bindparam("ids", expanding=True))).order_by(Run.id)  # type: ignore[union-attr]
)


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
    conn = session.connection()
    now = utcnow()
    backoff = conn.execute(_BACKOFF, {"now": now}).scalar()
    candidates = conn.execute(
        _CANDIDATES,
        {"now": now, "workers": [server_id, *pinned], "limit": slots * 4 + 20},
    ).all()
    if not candidates:
        return [], backoff
    names = sorted({row[1] for row in candidates})
    jobs_stmt = _JOBS_LOCKED if db.locks_rows else _JOBS
    jobs = {j.name: j for j in session.scalars(jobs_stmt, {"names": names})}
    active: dict[str, int] = {
        name: count for name, count in conn.execute(_ACTIVE, {"names": names})
    }
    # The start is stamped now, not at the transaction's start: the job locks above may have
    # waited for another server's end of a run, which is stamped before its commit; a start
    # stamped earlier would show the runs of a max_concurrent=1 job overlapping.
    started = utcnow()
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
        params = {"run_id": run_id, "worker": worker, "server": server_id, "now": started}
        if conn.execute(_CLAIM, params).rowcount == 1:
            active[job_name] = active.get(job_name, 0) + own
            chosen.append(run_id)
    if not chosen:
        return [], backoff
    runs = session.scalars(_CHOSEN, {"ids": chosen}).all()
    return [(run, jobs[run.job]) for run in runs], backoff
