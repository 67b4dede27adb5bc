"""The batch controller: drives the batches whose lease this server holds.

One per server. Each pass it takes the leases of driven batches that nobody holds (or whose
holder let the lease lapse: its server died), renews its own, and steps each batch it holds:

* ``starting`` / ``running``: sub-jobs whose run ended go on to their next iteration (or are
  ``completed``); due sub-jobs start, a group of ``jobs_per_second`` per second; too many
  failures make the batch ``failed``, a target that no longer imports makes it ``invalid``;
* ``pausing``: sub-jobs whose run ended are held; with none in progress the batch is ``paused``;
* ``stopping``: every run in progress is stopped; then the batch is ``stopped``;
* ``re-starting``: every run in progress is stopped, then all runs of the batch are removed
  with their logs and results, and it starts afresh.

Every write of a step is one transaction that first checks, under the batch's row lock, that
this server still holds the lease, so two servers never both drive one batch. Runs are made by
:meth:`RunManager.insert_run` and stopped by :meth:`RunManager.stop`, the REST API's own paths.
A step that raises is set aside (with its error shown, or ``invalid`` when the batch cannot go
on) and tried again only after a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import re
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from jobext.batches.manager import BatchManager, get_batch, reset_for_start
from jobext.batches.shapes import SubJobState
from jobext.db.tables import Batch, BatchSubJob, Job, Run
from jobext.errors import Conflict, JobExtError, NotFound
from jobext.runs.removal import delete_runs
from jobext.states import BATCH_DRIVEN, FINAL, IN_PROGRESS, BatchStatus, RunStatus, Trigger
from jobext.times import utcnow
from jobext.workers.registry import worker_alive

log = logging.getLogger(__name__)

_S = SubJobState
#: Sub-jobs started per transaction; more that are due start in the next one at once.
MAX_RELEASE = 1000
#: Ended iterations settled per transaction.
MAX_ADVANCE = 5000
_DRIVEN = [s.value for s in BATCH_DRIVEN]
#: How a step's unexpected error is shown on its batch.
_ASIDE = "set aside for"
_IN_PROGRESS = [s.value for s in IN_PROGRESS]
_FINAL = [s.value for s in FINAL]


@dataclasses.dataclass
class Look:
    """What a batch needs from a step, as last read."""

    #: Some sub-job's run has ended.
    ended: bool = False
    #: Some sub-job is due to start.
    due: bool = False
    next_due: dt.datetime | None = None
    #: The status the batch should move to now (running, paused, completed).
    settle: BatchStatus | None = None


class LeaseLost(Exception):
    """This server no longer holds the batch's lease (or the batch is gone): leave it."""


@dataclasses.dataclass
class Outcome:
    """What a step's transaction decided: runs to announce, runs to stop, the batch after."""

    batch: Batch | None = None
    started: list[Run] = dataclasses.field(default_factory=list)
    to_stop: list[int] = dataclasses.field(default_factory=list)
    changed: bool = False


def lost_to_server(error: str | None) -> bool:
    """Did the run end because its server went away (not through the job's own fault)?"""
    text = error or ""
    return text.startswith("the Jupyter server running it") or text.startswith(
        "stopped because the Jupyter server shut down"
    )


