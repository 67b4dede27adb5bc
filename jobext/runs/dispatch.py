"""The dispatcher: when this server claims queued runs (:mod:`jobext.runs.claims`) and hands
them to the supervisor to start.

A claim is made in one of three ways, one at a time:

* on a wake (a new run, a changed job, a heartbeat, a retry's backoff timer): a transaction of
  its own, repeated while wakes keep coming;
* along with the end of a run (:meth:`RunManager.finish`): the slot it leaves is filled in the
  transaction that records the end;
* along with an enqueue (:meth:`RunManager.enqueue`): a run that can start at once is claimed
  in the transaction that creates it.

A claim along another transaction (:class:`ClaimAlong`) runs last in it, in a savepoint of its
own, so that its failure never undoes the work it came with; once that transaction has
committed, what it claimed is started. While any claim is under way the others wait: a wake
meanwhile is kept, and served when it ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import Session

from jobext.db.engine import Database
from jobext.db.tables import Job, Run
from jobext.times import utcnow

log = logging.getLogger(__name__)

#: The runs a claim took, with their jobs, and when the first run waiting for its backoff may
#: start.
Claimed = tuple[list[tuple[Run, Job]], dt.datetime | None]


class Dispatcher:
    """Claims queued runs for the slots the supervisor has free."""

    def __init__(
        self,
        db: Database,
        *,
        claim: Callable[[Session, int], Claimed],
        free_slots: Callable[[], int],
        launch: Callable[[Run, Job], Awaitable[None]],
    ):
        self.db = db
        #: Claims up to n runs inside a session's transaction: ``claim(session, n)``.
        self.claim = claim
        self._free_slots = free_slots
        self._launch = launch
        #: Runs claimed and not yet handed to the supervisor (they hold slots).
        self.starting = 0
        self._scheduled = False
        self._busy = False
        self._again = False
        self._closing = False
        self._backoff_timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        """Look for startable queued runs soon (calls coalesce)."""
        if self._closing:
            return
        if self._busy:
            self._again = True
            return
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._spawn)

    def along(self) -> ClaimAlong | None:
        """A claim to make inside another write transaction, or None when no slot is free or
        another claim is under way (then a wake is kept for its end). The dispatcher waits
        until :meth:`ClaimAlong.settle`."""
        if self._closing:
            return None
        if self._busy:
            self._again = True
            return None
        slots = self._free_slots()
        if slots <= 0:
            return None
        self._busy = True
        return ClaimAlong(self, slots)

    def close(self) -> None:
        self._closing = True
        if self._backoff_timer is not None:
            self._backoff_timer.cancel()
            self._backoff_timer = None

    def _spawn(self) -> None:
        self._scheduled = False
        task = asyncio.get_running_loop().create_task(self._dispatch())
        task.add_done_callback(_log_task_error)

    async def _dispatch(self) -> None:
        if self._busy or self._closing:
            self._again = True
            return
        self._busy = True
        try:
            while True:
                self._again = False
                slots = self._free_slots()
                if slots <= 0:
                    # A run that ends frees a slot and claims (or wakes) again.
                    break
                claimed = await self.db.run(lambda session, n=slots: self.claim(session, n))
                await self.start(claimed)
                # A wake during the claim may be for a run the claim could not see yet.
                if not self._again:
                    break
        finally:
            self.release()

    def release(self, *, look_again: bool = False) -> None:
        """A claim has ended: take wakes again; ``look_again`` (or a wake that came meanwhile)
        looks for startable runs once more."""
        if look_again:
            self._again = True
        self._busy = False
        if self._again and not self._closing:
            # Woken while claiming (or while failing): look again.
            self.wake()

    async def start(self, claimed: Claimed) -> None:
        """Hand the runs of a committed claim to the supervisor, oldest first."""
        runs, backoff = claimed
        self._wake_for_backoff(backoff)
        self.starting += len(runs)
        for run, job in runs:
            # The supervisor counts the run as live before its launch first waits.
            self.starting -= 1
            await self._launch(run, job)

    def _wake_for_backoff(self, first: dt.datetime | None) -> None:
        """Set a timer for ``first``, when the earliest queued run waiting for its
        ``not_before`` (a retry's backoff) may start."""
        if self._backoff_timer is not None:
            self._backoff_timer.cancel()
            self._backoff_timer = None
        if first is None or self._closing:
            return
        delay = max(0.0, (first - utcnow()).total_seconds()) + 0.01
        self._backoff_timer = asyncio.get_running_loop().call_later(delay, self.wake)


class ClaimAlong:
    """A claim made inside another write transaction: call it with that transaction's session
    (in a savepoint), then :meth:`settle` once the transaction has ended."""

    def __init__(self, dispatcher: Dispatcher, slots: int):
        self._dispatcher = dispatcher
        self._slots = slots
        self._claimed: Claimed | None = None

    def __call__(self, session: Session) -> None:
        # A transaction written again (a retried flush) claims again: the last one counts.
        self._claimed = None
        self._claimed = self._dispatcher.claim(session, self._slots)

    def settle_soon(self, committed: bool) -> None:
        """:meth:`settle` in a task of its own (a request's reply does not wait for the runs
        it lets start)."""
        task = asyncio.get_running_loop().create_task(self.settle(committed))
        _settling.add(task)
        task.add_done_callback(_settling.discard)
        task.add_done_callback(_log_task_error)

    async def settle(self, committed: bool) -> None:
        """Start what the claim took if its transaction committed; hand the dispatcher back
        either way (and look again when the claim did not happen or a wake came meanwhile)."""
        dispatcher = self._dispatcher
        claimed = self._claimed if committed else None
        try:
            if claimed is not None:
                await dispatcher.start(claimed)
        finally:
            dispatcher.release(look_again=claimed is None)


#: Settling claims (a task must be referenced until it is done).
_settling: set[asyncio.Task[None]] = set()


def _log_task_error(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("jobext: dispatch failed", exc_info=task.exception())
