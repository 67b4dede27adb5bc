"""The run operations: reading, enqueueing, and the one writer of a run's status
(:meth:`RunManager.transition`, and :meth:`RunManager.finish` for the end of its process; a
failed run's retry comes from :mod:`jobext.runs.retries`). The actions asked of a run (stop,
pause, resume, restart) are :mod:`jobext.runs.actions`; removing runs is
:mod:`jobext.runs.removal` and :mod:`jobext.runs.retention`.

The REST handlers, the run actions, the supervisor, the scheduler and the batch controller all
go through these coroutines, so every path shares one set of rules: which status may follow which
comes from :data:`~jobext.states.TRANSITIONS` (which action is legal, from
:data:`~jobext.states.RUN_ACTIONS`, is checked in :mod:`jobext.runs.actions`). Each database
step is one transaction run off the event loop; events are published on the loop once it has
committed. Nothing here knows HTTP.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Row, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Job, Run
from jobext.errors import Conflict, NotFound
from jobext.jobs.manager import JobManager
from jobext.kinds import registry as kinds
from jobext.runs.event_rows import Event
from jobext.runs.events import EventHub
from jobext.runs.filters import RunFilter
from jobext.runs.retries import Retry, announce_retry, insert_retry
from jobext.runs.rows import find_run, get_run, run_row, set_status
from jobext.runs.shapes import run_json
from jobext.states import (
    FINAL,
    IN_PROGRESS,
    RunStatus,
    Trigger,
    can_transition,
    check_transition,
)

log = logging.getLogger(__name__)

#: A run's job, and the same row-locked (PostgreSQL) while its runs are counted: built once,
#: as every run made asks.
_JOB = select(Job).where(Job.name == bindparam("name"))
_JOB_LOCKED = _JOB.with_for_update()

RUN_SORTS = ("id", "created_at", "started_at", "ended_at", "status", "job", "duration_s")


#: A run's columns, for reads that only show runs (rows, not ORM objects).
_RUN_COLUMNS = tuple(Run.__table__.c)  # type: ignore[attr-defined]


class RunManager:
    """Runs over the database, publishing their state changes to the event hub."""

    def __init__(self, db: Database, hub: EventHub, jobs: JobManager):
        self.db = db
        self.hub = hub
        self.jobs = jobs
        #: Retention where a job sets none (0: keep all), and the cap of retry backoff.
        self.default_keep_runs = 1000
        self.default_keep_days = 90.0
        self.max_backoff_s = 3600.0

    @property
    def results_dir(self) -> Path:
        return self.jobs.results_dir

    @property
    def control(self) -> Any:
        return self.jobs.control

    def run_json(self, run: Run | Row[Any]) -> dict[str, Any]:
        return run_json(run, self.jobs.api_base)

    # ------------------------------------------------------------------ reading

    async def get(self, run_id: int) -> Run:
        """One run, current or past; 404 when unknown."""
        return await self.db.read(lambda s: get_run(s, run_id))

    async def get_json(self, run_id: int) -> dict[str, Any]:
        """The API shape of one run, current or past (read as a plain row: clients poll it);
        404 when unknown."""
        return self.run_json(await self.db.read_rows(lambda c: run_row(c, run_id)))

    async def list_page(self, filters: RunFilter, page: PageRequest) -> tuple[list[Row[Any]], int]:
        """One page of runs matching ``filters``, as plain rows (attributes named as
        :class:`Run`'s): what a list shows needs no ORM objects, which cost more than the
        statement."""
        stmt = sa_select(*_RUN_COLUMNS).where(*filters.conditions())
        columns = {name: getattr(Run, name) for name in RUN_SORTS}
        return await self.db.read(
            lambda s: paginate(s, stmt, page, columns=columns, default_sort="-id", tiebreak=Run.id)
        )

    async def logs(
        self, run_id: int, *, after: int = 0, limit: int = 1000, tail: bool = False
    ) -> list[Event]:
        """Log lines of a run with ``seq > after``, at most ``limit`` (with ``tail``, its last
        ``limit`` lines instead); 404 for no such run."""
        await self.get(run_id)
        if tail:
            return await self.hub.read_last(run_id, limit, type="log")
        return await self.hub.read_after(run_id, after, limit=limit, type="log")

    # ------------------------------------------------------------------ creating

    async def enqueue(
        self,
        job_name: str,
        args: Any = None,
        *,
        user: str | None,
        trigger: Trigger = Trigger.MANUAL,
        **links: Any,
    ) -> Run:
        """Create a queued run of ``job_name``.

        409 when the job already has ``max_concurrent`` runs in progress, unless it sets
        ``queue_when_busy`` (then the run waits in ``queued``). 403 when its kind is disabled.
        ``links`` are the optional run fields of :meth:`insert_run`.
        """
        # A run that can start at once is claimed in the transaction that creates it.
        along = self.control.claim_along()

        def insert(session: Session) -> Run:
            run = self.insert_run(session, job_name, args, user=user, trigger=trigger, **links)
            if along is not None:
                # The reply shows the run as it was created; the claim reads it anew.
                session.expunge(run)
                _in_savepoint(session, along, f"the claim along run {run.id}'s enqueue")
            return run

        try:
            run = await self.db.run(insert)
        except BaseException:
            if along is not None:
                along.settle_soon(False)
            raise
        if along is None:
            self.announce(run)
        else:
            self.publish_state(run)
            along.settle_soon(True)
        return run

    def insert_run(
        self,
        session: Session,
        job_name: str,
        args: Any = None,
        *,
        user: str | None,
        trigger: Trigger = Trigger.MANUAL,
        wait_if_busy: bool = False,
        restarted_from: int | None = None,
        attempt: int = 1,
        scheduled_for: dt.datetime | None = None,
        schedule_id: int | None = None,
        batch_id: int | None = None,
        sub_job: int | None = None,
        iteration: int | None = None,
        worker: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> Run:
        """Add a queued run inside ``session``'s transaction (see :meth:`enqueue`); call
        :meth:`announce` once it is committed. ``wait_if_busy`` queues the run even when the
        job is at ``max_concurrent`` (retries, and schedules that replace a running run);
        ``worker`` pins the run to that server (only it claims the run).

        The job's row is locked while its runs are counted, so ``max_concurrent`` holds across
        servers sharing the database. A batch's runs (``batch_id``) neither count toward it nor
        are held by it: the batch bounds them itself.
        """
        stmt = _JOB_LOCKED if self.db.locks_rows else _JOB
        job = session.scalars(stmt, {"name": job_name}).first()
        if job is None:
            raise NotFound(f"no job named {job_name!r}")
        self.jobs.check_kind(job.kind)
        merged = kinds.merge_args(job.kind, job.default_args, args, target=job.target)
        if batch_id is None and not (job.queue_when_busy or wait_if_busy):
            busy = _count_own_runs(session, job.name)
            if busy >= job.max_concurrent:
                raise Conflict(
                    f"job {job.name!r} already has {busy} run(s) in progress "
                    f"(max_concurrent={job.max_concurrent}); stop one, or set "
                    "queue_when_busy to let new runs wait",
                    reason="busy",
                )
        run = Run(
            job=job.name,
            kind=job.kind,
            args=merged,
            trigger=trigger.value,
            user=user,
            restarted_from=restarted_from,
            attempt=attempt,
            scheduled_for=scheduled_for,
            schedule_id=schedule_id,
            batch_id=batch_id,
            sub_job=sub_job,
            iteration=iteration,
            worker=worker,
            not_before=not_before,
        )
        session.add(run)
        session.flush()
        if restarted_from is not None:
            session.execute(update(Run).where(Run.id == restarted_from).values(restarted_as=run.id))
        return run

    def announce(self, run: Run) -> None:
        """Publish a committed new run and let the dispatcher know."""
        self.publish_state(run)
        self.control.wake()

    def publish_state(self, run: Run) -> None:
        """Send a ``state`` event carrying the whole run."""
        assert run.id is not None
        self.hub.emit_state(run.id, self.run_json(run))

    def note(self, run_id: int, text: str, level: str = "INFO") -> None:
        """A line in the run's log from jobext itself (who asked for what, why it ended)."""
        self.hub.emit_logs(run_id, [("jobext", level, text)], None)

    # ------------------------------------------------------------------ status

    async def transition(
        self,
        run_id: int,
        new: RunStatus,
        *,
        action: str,
        expect: RunStatus | None = None,
        retry: bool = False,
        **fields: Any,
    ) -> Run:
        """Move a run to ``new`` if the state machine allows it, setting ``fields`` too.

        The one writer of a run's status. Raises :class:`Conflict` for an illegal move (or when
        ``expect`` is given and the run is no longer in it). With ``retry``, a run that fails
        and whose job has retries left gets its retry in the same transaction.
        """
        retried: list[Retry] = []

        def move(session: Session) -> Run:
            run = get_run(session, run_id, lock=self.db)
            current = run.state
            if expect is not None and current is not expect:
                raise Conflict(f"run {run_id} is {current.value}, not {expect.value}")
            check_transition(current, new, action=action)
            set_status(run, new)
            for key, value in fields.items():
                setattr(run, key, value)
            session.add(run)
            if retry and new is RunStatus.FAILED:
                retried.extend(insert_retry(self, session, run))
            return run

        run = await self.db.run(move)
        self._announce_change(run, retried)
        return run

    async def finish(
        self,
        run_id: int,
        status: RunStatus,
        *,
        error: str | None,
        fields: Callable[[], dict[str, Any]],
        also: Callable[[Session], object] | None = None,
    ) -> Run | None:
        """Record the end of a run's process, in ONE transaction with the log lines still
        waiting to be written (whoever sees the run ended reads all of its log): its final
        ``status`` with ``fields()`` (computed on the database's thread: it may look at the
        result file), and its retry when it failed and its job has retries left.

        ``also(session)`` is run last in the same transaction, in a savepoint of its own: the
        supervisor claims what runs next in the slot the run leaves. When it fails, only its
        own work is undone and the failure logged; the run's end is committed anyway.

        A run that is already final (stopped by force while its process ended) keeps its
        status; only what the process left behind (result, exit code) is recorded. Returns the
        ended run, or None when it was already final or is gone."""
        retried: list[Retry] = []

        def end(session: Session) -> Run | None:
            run = find_run(session, run_id, lock=self.db)
            if run is None:
                return None
            values = fields()
            if run.state in FINAL or not can_transition(run.state, status):
                keep = {
                    k: v for k, v in values.items() if k.startswith("result_") or k == "exit_code"
                }
                for key, value in keep.items():
                    setattr(run, key, value)
                session.add(run)
                return None
            set_status(run, status)
            run.error = error
            for key, value in values.items():
                setattr(run, key, value)
            session.add(run)
            if status is RunStatus.FAILED:
                retried.extend(insert_retry(self, session, run))
            return run

        def end_and_also(session: Session) -> Run | None:
            ended = end(session)
            if also is not None:
                _in_savepoint(session, also, f"the work done with run {run_id}'s end")
            return ended

        run = await self.hub.flush(then=end_and_also)
        if run is not None:
            self._announce_change(run, retried)
        return run

    def _announce_change(self, run: Run, retried: list[Retry]) -> None:
        """Once a status change is committed: its ``state`` event, then its retry's."""
        self.publish_state(run)
        for queued in retried:
            announce_retry(self, run, queued)


def _count_own_runs(session: Session, job: str) -> int:
    """How many of ``job``'s runs that are no batch's are in progress."""
    return int(
        session.exec(
            select(func.count()).where(
                Run.job == job,
                Run.batch_id.is_(None),
                Run.status.in_(sorted(s.value for s in IN_PROGRESS)),
            )
        ).one()
    )


def _in_savepoint(session: Session, work: Callable[[Session], object], what: str) -> None:
    """Do ``work`` in a savepoint of ``session``'s transaction: when it fails, only its own
    changes are undone (and the failure logged), the transaction goes on."""
    try:
        with session.begin_nested():
            work(session)
    except Exception:
        log.exception("jobext: %s failed", what)
