"""The run operations: enqueue, stop, pause, resume, restart, remove, logs, results, stats.

The REST handlers, the supervisor (and later the scheduler and the batch controller) all go
through these functions, so every path shares one set of rules. Nothing here knows HTTP.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from jobext.db.engine import Store
from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Job, Run, Schedule, Server
from jobext.errors import Conflict, Invalid, NotFound
from jobext.jobs.manager import JOB_SORTS, JobCatalog, RunControl, validation_error
from jobext.kinds import registry as kinds
from jobext.runs.events import Event, EventHub
from jobext.runs.filters import RunFilter
from jobext.states import FINAL, IN_PROGRESS, RunStatus, Trigger, check_transition
from jobext.times import utcnow

log = logging.getLogger(__name__)

RUN_SORTS = ("id", "created_at", "started_at", "ended_at", "status", "job", "duration_s")

__all__ = ["JOB_SORTS", "RUN_SORTS", "JobService", "RunControl", "validation_error"]


class JobService(JobCatalog):
    """Jobs and their runs over a :class:`Store`, publishing state changes to the hub."""

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        *,
        results_dir: Path,
        allowed_kinds: frozenset[str] = frozenset({"python", "shell"}),
        api_base: str = "/jobext/api/v1",
    ):
        super().__init__(
            store, results_dir=results_dir, allowed_kinds=allowed_kinds, api_base=api_base
        )
        self.hub = hub
        #: Retention where a job sets none (0: keep all), and the cap of retry backoff.
        self.default_keep_runs = 1000
        self.default_keep_days = 90.0
        self.max_backoff_s = 3600.0

    # ------------------------------------------------------------------ runs

    def get_run(self, run_id: int) -> Run:
        with self.store.read() as session:
            run = session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}")
        return run

    def list_runs(self, filters: RunFilter, page: PageRequest) -> tuple[list[Run], int]:
        stmt = select(Run).where(*filters.conditions())
        columns = {name: getattr(Run, name) for name in RUN_SORTS}
        with self.store.read() as session:
            return paginate(
                session, stmt, page, columns=columns, default_sort="-id", tiebreak=Run.id
            )

    def enqueue(
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
        with self.store.write() as session:
            run = self.insert_run(session, job_name, args, user=user, trigger=trigger, **links)
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
        not_before: dt.datetime | None = None,
    ) -> Run:
        """Add a queued run inside ``session``'s transaction (see :meth:`enqueue`); call
        :meth:`announce` once it is committed. ``wait_if_busy`` queues the run even when the
        job is at ``max_concurrent`` (retries, and schedules that replace a running run)."""
        job = session.exec(self.store.for_update(select(Job).where(Job.name == job_name))).first()
        if job is None:
            raise NotFound(f"no job named {job_name!r}")
        self._check_kind(job.kind)
        merged = kinds.merge_args(job.kind, job.default_args, args, target=job.target)
        if not (job.queue_when_busy or wait_if_busy):
            busy = self._count_runs(session, job.name, IN_PROGRESS)
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
            not_before=not_before,
        )
        session.add(run)
        session.flush()
        if restarted_from is not None:
            session.execute(update(Run).where(Run.id == restarted_from).values(restarted_as=run.id))
        return run

    def announce(self, run: Run) -> None:
        """Publish a committed new run and let the dispatcher know."""
        assert run.id is not None
        self.hub.open_stream(run.id)
        self.publish_state(run)
        self.control.wake()

    def publish_state(self, run: Run) -> Event:
        """Send a ``state`` event carrying the whole run."""
        assert run.id is not None
        return self.hub.emit_json(run.id, "state", self.run_json(run))

    def note(self, run_id: int, text: str, level: str = "INFO") -> None:
        """A line in the run's log from jobext itself (who asked for what, why it ended)."""
        self.hub.emit_logs(run_id, [("jobext", level, text)], None)

    def transition(
        self,
        run_id: int,
        new: RunStatus,
        *,
        action: str,
        expect: RunStatus | None = None,
        **fields: Any,
    ) -> Run:
        """Move a run to ``new`` if the state machine allows it, setting ``fields`` too.

        The one writer of a run's status. Raises :class:`Conflict` for an illegal move (or when
        ``expect`` is given and the run is no longer in it).
        """
        now = utcnow()
        with self.store.write() as session:
            run = session.exec(self.store.for_update(select(Run).where(Run.id == run_id))).first()
            if run is None:
                raise NotFound(f"no run with id {run_id}")
            current = run.state
            if expect is not None and current is not expect:
                raise Conflict(f"run {run_id} is {current.value}, not {expect.value}")
            check_transition(current, new, action=action)
            run.status = new.value
            run.updated_at = now
            if new is RunStatus.RUNNING and run.started_at is None:
                run.started_at = now
            if new in FINAL:
                run.ended_at = now
                if run.started_at is not None:
                    run.duration_s = round((now - run.started_at).total_seconds(), 3)
            for key, value in fields.items():
                setattr(run, key, value)
            session.add(run)
        self.publish_state(run)
        return run

    def stop(self, run_id: int, *, force: bool = False, user: str | None) -> Run:
        """Stop a run: gracefully (``stopping`` until its process ends) or, with ``force``,
        mark it ``stopped`` at once whatever it is doing, and kill its process if it has one.

        A queued run is stopped at once. 409 for a run that has ended.
        """
        run = self.get_run(run_id)
        who = f" by {user}" if user else ""
        if run.state in FINAL:
            raise Conflict(f"run {run_id} has already {run.status}", reason="illegal_transition")
        if force or run.state is RunStatus.QUEUED:
            self.note(run_id, f"stop{' (force)' if force else ''} requested{who}")
            run = self.transition(
                run_id,
                RunStatus.STOPPED,
                action="stop",
                error=run.error or f"stopped{who}" + (" (force)" if force else ""),
            )
        else:
            if run.state is RunStatus.STOPPING:
                return run
            self.note(run_id, f"stop requested{who}")
            run = self.transition(run_id, RunStatus.STOPPING, action="stop")
        self.control.apply(run)
        self.control.wake()
        return run

    def pause(self, run_id: int, *, user: str | None) -> Run:
        """Ask a running run to pause at its next checkpoint; 409 unless it is running."""
        run = self.get_run(run_id)
        if run.state in (RunStatus.PAUSING, RunStatus.PAUSED):
            return run
        if run.state is not RunStatus.RUNNING:
            raise Conflict(f"cannot pause a run that is {run.status}", reason="illegal_transition")
        self.note(run_id, f"pause requested{' by ' + user if user else ''}")
        run = self.transition(run_id, RunStatus.PAUSING, action="pause", expect=RunStatus.RUNNING)
        self.control.apply(run)
        return run

    def resume(self, run_id: int, *, user: str | None) -> Run:
        """Let a pausing or paused run go on from where it halted; 409 otherwise."""
        run = self.get_run(run_id)
        if run.state not in (RunStatus.PAUSING, RunStatus.PAUSED):
            raise Conflict(f"cannot resume a run that is {run.status}", reason="illegal_transition")
        self.note(run_id, f"resume requested{' by ' + user if user else ''}")
        run = self.transition(run_id, RunStatus.RUNNING, action="resume", expect=run.state)
        self.control.apply(run)
        return run

    def restart(self, run_id: int, *, user: str | None) -> Run:
        """A new run of a failed or stopped run's job with the same args (the old run is kept).

        409 for a run that succeeded or is in progress, a job with ``restartable: false``, or a
        run that was restarted already (restart the newer one).
        """
        old = self.get_run(run_id)
        if old.state not in (RunStatus.FAILED, RunStatus.STOPPED):
            raise Conflict(
                f"only failed or stopped runs can be restarted; run {run_id} is {old.status}",
                reason="illegal_transition",
            )
        if old.restarted_as is not None:
            raise Conflict(
                f"run {run_id} was restarted already as run {old.restarted_as}",
                reason="already_restarted",
            )
        job = self.get_job(old.job)
        if not job.restartable:
            raise Conflict(f"job {job.name!r} is not restartable", reason="not_restartable")
        new = self.enqueue(
            job.name,
            old.args,
            user=user,
            trigger=Trigger.RESTART,
            restarted_from=old.id,
        )
        assert new.id is not None
        self.note(new.id, f"restart of run {run_id}{' by ' + user if user else ''}")
        return new

    def remove_run(self, run_id: int) -> None:
        """Delete a run, its log and its result file; 409 while it is in progress."""
        with self.store.write() as session:
            run = session.exec(self.store.for_update(select(Run).where(Run.id == run_id))).first()
            if run is None:
                raise NotFound(f"no run with id {run_id}")
            if run.state in IN_PROGRESS:
                raise Conflict(
                    f"run {run_id} is {run.status}; stop it before removing it",
                    reason="in_progress",
                )
            uuids = self._delete_runs(session, [run_id])
        self.hub.discard(run_id)
        self._remove_result_dirs(uuids)

    def logs(self, run_id: int, *, after: int = 0, limit: int = 1000) -> list[Event]:
        """Log lines of a run with ``seq > after``, at most ``limit``."""
        self.get_run(run_id)
        return self.hub.read_after(run_id, after, limit=limit, type="log")

    def result_file(self, run_id: int, fmt: str | None = None) -> tuple[Run, Path]:
        """The run and the path of its result file; 404 when there is none.

        ``fmt`` asks for another form of the result kept beside it (``html`` of an executed
        notebook). Only files inside the results directory are ever given out.
        """
        run = self.get_run(run_id)
        if not run.result_file:
            raise NotFound(f"run {run_id} has no result", reason="no_result")
        if fmt is not None and not re.fullmatch(r"[a-z0-9]{1,10}", fmt):
            raise Invalid("format", f"{fmt!r} is not a file format such as 'html'")
        root = self.results_dir.resolve()
        path = (root / run.result_file).resolve()
        if fmt is not None and path.suffix != f".{fmt}":
            path = path.with_suffix(f".{fmt}")
            if not path.is_file():
                raise NotFound(f"run {run_id} has no {fmt} result", reason="no_result")
        if not path.is_relative_to(root) or not path.is_file():
            raise NotFound(f"the result file of run {run_id} is gone", reason="no_result")
        return run, path

    def apply_retention(self, job_name: str, *, now: dt.datetime | None = None) -> int:
        """Remove a job's ended runs beyond its ``keep_runs`` newest and older than its
        ``keep_days`` (the server's defaults where the job sets none; 0 keeps all), with their
        logs and results. Returns how many went."""
        try:
            job = self.get_job(job_name)
        except NotFound:
            return 0
        keep_runs = job.keep_runs if job.keep_runs is not None else self.default_keep_runs
        keep_days = job.keep_days if job.keep_days is not None else self.default_keep_days
        ended = [s.value for s in FINAL]
        doomed: set[int] = set()
        with self.store.read() as session:
            if keep_runs:
                doomed.update(
                    session.exec(
                        select(Run.id)
                        .where(Run.job == job_name, Run.status.in_(ended))
                        .order_by(Run.id.desc())
                        .offset(keep_runs)
                    ).all()
                )
            if keep_days:
                cutoff = (now or utcnow()) - dt.timedelta(days=keep_days)
                doomed.update(
                    session.exec(
                        select(Run.id).where(
                            Run.job == job_name, Run.status.in_(ended), Run.ended_at < cutoff
                        )
                    ).all()
                )
        if not doomed:
            return 0
        with self.store.write() as session:
            # Still ended: nothing is restarted in place, but be exact under concurrency.
            ids = list(
                session.exec(
                    select(Run.id).where(Run.id.in_(sorted(doomed)), Run.status.in_(ended))
                ).all()
            )
            uuids = self._delete_runs(session, ids)
        for run_id in ids:
            self.hub.discard(run_id)
        self._remove_result_dirs(uuids)
        return len(ids)

    def apply_retention_everywhere(self) -> int:
        """:meth:`apply_retention` for every job (the periodic sweep)."""
        with self.store.read() as session:
            names = list(session.exec(select(Job.name)).all())
        return sum(self.apply_retention(name) for name in names)

    def retry_if_due(self, run: Run) -> Run | None:
        """After ``run`` failed: a new run of it when its job has retries left.

        The retry waits ``retry_backoff_s * 2**(attempt - 1)`` seconds (at most
        ``max_backoff_s``), has ``trigger: "retry"``, the next ``attempt``, and
        ``restarted_from`` naming the failed run.
        """
        if run.state is not RunStatus.FAILED or run.restarted_as is not None:
            return None
        try:
            job = self.get_job(run.job)
        except NotFound:
            return None
        if run.attempt > job.retries:
            return None
        delay = min(job.retry_backoff_s * 2 ** (run.attempt - 1), self.max_backoff_s)
        with self.store.write() as session:
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
        assert run.id is not None and new.id is not None
        total = job.retries + 1
        self.note(
            run.id, f"retrying as run {new.id} (attempt {new.attempt} of {total}) in {delay:g} s"
        )
        self.announce(new)
        self.note(new.id, f"attempt {new.attempt} of {total}, retrying run {run.id}")
        return new

    # ------------------------------------------------------------------ overview

    def stats(self) -> dict[str, Any]:
        """``{jobs, schedules, workers, runs: {status: count}}``."""
        with self.store.read() as session:
            jobs = session.exec(select(func.count()).select_from(Job)).one()
            schedules = session.exec(
                select(func.count()).select_from(Schedule).where(Schedule.active)
            ).one()
            workers = session.exec(
                select(func.count()).select_from(Server).where(Server.stopped_at.is_(None))
            ).one()
            by_status = dict(
                session.exec(select(Run.status, func.count()).group_by(Run.status)).all()
            )
        runs = {s.value: int(by_status.get(s.value, 0)) for s in RunStatus}
        return {
            "jobs": int(jobs),
            "schedules": int(schedules),
            "workers": int(workers),
            "runs": runs,
        }
