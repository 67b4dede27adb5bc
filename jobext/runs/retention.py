"""Retention: which ended runs go (:func:`doomed_runs`: set-based statements over all jobs at
once, a window function numbering each job's runs newest first, never a query per job or per
run), removing them (:func:`apply_retention`), and when (:class:`RetentionPacer`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from jobext.db.tables import Job, Run
from jobext.runs.removal import delete_runs
from jobext.states import FINAL
from jobext.times import utcnow

if TYPE_CHECKING:
    from jobext.runs.manager import RunManager

#: Runs removed per round of a sweep.
RETENTION_BATCH = 2000
#: A job's retention runs at most once per this many seconds when its runs end.
RETAIN_EVERY_S = 1.0


def doomed_runs(
    session: Session,
    job_name: str | None,
    now: dt.datetime,
    *,
    default_keep_runs: int,
    default_keep_days: float,
) -> list[int]:
    """Ids of at most :data:`RETENTION_BATCH` ended runs to remove: beyond each job's
    ``keep_runs`` newest, or older than its ``keep_days`` (``default_*`` where the job sets
    none; 0 keeps all), of ``job_name`` or of every job. Runs whose job is gone (an app's
    redeploy dropped it and kept its history) follow the defaults. A batch's runs are never
    chosen: they stay until the batch starts again or is deleted."""
    ended = [s.value for s in FINAL]
    keep_runs = func.coalesce(Job.keep_runs, default_keep_runs)
    keep_days = func.coalesce(Job.keep_days, default_keep_days)
    jobs = select(Job.name, Job.keep_runs, Job.keep_days)
    if job_name is not None:
        jobs = jobs.where(Job.name == job_name)
    doomed: set[int] = set()
    # Beyond keep_runs: number each job's ended runs newest first.
    of_job = [Run.job == job_name] if job_name is not None else []
    ranked = (
        sa_select(
            Run.id.label("id"),
            Run.job.label("job"),
            func.row_number().over(partition_by=Run.job, order_by=Run.id.desc()).label("rank"),
        )
        # A batch's runs stay until its next start or its deletion.
        .where(Run.status.in_(ended), Run.batch_id.is_(None), *of_job)
        .subquery()
    )
    over = (
        sa_select(ranked.c.id)
        .join(Job, Job.name == ranked.c.job, isouter=True)
        .where(keep_runs > 0, ranked.c.rank > keep_runs)
        .limit(RETENTION_BATCH)
    )
    doomed.update(session.execute(over).scalars())
    # Older than keep_days: one statement per distinct setting (few).
    settings = {row[2] for row in session.exec(jobs).all()}
    if job_name is None:
        settings.add(None)  # the defaults, for the runs of jobs that are gone
    for days in settings:
        days = default_keep_days if days is None else days
        if not days:
            continue
        cutoff = now - dt.timedelta(days=days)
        stmt = (
            sa_select(Run.id)
            .join(Job, Job.name == Run.job, isouter=True)
            .where(
                Run.status.in_(ended),
                Run.batch_id.is_(None),
                Run.ended_at < cutoff,
                keep_days == days,
                *of_job,
            )
            .limit(RETENTION_BATCH)
        )
        doomed.update(session.execute(stmt).scalars())
    return sorted(doomed)[:RETENTION_BATCH]


async def apply_retention(
    runs: RunManager, job_name: str | None = None, *, now: dt.datetime | None = None
) -> int:
    """Remove ended runs beyond each job's ``keep_runs`` newest and older than its
    ``keep_days`` (the server's defaults where the job sets none; 0 keeps all), with their
    logs and results: of one job, or of all (the periodic sweep). Returns how many went.

    The doomed runs are found by a few set-based statements and removed in chunks."""
    removed = 0
    while True:
        ids = await runs.db.read(
            lambda s: doomed_runs(
                s,
                job_name,
                now or utcnow(),
                default_keep_runs=runs.default_keep_runs,
                default_keep_days=runs.default_keep_days,
            )
        )
        if not ids:
            return removed
        runs.hub.discard(ids)
        removed += await delete_runs(runs.db, runs.results_dir, ids, publish=runs.hub.feed.publish)
        if len(ids) < RETENTION_BATCH:
            return removed


class RetentionPacer:
    """Applies a job's retention when its runs end: at once, or within
    :data:`RETAIN_EVERY_S` of the last pass, so that runs ending in a burst share one pass (a
    pass reads all of the job's ended runs)."""

    def __init__(self, runs: RunManager):
        self.runs = runs
        self._jobs: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def soon(self, job: str) -> None:
        """Apply ``job``'s retention soon."""
        self._jobs.add(job)
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        try:
            while self._jobs and not self._closed:
                jobs, self._jobs = self._jobs, set()
                for job in sorted(jobs):
                    try:
                        await apply_retention(self.runs, job)
                    except Exception:
                        self.runs.hub.log_once("retention", "jobext: retention failed")
                await asyncio.sleep(RETAIN_EVERY_S)
        finally:
            self._task = None

    async def close(self) -> None:
        """Stop; a pass under way is cancelled (the periodic sweep catches up later)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