_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([^']+)'")


def target_gone(job: Job | None, error: str | None) -> str | None:
    """Why the batch's job can no longer run, judging by a failed run's error; None when the
    failure is the job's own."""
    text = (error or "").strip()
    if job is None:
        return "its job was deleted"
    if text.startswith("could not start the job"):
        return f"its job {job.name!r} cannot start: {text.splitlines()[0]}"
    match = _NO_MODULE.match(text)
    if match and job.kind == "python":
        module = job.target.partition(":")[0]
        missing = match.group(1)
        if module == missing or module.startswith(missing + "."):
            return f"its target {job.target!r} no longer imports: {text.splitlines()[0]}"
    return None


class BatchController:
    """Drives this server's share of the batches."""

    def __init__(
        self,
        batches: BatchManager,
        *,
        server_id: str,
        lease_s: float = 15.0,
        poll_s: float = 0.25,
        idle_poll_s: float = 1.0,
        dead_after_s: float = 60.0,
    ):
        self.batches = batches
        self.runs = batches.runs
        self.db = batches.db
        self.server_id = server_id
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.idle_poll_s = idle_poll_s
        self.dead_after_s = dead_after_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: batch id → (loop time before which it is not stepped again, failures in a row)
        self._aside: dict[int, tuple[float, int]] = {}
        self._logged: dict[str, float] = {}
        batches.on_change = self.wake

    # ------------------------------------------------------------------ lifecycle

    def wake(self) -> None:
        """Step the batches now (a directive changed one)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop driving, and hand the leases back so another server (or this one's next
        life) takes the batches over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.db.run(self._release_leases)
        except Exception:
            log.warning("jobext: could not hand back the batch leases", exc_info=True)

    def _release_leases(self, session: Session) -> None:
        session.execute(
            update(Batch)
            .where(col(Batch.lease_owner) == self.server_id)
            .values(lease_owner=None, lease_expires_at=None)
        )

    async def _run(self) -> None:
        while True:
            try:
                delay = await self.tick()
            except Exception:
                self._log_once("pass", "jobext: batch controller pass failed")
                delay = self.idle_poll_s
            self._wake.clear()
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            else:
                await asyncio.sleep(0)

    def _log_once(self, key: str, message: str, *args: object) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._logged.get(key, -1e9) >= 60.0:
            self._logged[key] = now
            log.warning(message, *args, exc_info=True)

    # ------------------------------------------------------------------ leases

    def _lease_due(self, now: dt.datetime) -> Any:
        """Driven batches this server should take or renew."""
        renew_before = now + dt.timedelta(seconds=self.lease_s / 2)
        return (
            col(Batch.status).in_(_DRIVEN),
            or_(
                col(Batch.lease_owner).is_(None),
                col(Batch.lease_expires_at) < now,
                (col(Batch.lease_owner) == self.server_id)
                & (col(Batch.lease_expires_at) < renew_before),
            ),
        )

    def _lease_wanted(self, session: Session) -> bool:
        """Is there a lease to take or renew?"""
        due = session.exec(select(Batch.id).where(*self._lease_due(utcnow())).limit(1)).first()
        return due is not None

    def _take_leases(self, session: Session) -> None:
        now = utcnow()
        session.execute(
            update(Batch)
            .where(*self._lease_due(now))
            .values(
                lease_owner=self.server_id,
                lease_expires_at=now + dt.timedelta(seconds=self.lease_s),
            )
        )

    def _held(self, session: Session) -> list[int]:
        """The batches this server holds the lease of now."""
        now = utcnow()
        ids = session.exec(
            select(Batch.id)
            .where(
                col(Batch.status).in_(_DRIVEN),
                Batch.lease_owner == self.server_id,
                col(Batch.lease_expires_at) > now,
            )
            .order_by(col(Batch.id))
        ).all()
        return [i for i in ids if i is not None]

    def _locked(self, session: Session, batch_id: int) -> Batch:
        """The batch, row-locked, if this server still holds its lease; else :class:`LeaseLost`."""
        try:
            batch = get_batch(session, batch_id, lock=self.db)
        except NotFound:
            raise LeaseLost(batch_id) from None
        expires = batch.lease_expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.timezone.utc)
        if batch.lease_owner != self.server_id or expires is None or expires < utcnow():
            raise LeaseLost(batch_id)
        return batch

    # ------------------------------------------------------------------ passes

    async def tick(self) -> float:
        """Step every batch this server holds; return the seconds until the next pass."""
        if await self.db.read(self._lease_wanted):
            await self.db.run(self._take_leases)
        held = await self.db.read(self._held)
        delay = self.poll_s if held else self.idle_poll_s
        clock = asyncio.get_running_loop().time()
        for batch_id in held:
            until, _ = self._aside.get(batch_id, (0.0, 0))
            if until > clock:
                delay = min(delay, until - clock)
                continue
            try:
                delay = min(delay, await self.step(batch_id))
                if self._aside.pop(batch_id, None) is not None:
                    await self.db.run(functools.partial(self._clear_aside_error, batch_id=batch_id))
            except LeaseLost:
                pass
            except Exception as exc:
                await self._set_aside(batch_id, exc)
            await asyncio.sleep(0)
        return max(0.0, delay)

    async def step(self, batch_id: int) -> float:
        """Move one batch on; return the seconds until it wants stepping again."""
        batch = await self.db.read(lambda s: s.get(Batch, batch_id))
        if batch is None or batch.status not in _DRIVEN or batch.lease_owner != self.server_id:
            return self.poll_s
        status = BatchStatus(batch.status)
        if status is BatchStatus.RESTARTING:
            return await self._clear_and_restart(batch_id)
        if status is BatchStatus.STOPPING:
            return await self._stop_all(batch_id)
        if batch.worker is not None and not await self._worker_alive(batch.worker):
            await self._give_up(batch_id, f"its worker {batch.worker} is gone")
            return self.poll_s
        look = await self.db.read(lambda s: self._look(s, batch_id))
        if look.ended:
            outcome = await self.db.run(lambda s: self._advance(s, batch_id))
            await self._after(outcome)
            if outcome.batch is not None and outcome.batch.status not in _DRIVEN:
                return self.poll_s
        if look.ended or look.due:
            while True:
                outcome = await self.db.run(lambda s: self._release(s, batch_id))
                await self._after(outcome)
                if len(outcome.started) < MAX_RELEASE:
                    break
                await asyncio.sleep(0)
            look = await self.db.read(lambda s: self._look(s, batch_id))
        if look.settle is not None:
            target = look.settle
            await self._after(await self.db.run(lambda s: self._set_status(s, batch_id, target)))
        if look.next_due is None:
            return self.poll_s
        return min(self.poll_s, max(0.0, (look.next_due - utcnow()).total_seconds()))

    async def _after(self, outcome: Outcome) -> None:
        """Once a step's transaction committed: announce its runs, stop what it decided to,
        and tell the feed."""
        for n, run in enumerate(outcome.started, 1):
            self.runs.announce(run)
            if n % 200 == 0:
                await asyncio.sleep(0)
        for run_id in outcome.to_stop:
            with contextlib.suppress(Conflict, NotFound):
                await self.runs.stop(run_id, user=None, by_batch=True)
        if outcome.changed and outcome.batch is not None:
            self.batches.publish(outcome.batch)

    # ------------------------------------------------------------------ steps (transactions)

    def _advance(self, session: Session, batch_id: int) -> Outcome:
        """Sub-jobs whose run ended go on: next iteration, held (pausing) or completed; the
        batch fails past its threshold, and is invalid when its target is gone."""
        batch = self._locked(session, batch_id)
        rows = session.execute(
            sa_select(BatchSubJob, col(Run.status), col(Run.error))
            .select_from(BatchSubJob)
            .outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))
            .where(
                col(BatchSubJob.batch_id) == batch_id,
                col(BatchSubJob.state) == _S.ACTIVE.value,
                or_(col(Run.id).is_(None), col(Run.status).in_(_FINAL)),
            )
            .limit(MAX_ADVANCE)
        ).all()
        if not rows:
            return Outcome(batch)
        now = utcnow()
        pausing = batch.status == BatchStatus.PAUSING.value
        job = session.get(Job, batch.job)
        updates: list[dict[str, Any]] = []
        failed = finished = 0
        gone: str | None = None
        for lane, status, error in rows:
            row: dict[str, Any] = {"batch_id": batch_id, "idx": lane.idx}
            if status is None or status == RunStatus.STOPPED.value or lost_to_server(error):
                # Not the job's doing (its server went away, or shut down): the same
                # iteration again.
                row.update(state=_S.HELD.value if pausing else _S.PENDING.value, due_at=now)
                updates.append(row)
                continue
            finished += 1
            done = lane.done + 1
            row.update(done=done)
            if status == RunStatus.FAILED.value:
                failed += 1
                row.update(failures=lane.failures + 1)
                gone = gone or target_gone(job, error)
            if batch.iterations is not None and done >= batch.iterations:
                row.update(state=_S.COMPLETED.value)
            elif pausing:
                row.update(state=_S.HELD.value, iteration=lane.iteration + 1)
            else:
                row.update(state=_S.PENDING.value, iteration=lane.iteration + 1, due_at=now)
            updates.append(row)
        session.execute(update(BatchSubJob), updates)
        batch.failures += failed
        batch.done += finished
        batch.updated_at = now
        outcome = Outcome(batch, changed=True)
        if gone is not None:
            outcome.to_stop = self._end(session, batch, BatchStatus.INVALID, gone)
        elif batch.failures > batch.failures_to_ignore:
            why = (
                f"{batch.failures} run(s) failed, more than failures_to_ignore="
                f"{batch.failures_to_ignore}"
            )
            outcome.to_stop = self._end(session, batch, BatchStatus.FAILED, why)
        session.add(batch)
        return outcome

    def _end(self, session: Session, batch: Batch, status: BatchStatus, error: str) -> list[int]:
        """Make the batch ``failed`` or ``invalid``: nothing new starts; return the runs in
        progress, to be stopped once this commits."""
        assert batch.id is not None
        now = utcnow()
        batch.status = status.value
        batch.error = error
        batch.stop_time = now
        batch.updated_at = now
        session.execute(
            update(BatchSubJob)
            .where(
                col(BatchSubJob.batch_id) == batch.id,
                col(BatchSubJob.state).in_([_S.PENDING.value, _S.HELD.value]),
            )
            .values(state=_S.STOPPED.value)
        )
        session.add(batch)
        ids = session.exec(
            select(Run.id).where(Run.batch_id == batch.id, col(Run.status).in_(_IN_PROGRESS))
        ).all()
        return [i for i in ids if i is not None]

    def _release(self, session: Session, batch_id: int) -> Outcome:
        """Start the due sub-jobs' next iterations: one run each, made by the run manager, in
        one transaction (a group's runs are created together)."""
        batch = self._locked(session, batch_id)
        if batch.status not in (BatchStatus.STARTING.value, BatchStatus.RUNNING.value):
            return Outcome(batch)
        now = utcnow()
        lanes = session.exec(
            select(BatchSubJob)
            .where(
                BatchSubJob.batch_id == batch_id,
                BatchSubJob.state == _S.PENDING.value,
                col(BatchSubJob.due_at) <= now,
            )
            .order_by(col(BatchSubJob.due_at), col(BatchSubJob.idx))
            .limit(MAX_RELEASE)
        ).all()
        if not lanes:
            return Outcome(batch)
        started = [
            self.runs.insert_run(
                session,
                batch.job,
                batch.args,
                user=batch.started_by,
                trigger=Trigger.BATCH,
                batch_id=batch_id,
                sub_job=lane.idx,
                iteration=lane.iteration,
                worker=batch.worker,
            )
            for lane in lanes
        ]
        session.execute(
            update(BatchSubJob),
            [
                {"batch_id": batch_id, "idx": lane.idx, "state": _S.ACTIVE.value, "run_id": run.id}
                for lane, run in zip(lanes, started, strict=True)
            ],
        )
        # A group's runs appear together, at this commit: they carry one creation time, the
        # moment the group was started (making them takes ~1 ms a run inside the transaction).
        ids = [run.id for run in started]
        session.execute(
            update(Run).where(col(Run.id).in_(ids)).values(created_at=now, updated_at=now)
        )
        for run in started:
            set_committed_value(run, "created_at", now)
            set_committed_value(run, "updated_at", now)
        return Outcome(batch, started=started)

    def _look(self, session: Session, batch_id: int) -> Look:
        """What a step has to do (reads only, so an idle batch costs no write)."""
        now = utcnow()
        batch = session.get(Batch, batch_id)
        if batch is None:
            return Look()
        ended = session.execute(
            sa_select(col(BatchSubJob.idx))
            .select_from(BatchSubJob)
            .outerjoin(Run, col(Run.id) == col(BatchSubJob.run_id))
            .where(
                col(BatchSubJob.batch_id) == batch_id,
                col(BatchSubJob.state) == _S.ACTIVE.value,
                or_(col(Run.id).is_(None), col(Run.status).in_(_FINAL)),
            )
            .limit(1)
        ).first()
        counts = dict(
            session.execute(
                sa_select(col(BatchSubJob.state), func.count())
                .where(col(BatchSubJob.batch_id) == batch_id)
                .group_by(col(BatchSubJob.state))
            ).all()
        )
        next_due: dt.datetime | None = session.exec(
            select(func.min(BatchSubJob.due_at)).where(
                BatchSubJob.batch_id == batch_id, BatchSubJob.state == _S.PENDING.value
            )
        ).one()
        if next_due is not None and next_due.tzinfo is None:
            next_due = next_due.replace(tzinfo=dt.timezone.utc)
        total = sum(counts.values())
        settle: BatchStatus | None = None
        if total and counts.get(_S.COMPLETED.value, 0) == total:
            settle = BatchStatus.COMPLETED
        elif batch.status == BatchStatus.STARTING.value and not counts.get(_S.PENDING.value):
            settle = BatchStatus.RUNNING
        elif batch.status == BatchStatus.PAUSING.value and not counts.get(_S.ACTIVE.value):
            settle = BatchStatus.PAUSED
        if settle is not None and settle.value == batch.status:
            settle = None
        return Look(
            ended=ended is not None,
            due=next_due is not None and next_due <= now,
            next_due=next_due,
            settle=settle,
        )

    def _set_status(self, session: Session, batch_id: int, target: BatchStatus) -> Outcome:
        """``starting`` → ``running`` once every sub-job has started; ``pausing`` → ``paused``
        once none is in progress; ``completed`` once every sub-job is (checked again under the
        lock: a directive may have come in between)."""
        batch = self._locked(session, batch_id)
        if batch.status not in _DRIVEN:
            return Outcome(batch)
        look = self._look(session, batch_id)
        if look.settle is not target:
            return Outcome(batch)
        now = utcnow()
        batch.status = target.value
        batch.updated_at = now
        if target is BatchStatus.COMPLETED:
            batch.stop_time = now
        session.add(batch)
        return Outcome(batch, changed=True)

    # ------------------------------------------------------------------ stop, re-start

    async def _stop_runs_in_progress(self, batch_id: int) -> int:
        """Ask every run of the batch in progress to stop (gracefully); return how many are
        still in progress."""
        rows = await self.db.read(
            lambda s: s.exec(
                select(Run.id, Run.status).where(
                    Run.batch_id == batch_id, col(Run.status).in_(_IN_PROGRESS)
                )
            ).all()
        )
        for run_id, status in rows:
            if status != RunStatus.STOPPING.value and run_id is not None:
                with contextlib.suppress(Conflict, NotFound):
                    await self.runs.stop(run_id, user=None, by_batch=True)
                await asyncio.sleep(0)
        return len(rows)

    async def _stop_all(self, batch_id: int) -> float:
        """``stopping``: stop every run; with none left in progress, ``stopped``, progress reset."""
        if await self._stop_runs_in_progress(batch_id):
            return self.poll_s

        def finish(session: Session) -> Outcome:
            batch = self._locked(session, batch_id)
            if batch.status != BatchStatus.STOPPING.value:
                return Outcome(batch)
            session.execute(
                update(BatchSubJob)
                .where(col(BatchSubJob.batch_id) == batch_id)
                .values(state=_S.STOPPED.value, done=0)
            )
            now = utcnow()
            batch.status = BatchStatus.STOPPED.value
            batch.done = 0
            batch.stop_time = now
            batch.updated_at = now
            session.add(batch)
            return Outcome(batch, changed=True)

        await self._after(await self.db.run(finish))
        return self.poll_s

    async def _clear_and_restart(self, batch_id: int) -> float:
        """``re-starting``: stop every run, remove them all with logs and results, and start
        every sub-job from its first iteration."""
        if await self._stop_runs_in_progress(batch_id):
            return self.poll_s
        ids = await self.db.read(
            lambda s: [i for i in s.exec(select(Run.id).where(Run.batch_id == batch_id)).all() if i]
        )
        for run_id in ids:
            self.runs.hub.discard(run_id)
        await delete_runs(self.db, self.runs.results_dir, ids)

        def restart(session: Session) -> Outcome:
            batch = self._locked(session, batch_id)
            if batch.status != BatchStatus.RESTARTING.value:
                return Outcome(batch)
            reset_for_start(session, batch, None)
            return Outcome(batch, changed=True)

        await self._after(await self.db.run(restart))
        return 0.0

    # ------------------------------------------------------------------ trouble

    async def _worker_alive(self, worker: str) -> bool:
        if worker == self.server_id:
            return True
        return await self.db.read(
            functools.partial(worker_alive, worker_id=worker, offline_after_s=self.dead_after_s)
        )

    async def _give_up(self, batch_id: int, error: str) -> None:
        """The batch cannot go on: ``invalid`` with ``error``, its runs stopped."""

        def end(session: Session) -> Outcome:
            batch = self._locked(session, batch_id)
            if batch.status not in _DRIVEN:
                return Outcome(batch)
            to_stop = self._end(session, batch, BatchStatus.INVALID, error)
            return Outcome(batch, to_stop=to_stop, changed=True)

        await self._after(await self.db.run(end))
        log.warning("jobext: batch %s is invalid: %s", batch_id, error)

    @staticmethod
    def _clear_aside_error(session: Session, batch_id: int) -> None:
        """The step works again: the error it showed goes."""
        session.execute(
            update(Batch)
            .where(col(Batch.id) == batch_id, col(Batch.error).startswith(_ASIDE))
            .values(error=None)
        )

    async def _set_aside(self, batch_id: int, exc: Exception) -> None:
        """A step raised. A domain error (job deleted, kind switched off, args that no longer
        fit) means the batch cannot go on: ``invalid``. Anything else is shown as its ``error``
        and the batch is left alone for a while (longer each time), never retried at once."""
        if isinstance(exc, JobExtError):
            error = exc.message
            if isinstance(exc, NotFound) and "no job named" in error:
                error = f"its job was deleted ({error})"
            try:
                await self._give_up(batch_id, error)
                return
            except LeaseLost:
                return
            except Exception as again:
                exc = again
        self._log_once(f"batch {batch_id}", "jobext: batch %s: step failed", batch_id)
        _, times = self._aside.get(batch_id, (0.0, 0))
        pause = min(60.0, 2.0 ** min(times, 6))
        self._aside[batch_id] = (asyncio.get_running_loop().time() + pause, times + 1)
        text = f"{type(exc).__name__}: {exc}"[:2000]
        with contextlib.suppress(Exception):
            await self.db.run(
                lambda s: s.execute(
                    update(Batch)
                    .where(col(Batch.id) == batch_id, col(Batch.lease_owner) == self.server_id)
                    .values(error=f"{_ASIDE} {pause:g} s after: {text}")
                )
            )
