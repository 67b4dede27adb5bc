"""The dispatcher: when this server claims queued runs (:mod:`jobext.runs.claims`) and hands
them to the supervisor to start.

A claim is made in one of three ways:

* on a wake (a new run, a changed job, a heartbeat, a retry's backoff timer): a transaction of
  its own, repeated while wakes keep coming;
* along with the end of a run (:meth:`RunManager.finish`): the slot it leaves is filled in the
  transaction that records the end;
* along with an enqueue (:meth:`RunManager.enqueue`): a run that can start at once is claimed
  in the transaction that creates it.

A claim along another transaction (:class:`ClaimAlong`) runs last in it, in a savepoint of its
own, so that its failure never undoes the work it came with; once that transaction has
committed, what it claimed is started.

Each claim holds the slots it may fill from when it is asked for until its runs are handed over,
so claims under way together never take more runs than there are slots: a run that ends while
a claim of the dispatcher's own is under way still fills its slot in its own transaction (in a
burst of runs, most slots are filled that way, with no transaction of their own). A wake while a
claim is under way is kept, and served once no claim holds slots.
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
        #: Slots held by the claims under way (one of its own, and any along other work).
        self._reserved = 0
        self._scheduled = False
        self._busy = False
        self._again = False
        self._closing = False
        self._backoff_timer: asyncio.TimerHandle | None = None

    def free(self) -> int:
        """Slots free and held by no claim under way."""
        return self._free_slots() - self._reserved

    def wake(self) -> None:
        """Look for startable queued runs soon (calls coalesce); while a claim is under way,
        once it has ended (it may not see the run the wake is for)."""
        if self._closing:
            return
        if self._busy or self._reserved:
            self._again = True
            return
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._spawn)

    def along(self) -> ClaimAlong | None:
        """A claim to make inside another write transaction, for the slots free and held by no
        other claim (so claims under way together never start more runs than there are slots);
        None when there are none. Call :meth:`ClaimAlong.settle` once that transaction ends."""
        if self._closing:
            return None
        slots = self.free()
        if slots <= 0:
            if self._reserved:
                # The claims under way may leave some of their slots: look again after them.
                self._again = True
            return None
        self._reserved += slots
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
                slots = self.free()
                if slots <= 0:
                    # A run that ends frees a slot and claims (or wakes) again; a claim under
                    # way that leaves slots looks again when it ends.
                    self._again = self._again or self._reserved > 0
                    break
                self._reserved += slots
                try:
                    claimed = await self.db.run(lambda session, n=slots: self.claim(session, n))
                finally:
                    self.release(slots)
                await self.start(claimed)
                # A wake during the claim may be for a run the claim could not see yet.
                if not self._again:
                    break
        finally:
            self._busy = False
            self.settled()

    def release(self, slots: int) -> None:
        """A claim no longer holds its ``slots`` (its runs, if any, are about to be started)."""
        self._reserved -= slots

    def settled(self, *, look_again: bool = False) -> None:
        """A claim has ended (its slots are no longer held): serve a wake that came meanwhile,
        or look again when ``look_again``."""
        if look_again:
            self._again = True
        if self._again and not self._closing:
            self.wake()

    async def start(self, claimed: Claimed) -> None:
        """Hand the runs of a committed claim to the supervisor, oldest first (call it as soon
        as the claim's slots are no longer held: the runs hold them now)."""
        runs, backoff = claimed
        self.starting += len(runs)
        self._wake_for_backoff(backoff)
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
        # The slots pass from the claim to the runs it took at once (no wait in between).
        dispatcher.release(self._slots)
        try:
            if claimed is not None:
                await dispatcher.start(claimed)
        finally:
            dispatcher.settled(look_again=claimed is None)


#: Settling claims (a task must be referenced until it is done).
_settling: set[asyncio.Task[None]] = set()


def _log_task_error(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("jobext: dispatch failed", exc_info=task.exception())
