"""The run operations: enqueue, stop, pause, resume, restart, remove, logs, results, stats.

The REST handlers, the supervisor, the scheduler and the batch controller all go through these
coroutines, so every path shares one set of rules: which action is legal comes from
:data:`~jobext.states.RUN_ACTIONS`, which status may follow which from
:data:`~jobext.states.TRANSITIONS`. Each database step is one transaction run off the event loop;
events are published on the loop once it has committed. Nothing here knows HTTP.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from jobext.db.engine import Database
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Batch, Job, Run, Schedule, Worker
from jobext.errors import Conflict, Invalid, NotFound
from jobext.jobs.manager import JobManager
from jobext.kinds import registry as kinds
from jobext.runs.events import Event, EventHub
from jobext.runs.filters import RunFilter
from jobext.runs.removal import delete_runs
from jobext.runs.retention import RETENTION_BATCH, doomed_runs
from jobext.runs.shapes import run_json
from jobext.states import (
    FINAL,
    IN_PROGRESS,
    BatchStatus,
    RunAction,
    RunStatus,
    Trigger,
    can_transition,
    check_transition,
    run_action_target,
)
from jobext.times import utcnow

log = logging.getLogger(__name__)

RUN_SORTS = ("id", "created_at", "started_at", "ended_at", "status", "job", "duration_s")
#: Ended runs removed per pass of the retention sweep.


def get_run(session: Session, run_id: int, *, lock: Database | None = None) -> Run:
    """Run ``run_id`` (row-locked on PostgreSQL when ``lock`` is given); 404 when unknown."""
    stmt = select(Run).where(Run.id == run_id)
    run = session.exec(lock.for_update(stmt) if lock else stmt).first()
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

    def run_json(self, run: Run) -> dict[str, Any]:
        return run_json(run, self.jobs.api_base)

    # ------------------------------------------------------------------ reading

    async def get(self, run_id: int) -> Run:
        """One run, current or past; 404 when unknown."""
        return await self.db.read(lambda s: get_run(s, run_id))

    async def list_page(self, filters: RunFilter, page: PageRequest) -> tuple[list[Run], int]:
        """One page of runs matching ``filters``."""
        stmt = select(Run).where(*filters.conditions())
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

    async def result_file(self, run_id: int, fmt: str | None = None) -> tuple[Run, Path]:
        """The run and the path of its result file; 404 when there is none.

        ``fmt`` asks for another form of the result kept beside it (``html`` of an executed
        notebook). Only files inside the results directory are ever given out.
        """
        if fmt is not None and not re.fullmatch(r"[a-z0-9]{1,10}", fmt):
            raise Invalid("format", f"{fmt!r} is not a file format such as 'html'")
        run = await self.get(run_id)
        if not run.result_file:
            raise NotFound(f"run {run_id} has no result", reason="no_result")
        return run, await self.db.off_loop(self._result_path, run, fmt)

    def _result_path(self, run: Run, fmt: str | None) -> Path:
        assert run.result_file is not None
        root = self.results_dir.resolve()
        path = (root / run.result_file).resolve()
        if fmt is not None and path.suffix != f".{fmt}":
            path = path.with_suffix(f".{fmt}")
            if not path.is_file():
                raise NotFound(f"run {run.id} has no {fmt} result", reason="no_result")
        if not path.is_relative_to(root) or not path.is_file():
            raise NotFound(f"the result file of run {run.id} is gone", reason="no_result")
        return path

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
        run = await self.db.run(
            lambda s: self.insert_run(s, job_name, args, user=user, trigger=trigger, **links)
        )
        self.announce(run)
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
        job = session.exec(self.db.for_update(select(Job).where(Job.name == job_name))).first()
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
        retried: list[tuple[Run, float, int]] = []

        def move(session: Session) -> Run:
            run = get_run(session, run_id, lock=self.db)
            current = run.state
            if expect is not None and current is not expect:
                raise Conflict(f"run {run_id} is {current.value}, not {expect.value}")
            check_transition(current, new, action=action)
            _set_status(run, new)
            for key, value in fields.items():
                setattr(run, key, value)
            session.add(run)
            if retry and new is RunStatus.FAILED:
                retried.extend(self._insert_retry(session, run))
            return run

        run = await self.db.run(move)
        self.publish_state(run)
        for new_run, delay, total in retried:
            self._announce_retry(run, new_run, delay, total)
        return run

    async def finish(
        self,
        run_id: int,
        status: RunStatus,
        *,
        error: str | None,
        fields: Callable[[], dict[str, Any]],
    ) -> Run | None:
        """Record the end of a run's process, in ONE transaction with the log lines still
        waiting to be written (whoever sees the run ended reads all of its log): its final
        ``status`` with ``fields()`` (computed on the database's thread: it may look at the
        result file), and its retry when it failed and its job has retries left.

        A run that is already final (stopped by force while its process ended) keeps its
        status; only what the process left behind (result, exit code) is recorded. Returns the
        ended run, or None when it was already final or is gone."""
        retried: list[tuple[Run, float, int]] = []

        def end(session: Session) -> Run | None:
            run = session.exec(self.db.for_update(select(Run).where(Run.id == run_id))).first()
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
            _set_status(run, status)
            run.error = error
            for key, value in values.items():
                setattr(run, key, value)
            session.add(run)
            if status is RunStatus.FAILED:
                retried.extend(self._insert_retry(session, run))
            return run

        run = await self.hub.flush(then=end)
        if run is None:
            return None
        self.publish_state(run)
        for new_run, delay, total in retried:
            self._announce_retry(run, new_run, delay, total)
        return run

    async def stop(
        self, run_id: int, *, force: bool = False, user: str | None, by_batch: bool = False
    ) -> Run:
        """Stop a run: gracefully (``stopping`` until its process ends) or, with ``force``,
        mark it ``stopped`` at once whatever it is doing, and kill its process if it has one.

        A queued run is stopped at once. 409 for a run that has ended, and for a batch's run
        unless its batch asks (``by_batch``).
        """
        action = RunAction.FORCE_STOP if force else RunAction.STOP
        who = f" by {user}" if user else ""
        changed = False

        def move(session: Session) -> Run:
            nonlocal changed
            run = get_run(session, run_id, lock=self.db)
            if not by_batch:
                refuse_batch_run(run)
            if run.state in FINAL:
                raise Conflict(
                    f"run {run_id} has already {run.status}", reason="illegal_transition"
                )
            target = run_action_target(action, run.state)
            if target is run.state:
                return run
            assert target is not None
            changed = True
            if target is RunStatus.STOPPED:
                run.error = run.error or f"stopped{who}" + (" (force)" if force else "")
            _set_status(run, target)
            session.add(run)
            return run

        run = await self.db.run(move)
        if changed:
            self.note(run_id, f"stop{' (force)' if force else ''} requested{who}")
            self.publish_state(run)
        self.control.apply(run)
        self.control.wake()
        return run

    async def pause(self, run_id: int, *, user: str | None) -> Run:
        """Ask a running run to pause at its next checkpoint; 409 unless it is running."""
        return await self._steer(run_id, RunAction.PAUSE, f"pause requested{_by(user)}")

    async def resume(self, run_id: int, *, user: str | None) -> Run:
        """Let a pausing or paused run go on from where it halted; 409 otherwise."""
        return await self._steer(run_id, RunAction.RESUME, f"resume requested{_by(user)}")

    async def _steer(self, run_id: int, action: RunAction, note: str) -> Run:
        changed = False

        def move(session: Session) -> Run:
            nonlocal changed
            run = get_run(session, run_id, lock=self.db)
            refuse_batch_run(run)
            target = run_action_target(action, run.state)
            if target is run.state:
                return run
            assert target is not None
            changed = True
            _set_status(run, target)
            session.add(run)
            return run

        run = await self.db.run(move)
        if changed:
            self.note(run_id, note)
            self.publish_state(run)
            self.control.apply(run)
        return run

    async def restart(self, run_id: int, *, user: str | None) -> Run:
        """A new run of a failed or stopped run's job with the same args (the old run is kept).

        409 for a run that succeeded or is in progress, a job with ``restartable: false``, or a
        run that was restarted already (restart the newer one).
        """

        def make(session: Session) -> Run:
            old = get_run(session, run_id, lock=self.db)
            refuse_batch_run(old)
            try:
                run_action_target(RunAction.RESTART, old.state)
            except Conflict:
                raise Conflict(
                    f"only failed or stopped runs can be restarted; run {run_id} is {old.status}",
                    reason="illegal_transition",
                ) from None
            if old.restarted_as is not None:
                raise Conflict(
                    f"run {run_id} was restarted already as run {old.restarted_as}",
                    reason="already_restarted",
                )
            job = session.get(Job, old.job)
            if job is None:
                raise NotFound(f"no job named {old.job!r}")
            if not job.restartable:
                raise Conflict(f"job {job.name!r} is not restartable", reason="not_restartable")
            return self.insert_run(
                session,
                job.name,
                old.args,
                user=user,
                trigger=Trigger.RESTART,
                restarted_from=old.id,
            )

        new = await self.db.run(make)
        assert new.id is not None
        self.announce(new)
        self.note(new.id, f"restart of run {run_id}{_by(user)}")
        return new

    async def remove(self, run_id: int) -> None:
        """Delete a run, its log and its result file; 409 while it is in progress."""

        def check(session: Session) -> None:
            run = get_run(session, run_id, lock=self.db)
            refuse_batch_run(run)
            run_action_target(RunAction.REMOVE, run.state)

        try:
            await self.db.run(check)
        except Conflict as exc:
            if exc.reason == "managed_by_batch":
                raise
            run = await self.get(run_id)
            raise Conflict(
                f"run {run_id} is {run.status}; stop it before removing it", reason="in_progress"
            ) from None
        self.hub.discard(run_id)
        await delete_runs(self.db, self.results_dir, [run_id])

    async def remove_matching(self, filters: RunFilter) -> dict[str, int]:
        """Delete every ended run that ``filters`` matches, with its log and result, in chunks;
        runs in progress and runs of batches (their batch owns them) are left. Returns
        ``{deleted, in_progress, in_batches}``: how many went, and how many matched but
        stayed."""
        where = filters.conditions()

        def matching(session: Session) -> tuple[list[int], int, int]:
            ended = [s.value for s in FINAL]
            ids = session.exec(
                select(Run.id).where(
                    *where,
                    Run.status.in_(ended),
                    Run.batch_id.is_(None),  # type: ignore[union-attr]
                )
            ).all()
            busy = session.exec(select(func.count()).where(*where, Run.status.not_in(ended))).one()
            in_batches = session.exec(
                select(func.count()).where(
                    *where,
                    Run.status.in_(ended),
                    Run.batch_id.is_not(None),  # type: ignore[union-attr]
                )
            ).one()
            return [i for i in ids if i is not None], int(busy), int(in_batches)

        ids, busy, in_batches = await self.db.read(matching)
        for run_id in ids:
            self.hub.discard(run_id)
        deleted = await delete_runs(self.db, self.results_dir, ids)
        return {"deleted": deleted, "in_progress": busy, "in_batches": in_batches}

    # ------------------------------------------------------------------ retries

    def _insert_retry(self, session: Session, run: Run) -> list[tuple[Run, float, int]]:
        """Inside the transaction that failed ``run``: its retry, when its job has one left.

        The retry waits ``retry_backoff_s * 2**(attempt - 1)`` seconds (at most
        ``max_backoff_s``), has ``trigger: "retry"``, the next ``attempt``, and
        ``restarted_from`` naming the failed run.
        """
        job = session.get(Job, run.job)
        if job is None or run.restarted_as is not None or run.attempt > job.retries:
            return []
        if run.batch_id is not None:
            # A batch's failures count toward its failures_to_ignore; it has no retries.
            return []
        delay = min(job.retry_backoff_s * 2 ** (run.attempt - 1), self.max_backoff_s)
        new = self.insert_run(
            session,
            job.name,
            run.args,
            user=run.user,
            trigger=Trigger.RETRY,
            wait_if_busy=True,
            restarted_from=run.id,
            attempt=run.attempt + 1,
            scheduled_for=run.scheduled_for,
            schedule_id=run.schedule_id,
            batch_id=run.batch_id,
            not_before=utcnow() + dt.timedelta(seconds=delay),
        )
        run.restarted_as = new.id
        return [(new, delay, job.retries + 1)]

    def _announce_retry(self, failed: Run, new: Run, delay: float, total: int) -> None:
        assert failed.id is not None and new.id is not None
        self.note(
            failed.id,
            f"retrying as run {new.id} (attempt {new.attempt} of {total}) in {delay:g} s",
        )
        self.announce(new)
        self.note(new.id, f"attempt {new.attempt} of {total}, retrying run {failed.id}")

    # ------------------------------------------------------------------ retention

    async def apply_retention(
        self, job_name: str | None = None, *, now: dt.datetime | None = None
    ) -> int:
        """Remove ended runs beyond each job's ``keep_runs`` newest and older than its
        ``keep_days`` (the server's defaults where the job sets none; 0 keeps all), with their
        logs and results: of one job, or of all (the periodic sweep). Returns how many went.

        The doomed runs are found by a few set-based statements and removed in chunks."""
        removed = 0
        while True:
            ids = await self.db.read(
                lambda s: doomed_runs(
                    s,
                    job_name,
                    now or utcnow(),
                    default_keep_runs=self.default_keep_runs,
                    default_keep_days=self.default_keep_days,
                )
            )
            if not ids:
                return removed
            for run_id in ids:
                self.hub.discard(run_id)
            removed += await delete_runs(self.db, self.results_dir, ids)
            if len(ids) < RETENTION_BATCH:
                return removed

    # ------------------------------------------------------------------ overview

    async def stats(self) -> dict[str, Any]:
        """``{jobs, schedules, batches: {status: count}, workers, runs: {status: count}}``
        (``workers``: those not offline)."""

        def read(session: Session) -> dict[str, Any]:
            jobs = session.exec(select(func.count()).select_from(Job)).one()
            schedules = session.exec(
                select(func.count()).select_from(Schedule).where(Schedule.active)
            ).one()
            workers = session.exec(
                select(func.count()).select_from(Worker).where(Worker.offline_at.is_(None))
            ).one()
            by_status = dict(
                session.exec(select(Run.status, func.count()).group_by(Run.status)).all()
            )
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

        return await self.db.read(read)


def _set_status(run: Run, new: RunStatus) -> None:
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


def _by(user: str | None) -> str:
    return f" by {user}" if user else ""
