"""The scheduler loop: wakes at the next fire time of any active schedule, fires what is due,
and decides what to do with fire times missed while no server was running (``misfire``).

It decides *when*; :class:`~jobext.schedules.firing.Firing` decides *whether* (the claim that
makes a fire happen once across servers) and *what* (the ``overlap`` rule, the run).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy import func
from sqlmodel import select

from jobext.db.tables import Schedule
from jobext.errors import JobExtError
from jobext.schedules.firing import OnTime, lock_order
from jobext.schedules.manager import ScheduleService
from jobext.times import utcnow

log = logging.getLogger(__name__)

#: Schedules handled per pass; more that are due are handled in the next pass at once.
_BATCH = 200
#: On-time fires made in one transaction.
_FIRES_PER_TX = 50
#: Due schedules looked at (their next time computed) between yields to the event loop.
_YIELD_EVERY = 20
#: At most this many missed fire times are run (misfire: all) or counted per schedule.
MAX_CATCH_UP = 10_000


class Scheduler:
    """Fires due schedules; one per server, all of them sharing the work through the database."""

    def __init__(
        self,
        schedules: ScheduleService,
        *,
        server_id: str,
        misfire_threshold_s: float = 5.0,
        poll_s: float = 1.0,
        prune_every_s: float = 600.0,
    ):
        self.schedules = schedules
        self.db = schedules.db
        self.firing = schedules.firing
        self.server_id = server_id
        self.misfire_threshold_s = misfire_threshold_s
        self.poll_s = poll_s
        self.prune_every_s = prune_every_s
        self._pruned_at = 0.0
        self._logged: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        schedules.on_change = self.wake

    def wake(self) -> None:
        """Look at the schedules again now (one changed)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                delay = await self.tick()
                clock = asyncio.get_running_loop().time()
                if clock - self._pruned_at >= self.prune_every_s:
                    self._pruned_at = clock
                    await self.firing.prune_fires()
            except Exception:
                self._log_once("pass", "jobext: scheduler pass failed")
                delay = self.poll_s
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            else:
                # More is due at once: let everything else on the loop run first.
                await asyncio.sleep(0)

    def _log_once(self, key: str, message: str, *args: object) -> None:
        """Log at most once a minute per ``key`` (a failure that repeats does not flood)."""
        now = asyncio.get_running_loop().time()
        if now - self._logged.get(key, -1e9) >= 60.0:
            self._logged[key] = now
            log.warning(message, *args, exc_info=True)

    async def tick(self, now: dt.datetime | None = None) -> float:
        """Handle every schedule that is due; return the seconds until the next one is (at most
        ``poll_s``, so that schedules changed by other servers are noticed).

        A schedule that cannot be handled (its time zone is gone, its expression no longer
        parses) is set aside with its error, and every other schedule goes on firing.
        """
        now = now or utcnow()
        due = await self.db.read(
            lambda s: list(
                s.exec(
                    select(Schedule)
                    .where(Schedule.active, Schedule.next_fire_at <= now)
                    .order_by(Schedule.next_fire_at, Schedule.id)
                    .limit(_BATCH)
                ).all()
            )
        )
        on_time: list[OnTime] = []
        for index, schedule in enumerate(due):
            try:
                fire_time = schedule.next_fire_at
                assert fire_time is not None
                if (now - fire_time).total_seconds() > self.misfire_threshold_s:
                    await self.handle(schedule, now)  # missed fire times: one by one
                else:
                    next_fire_at = self.schedules.cron(schedule).next_after(fire_time)
                    on_time.append((schedule, fire_time, next_fire_at))
            except Exception as exc:
                await self._set_aside(schedule, exc)
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)
        on_time.sort(key=lock_order)
        for start in range(0, len(on_time), _FIRES_PER_TX):
            await self._fire_on_time(on_time[start : start + _FIRES_PER_TX], now)
            await asyncio.sleep(0)
        if len(due) == _BATCH:
            return 0.0
        upcoming = await self.db.read(
            lambda s: s.exec(select(func.min(Schedule.next_fire_at)).where(Schedule.active)).one()
        )
        if upcoming is None:
            return self.poll_s
        return min(self.poll_s, max(0.0, (upcoming - utcnow()).total_seconds()))

    async def _fire_on_time(self, fires: list[OnTime], now: dt.datetime) -> None:
        """Fire on-time fire times together; a schedule whose fire fails is set aside. When the
        transaction as a whole fails (PostgreSQL ended it to break a lock cycle, the database
        went away for a moment), each is handled alone, as a missed one would be."""
        try:
            results = await self.firing.fire_on_time(fires, server=self.server_id)
        except Exception:
            self._log_once("fire-together", "jobext: firing schedules together failed")
            for schedule, _, _ in fires:
                try:
                    await self.handle(schedule, now)
                except Exception as exc:
                    await self._set_aside(schedule, exc)
                await asyncio.sleep(0)
            return
        for (schedule, _, _), result in zip(fires, results, strict=True):
            if isinstance(result, Exception):
                await self._set_aside(schedule, result)

    async def _set_aside(self, schedule: Schedule, exc: Exception) -> None:
        error = exc.message if isinstance(exc, JobExtError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, JobExtError):
            self._log_once(f"schedule {schedule.id}", "jobext: schedule %s failed", schedule.id)
        try:
            if await self.firing.set_aside(schedule, error, server=self.server_id):
                log.warning("jobext: schedule %s set aside: %s", schedule.id, error)
        except Exception:
            self._log_once("set-aside", "jobext: could not set schedule %s aside", schedule.id)

    async def handle(self, schedule: Schedule, now: dt.datetime) -> None:
        """Fire ``schedule``'s due time, or settle the times it missed, and move it on."""
        due = schedule.next_fire_at
        assert due is not None
        cron = self.schedules.cron(schedule)
        late = (now - due).total_seconds()
        if late <= self.misfire_threshold_s:
            next_fire_at = cron.next_after(due)
            await self.firing.fire(
                schedule, due, server=self.server_id, advance=True, next_fire_at=next_fire_at
            )
            return
        missed = [due, *cron.fires_between(due, now, MAX_CATCH_UP - 1)]
        next_fire_at = cron.next_after(now)
        policy = schedule.misfire
        if policy == "once":
            run, skipped = [missed[-1]], missed[:-1]
            why = "no server was running (misfire: once ran only the latest)"
        elif policy == "all":
            grace = dt.timedelta(seconds=schedule.misfire_grace_s)
            run = [t for t in missed if now - t <= grace]
            skipped = [t for t in missed if now - t > grace]
            why = f"no server was running and they are older than {schedule.misfire_grace_s:g} s"
        else:
            run, skipped = [], missed
            why = "no server was running (misfire: skip)"
        await self.firing.record_missed(schedule, skipped, server=self.server_id, why=why)
        for fire_time in run:
            await self.firing.fire(schedule, fire_time, server=self.server_id)
            await asyncio.sleep(0)
        await self.firing.advance(
            schedule,
            expected=due,
            next_fire_at=next_fire_at,
            last_fire_at=run[-1] if run else None,
        )
