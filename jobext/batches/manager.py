"""The rules of batches: create, directives, delete, and reading them.

A directive only changes the batch's row (and its sub-jobs' states) in one transaction, as
:data:`~jobext.states.BATCH_ACTIONS` allows; the controller of the server that holds the
batch's lease does the work that follows (starting groups, stopping and clearing runs). Every
run a batch makes or stops goes through :class:`~jobext.runs.manager.RunManager`, like the REST
API's. Nothing here knows HTTP. What a directive does is in :mod:`jobext.batches.directives`,
the detail of one batch in :mod:`jobext.batches.detail`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from jobext.batches.detail import batch_detail, batch_list_items
from jobext.batches.directives import apply_directive, reset_for_start, set_sub_job_states
from jobext.batches.lanes import stop_queued_runs
from jobext.batches.shapes import BatchCreate, SubJobState, batch_json
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Batch, BatchSubJob, Job, Run, Worker
from jobext.errors import Conflict, Invalid, NotFound
from jobext.kinds import registry as kinds
from jobext.runs.actions import stop_run
from jobext.runs.manager import RunManager
from jobext.runs.removal import delete_runs
from jobext.shapes import parse
from jobext.states import IN_PROGRESS, BatchDirective, BatchStatus
from jobext.times import utcnow

BATCH_SORTS = ("id", "job", "status", "created_at", "updated_at", "start_time", "stop_time")
#: Sub-jobs shown per page of ``GET /batches/{id}`` unless asked otherwise.
SUB_JOBS_PER_PAGE = 100
MAX_SUB_JOBS_PER_PAGE = 1000

_S = SubJobState


def get_batch(session: Session, batch_id: int, *, lock: Any = None) -> Batch:
    """Batch ``batch_id`` (row-locked on PostgreSQL when ``lock`` is the database); 404."""
    stmt = select(Batch).where(Batch.id == batch_id)
    batch: Batch | None = session.exec(lock.for_update(stmt) if lock is not None else stmt).first()
    if batch is None:
        raise NotFound(f"no batch with id {batch_id}")
    return batch


def check_worker(session: Session, worker_id: str) -> None:
    """A batch may be pinned to a worker that exists and is not offline; else 400 ``worker``."""
    worker = session.get(Worker, worker_id)
    if worker is None:
        raise Invalid("worker", f"no worker {worker_id!r} (GET /workers lists them)")
    if worker.offline_at is not None:
        raise Invalid("worker", f"worker {worker_id!r} ({worker.name}) is offline")


class BatchManager:
    """Batches over the database; one per server."""

    def __init__(self, runs: RunManager, *, server_id: str):
        self.runs = runs
        self.db = runs.db
        self.server_id = server_id
        #: Called after a change the controller should act on now.
        self.on_change: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ events

    def publish(self, batch: Batch) -> None:
        """Tell the server-wide feed (``event: batch``)."""
        self.runs.hub.feed.publish("batch", batch_json(batch))

    def changed(self, batch: Batch) -> None:
        self.publish(batch)
        self.on_change()

    # ------------------------------------------------------------------ creating

    async def create(self, job_name: str, data: Any, *, user: str | None) -> Batch:
        """A batch of ``job_name``: ``starting`` at once, or ``created`` with ``start: false``.

        404 for an unknown job, 403 for a disabled kind, 400 naming ``concurrent``,
        ``jobs_per_second``, ``iterations``, ``failures_to_ignore``, ``args`` or ``worker``.
        """
        request = parse(BatchCreate, data)

        def insert_batch(session: Session) -> Batch:
            if request.worker is not None:
                check_worker(session, request.worker)
            job = session.get(Job, job_name)
            if job is None:
                raise NotFound(f"no job named {job_name!r}")
            self.runs.jobs.check_kind(job.kind)
            kinds.merge_args(job.kind, job.default_args, request.args, target=job.target)
            now = utcnow()
            batch = Batch(
                job=job.name,
                status=BatchStatus.CREATED.value,
                args=request.args,
                concurrent=request.concurrent,
                jobs_per_second=request.jobs_per_second,
                iterations=request.iterations,
                failures_to_ignore=request.failures_to_ignore,
                worker=request.worker,
                created_by=user,
                started_by=user,
                created_at=now,
                updated_at=now,
            )
            session.add(batch)
            session.flush()
            session.execute(
                insert(BatchSubJob),
                [
                    {
                        "batch_id": batch.id,
                        "idx": idx,
                        "state": _S.PENDING.value,
                        "iteration": 1,
                        "done": 0,
                        "failures": 0,
                    }
                    for idx in range(request.concurrent)
                ],
            )
            if request.start:
                reset_for_start(session, batch, user)
            return batch

        batch = await self.db.run(insert_batch)
        self.changed(batch)
        return batch

    # ------------------------------------------------------------------ directives

    async def direct(
        self,
        batch_id: int,
        directive: BatchDirective,
        *,
        jobs_per_second: int | None = None,
        user: str | None,
    ) -> Batch:
        """Apply a directive as :data:`~jobext.states.BATCH_ACTIONS` allows; 409 saying why
        when the batch's status does not allow it. ``jobs_per_second`` (start, unpause) sets
        the pace of the sub-jobs it starts."""
        if jobs_per_second is not None and directive not in (
            BatchDirective.START,
            BatchDirective.UNPAUSE,
        ):
            raise Invalid("jobs_per_second", "only start and unpause take a pace")
        changed = False

        def apply(session: Session) -> Batch:
            nonlocal changed
            batch = get_batch(session, batch_id, lock=self.db)
            changed = apply_directive(
                session, batch, directive, jobs_per_second=jobs_per_second, user=user
            )
            return batch

        batch = await self.db.run(apply)
        if changed:
            self.changed(batch)
        return batch

    # ------------------------------------------------------------------ deleting

    async def delete(self, batch_id: int) -> int:
        """Stop what the batch runs (at once), then delete the batch, its sub-jobs and every
        run of it with logs and result files. Returns how many runs went; 404 if unknown."""

        def halt(session: Session) -> list[int]:
            batch = get_batch(session, batch_id, lock=self.db)
            # From here on the controller starts nothing of it.
            batch.status = BatchStatus.STOPPING.value
            session.add(batch)
            set_sub_job_states(session, batch_id, [_S.PENDING.value, _S.HELD.value], _S.STOPPED)
            # In this transaction, so that no server claims one before they are deleted below.
            stop_queued_runs(session, batch_id, "stopped: its batch was deleted")
            return [
                run_id
                for run_id in session.exec(
                    select(Run.id).where(
                        Run.batch_id == batch_id,
                        col(Run.status).in_([s.value for s in IN_PROGRESS]),
                    )
                ).all()
                if run_id is not None
            ]

        for run_id in await self.db.run(halt):
            try:
                await stop_run(self.runs, run_id, force=True, user=None, by_batch=True)
            except (Conflict, NotFound):
                pass

        def drop(session: Session) -> list[int]:
            get_batch(session, batch_id, lock=self.db)
            session.execute(delete(BatchSubJob).where(col(BatchSubJob.batch_id) == batch_id))
            session.execute(delete(Batch).where(col(Batch.id) == batch_id))
            ids = session.exec(select(Run.id).where(Run.batch_id == batch_id)).all()
            return [run_id for run_id in ids if run_id is not None]

        ids = await self.db.run(drop)
        self.runs.hub.discard(ids)
        removed = await delete_runs(
            self.db, self.runs.results_dir, ids, publish=self.runs.hub.feed.publish
        )
        self.runs.hub.feed.publish("batch", {"id": batch_id, "deleted": True})
        return removed

    async def delete_of_job(self, job_name: str) -> int:
        """Delete every batch of ``job_name`` (see :meth:`delete`); returns how many batches
        went. 404 when there is no such job and no batch of it."""

        def read(session: Session) -> tuple[bool, list[int]]:
            known = session.get(Job, job_name) is not None
            ids = session.exec(select(Batch.id).where(Batch.job == job_name)).all()
            return known, [i for i in ids if i is not None]

        known, ids = await self.db.read(read)
        if not known and not ids:
            raise NotFound(f"no job named {job_name!r}")
        for batch_id in ids:
            try:
                await self.delete(batch_id)
            except NotFound:
                pass
        return len(ids)

    # ------------------------------------------------------------------ reading

    async def get(self, batch_id: int) -> Batch:
        return await self.db.read(lambda s: get_batch(s, batch_id))

    async def list_page(
        self, page: PageRequest, *, job: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of batches, each with ``counts`` (its sub-jobs by shown status, one query
        for the page), and the total; ``status`` is a status or a comma list (400 naming it)."""
        stmt = select(Batch)
        if job is not None:
            stmt = stmt.where(Batch.job == job)
        if status:
            stmt = stmt.where(col(Batch.status).in_(parse_batch_statuses(status)))
        if page.search:
            stmt = stmt.where(col(Batch.job).contains(page.search, autoescape=True))
        columns = {name: getattr(Batch, name) for name in BATCH_SORTS}

        def read(session: Session) -> tuple[list[dict[str, Any]], int]:
            batches, total = paginate(
                session, stmt, page, columns=columns, default_sort="-id", tiebreak=Batch.id
            )
            return batch_list_items(session, batches), total

        return await self.db.read(read)

    async def detail(
        self, batch_id: int, *, page: int = 0, per_page: int = SUB_JOBS_PER_PAGE
    ) -> dict[str, Any]:
        """The batch with ``counts`` (sub-jobs by shown status), ``concurrent_jobs`` (runs
        running now), ``lag_s`` (how far behind its pace the longest-waiting sub-job is) and
        one page of ``sub_jobs``."""
        return await self.db.read(lambda s: batch_detail(s, get_batch(s, batch_id), page, per_page))


def parse_batch_statuses(value: str) -> list[str]:
    """``running`` or ``paused,stopped``; 400 on ``status`` for an unknown name."""
    wanted = []
    for part in (p.strip().lower() for p in value.split(",")):
        if not part:
            continue
        try:
            wanted.append(BatchStatus(part).value)
        except ValueError:
            known = ", ".join(s.value for s in BatchStatus)
            raise Invalid("status", f"unknown batch status {part!r}; use one of {known}") from None
    if not wanted:
        raise Invalid("status", "names no status")
    return wanted
