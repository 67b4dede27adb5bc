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
:meth:`RunManager.insert_run` and stopped by :func:`~jobext.runs.actions.stop_run`, the REST
API's own paths. A step that raises is set aside (with its error shown, or ``invalid`` when the
batch cannot go on) and tried again only after a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from sqlalchemy import update
from sqlmodel import Session, col, select

from jobext.batches import lanes
from jobext.batches.directives import reset_for_start
from jobext.batches.lanes import MAX_RELEASE, Outcome
from jobext.batches.leases import LeaseLost, Leases
from jobext.batches.manager import BatchManager
from jobext.batches.shapes import SubJobState
from jobext.db.tables import Batch, BatchSubJob, Run
from jobext.errors import Conflict, JobExtError, NotFound
from jobext.runs.actions import announce_stop, stop_run
from jobext.runs.removal import delete_runs
from jobext.states import BATCH_DRIVEN, IN_PROGRESS, BatchStatus, RunStatus
from jobext.times import utcnow
from jobext.workers.heartbeats import worker_alive

log = logging.getLogger(__name__)

_S = SubJobState
_DRIVEN = [s.value for s in BATCH_DRIVEN]
#: How a step's unexpected error is shown on its batch.
_ASIDE = "set aside for"
_IN_PROGRESS = [s.value for s in IN_PROGRESS]
#: The statuses in which a batch stops its runs.
_STOPPING = (BatchStatus.STOPPING.value, BatchStatus.RESTARTING.value)


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
        self.leases = Leases(batches.db, server_id=server_id, lease_s=lease_s)
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
            await self.db.run(self.leases.release)
        except Exception:
            log.warning("jobext: could not hand back the batch leases", exc_info=True)

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

    # ------------------------------------------------------------------ passes

    async def tick(self) -> float:
        """Step every batch this server holds; return the seconds until the next pass."""
        if await self.db.read(self.leases.wanted):
            await self.db.run(self.leases.take)
        held = await self.db.read(self.leases.held)
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
        look = await self.db.read(lambda s: lanes.look(s, batch_id))
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
            look = await self.db.read(lambda s: lanes.look(s, batch_id))
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
        await self._announce_stopped(outcome.stopped)
        for run_id in outcome.to_stop:
            with contextlib.suppress(Conflict, NotFound):
                await stop_run(self.runs, run_id, user=None, by_batch=True)
        if outcome.changed and outcome.batch is not None:
            self.batches.publish(outcome.batch)

    async def _announce_stopped(self, stopped: list[Run]) -> None:
        """Tell of each queued run a step stopped what a stop request tells
        (:func:`~jobext.runs.actions.announce_stop`)."""
        for n, run in enumerate(stopped, 1):
            announce_stop(self.runs, run)
            if n % 200 == 0:
                await asyncio.sleep(0)
        if stopped:
            self.runs.control.wake()

    # ------------------------------------------------------------------ steps (transactions)
    # Each under the batch's row lock, once this server's lease is checked.

    def _advance(self, session: Session, batch_id: int) -> Outcome:
        return lanes.advance_ended_lanes(session, self.leases.locked(session, batch_id))

    def _release(self, session: Session, batch_id: int) -> Outcome:
        return lanes.start_due_lanes(session, self.leases.locked(session, batch_id), self.runs)

    def _set_status(self, session: Session, batch_id: int, target: BatchStatus) -> Outcome:
        return lanes.settle_status(session, self.leases.locked(session, batch_id), target)

    # ------------------------------------------------------------------ stop, re-start

    async def _stop_queued_runs(self, batch_id: int) -> None:
        """Stop the batch's queued runs in one transaction (:func:`lanes.stop_queued_runs`),
        then tell of each what :func:`~jobext.runs.actions.stop_run` tells: its log line, its
        ``state``."""

        def stop(session: Session) -> list[Run]:
            batch = self.leases.locked(session, batch_id)
            if batch.status not in _STOPPING:
                return []
            return lanes.stop_queued(session, batch_id)

        await self._announce_stopped(await self.db.run(stop))

    async def _stop_runs_in_progress(self, batch_id: int) -> int:
        """Ask every run of the batch in progress to stop (gracefully): the queued ones at
        once, in one statement; return how many are still in progress."""
        await self._stop_queued_runs(batch_id)
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
                    await stop_run(self.runs, run_id, user=None, by_batch=True)
                await asyncio.sleep(0)
        return len(rows)

    async def _stop_all(self, batch_id: int) -> float:
        """``stopping``: stop every run; with none left in progress, ``stopped``, progress reset."""
        if await self._stop_runs_in_progress(batch_id):
            return self.poll_s

        def finish(session: Session) -> Outcome:
            batch = self.leases.locked(session, batch_id)
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
        self.runs.hub.discard(ids)
        await delete_runs(self.db, self.runs.results_dir, ids, publish=self.runs.hub.feed.publish)

        def restart(session: Session) -> Outcome:
            batch = self.leases.locked(session, batch_id)
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
            batch = self.leases.locked(session, batch_id)
            if batch.status not in _DRIVEN:
                return Outcome(batch)
            stopped, to_stop = lanes.end_batch(session, batch, BatchStatus.INVALID, error)
            return Outcome(batch, stopped=stopped, to_stop=to_stop, changed=True)

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
