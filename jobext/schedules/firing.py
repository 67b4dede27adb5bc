"""Firing schedules: the one rule that makes each fire time run exactly once.

A fire is claimed by inserting its ``(schedule_id, scheduled_for)`` row into
``jobext_schedule_fire`` (unique) in the same transaction that inserts its run, so among any
number of servers sharing the database exactly one wins, and a crash can never leave a claim
without its run. The fire rows are also the schedule's log: what ran, what was skipped and why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from jobext.db.tables import Run, Schedule, ScheduleFire
from jobext.errors import Conflict, Forbidden, Invalid, JobExtError, NotFound
from jobext.runs.actions import stop_run
from jobext.runs.manager import RunManager
from jobext.states import IN_PROGRESS, Trigger
from jobext.times import iso, utcnow

log = logging.getLogger(__name__)


#: A fire time on time: the schedule, the time, and the schedule's next time after it.
OnTime = tuple[Schedule, dt.datetime, dt.datetime | None]


def lock_order(fire: OnTime) -> tuple[str, dt.datetime, int]:
    """The order :meth:`Firing.fire_on_time` takes its fires in: by job name (the order in
    which claims lock jobs' rows), then time and schedule."""
    schedule, due, _ = fire
    return schedule.job, due, schedule.id or 0


@dataclasses.dataclass(frozen=True)
class FireResult:
    """What handling one fire time came to."""

    claimed: bool
    outcome: str = ""
    run: Run | None = None
    message: str | None = None
    #: Runs to stop (overlap: replace) once the fire is committed.
    stops: list[int] = dataclasses.field(default_factory=list)


class Firing:
    """Fire times of schedules claimed, run, logged and moved on; every database step is one
    transaction off the event loop. The scheduler loop decides *when*."""

    def __init__(self, runs: RunManager):
        self.runs = runs
        self.db = runs.db

    def _claim(self, session: Session, fire: dict[str, Any]) -> bool:
        """Insert the fire row unless another server has; True when this one won."""
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        table = ScheduleFire.__table__
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy extends.
        stmt = dialect.insert(table).values(**fire).on_conflict_do_nothing().returning(table.c.id)
        return session.connection().execute(stmt).first() is not None

    async def fire(
        self,
        schedule: Schedule,
        scheduled_for: dt.datetime,
        *,
        server: str,
        advance: bool = False,
        next_fire_at: dt.datetime | None = None,
    ) -> FireResult:
        """Run ``schedule`` for ``scheduled_for`` unless another server already did; apply its
        ``overlap`` rule. One transaction: the claim, the fire's log row and the new run; with
        ``advance``, also the move of the schedule on from ``scheduled_for`` to ``next_fire_at``
        (as :meth:`advance` does: a fire on time is one round trip, not two)."""

        def fire(session: Session) -> FireResult:
            if advance:
                return self._fire_on_time(session, (schedule, scheduled_for, next_fire_at), server)
            return self._fire(session, schedule, scheduled_for, server)

        result = await self.db.run(fire)
        await self._after(schedule, scheduled_for, result)
        return result

    async def fire_on_time(
        self, fires: list[OnTime], *, server: str
    ) -> list[FireResult | Exception]:
        """Fire these on-time fire times in one transaction, each moved on to its next time
        (as :meth:`fire` with ``advance`` does), each in a savepoint of its own: one that fails
        is undone alone and comes back as its exception, for the caller to set its schedule
        aside. A second of a busy server's fires costs one transaction, not one each.

        Give them ordered by job name (:func:`lock_order`): each fire locks its job's row, and
        claims lock the jobs of theirs in that order, so on PostgreSQL no two transactions wait
        for each other."""

        def fire_all(session: Session) -> list[FireResult | Exception]:
            results: list[FireResult | Exception] = []
            for on_time in fires:
                try:
                    with session.begin_nested():
                        result = self._fire_on_time(session, on_time, server)
                except Exception as exc:
                    results.append(exc)
                else:
                    results.append(result)
            return results

        results = await self.db.run(fire_all)
        for (schedule, due, _), result in zip(fires, results, strict=True):
            if isinstance(result, FireResult):
                await self._after(schedule, due, result)
        return results

    def _fire_on_time(self, session: Session, on_time: OnTime, server: str) -> FireResult:
        """Fire a time on time and move its schedule on to the next (compare-and-set)."""
        schedule, due, next_fire_at = on_time
        result = self._fire(session, schedule, due, server)
        _move(session, schedule, due, {"next_fire_at": next_fire_at, "last_fire_at": due})
        return result

    async def _after(
        self, schedule: Schedule, scheduled_for: dt.datetime, result: FireResult
    ) -> None:
        """Once a fire is committed: announce its run, stop what it replaces, log why not."""
        stops = result.stops
        if result.run is not None:
            self.runs.announce(result.run)
            if stops:
                self.runs.note(result.run.id or 0, f"replaces run(s) {stops} (overlap: replace)")
        for run_id in stops:
            try:
                await stop_run(self.runs, run_id, user=f"schedule {schedule.id} (overlap: replace)")
            except JobExtError:
                continue
        if result.message:
            log.info(
                "jobext: schedule %s at %s: %s", schedule.id, iso(scheduled_for), result.message
            )

    def _fire(
        self, session: Session, schedule: Schedule, scheduled_for: dt.datetime, server: str
    ) -> FireResult:
        fire: dict[str, Any] = {
            "schedule_id": schedule.id,
            "scheduled_for": scheduled_for,
            "claimed_at": utcnow(),
            "server": server,
            "outcome": "started",
        }
        if not self._claim(session, fire):
            return FireResult(claimed=False)
        running = list(
            session.exec(
                select(Run.id, Run.status).where(
                    Run.schedule_id == schedule.id,
                    Run.status.in_([s.value for s in IN_PROGRESS]),
                )
            ).all()
        )
        outcome, message, run, stops = "started", None, None, []
        if running and schedule.overlap == "forbid":
            outcome = "skipped"
            message = (
                f"run {running[0][0]} of this schedule is still {running[0][1]} (overlap: forbid)"
            )
        else:
            if schedule.overlap == "replace":
                stops = [run_id for run_id, _ in running]
            try:
                run = self.runs.insert_run(
                    session,
                    schedule.job,
                    schedule.args,
                    user=schedule.created_by,
                    trigger=Trigger.SCHEDULE,
                    wait_if_busy=bool(stops),
                    scheduled_for=scheduled_for,
                    schedule_id=schedule.id,
                )
            except (Conflict, Forbidden, NotFound, Invalid) as exc:
                outcome = "failed" if not isinstance(exc, Conflict) else "skipped"
                message = exc.message
                stops = []
        session.execute(
            update(ScheduleFire)
            .where(
                ScheduleFire.schedule_id == schedule.id,
                ScheduleFire.scheduled_for == scheduled_for,
            )
            .values(outcome=outcome, message=message, run_id=run.id if run else None)
        )
        return FireResult(claimed=True, outcome=outcome, run=run, message=message, stops=stops)

    async def record_missed(
        self, schedule: Schedule, missed: list[dt.datetime], *, server: str, why: str
    ) -> None:
        """Log fire times that will not run (once, whichever server gets there first)."""
        if not missed:
            return
        count = len(missed)
        span = iso(missed[0]) if count == 1 else f"{iso(missed[0])} to {iso(missed[-1])}"
        fire = {
            "schedule_id": schedule.id,
            "scheduled_for": missed[0],
            "claimed_at": utcnow(),
            "server": server,
            "outcome": "missed",
            "message": f"{count} fire time(s) {span} missed: {why}",
        }
        await self.db.run(lambda s: self._claim(s, fire))

    async def set_aside(self, schedule: Schedule, error: str, *, server: str) -> bool:
        """Stop firing ``schedule`` because it cannot be handled: keep ``error`` on it (the API
        shows it) and in its log. It is tried again once changed or resumed. True when this
        call set it aside (another server may have first)."""

        def mark(session: Session) -> bool:
            moved = session.execute(
                update(Schedule)
                .where(Schedule.id == schedule.id, Schedule.next_fire_at == schedule.next_fire_at)
                .values(next_fire_at=None, error=error)
                .returning(Schedule.id)
            ).first()
            if moved is None:
                return False
            self._claim(
                session,
                {
                    "schedule_id": schedule.id,
                    "scheduled_for": utcnow(),
                    "claimed_at": utcnow(),
                    "server": server,
                    "outcome": "error",
                    "message": f"set aside: {error}; change or resume the schedule to go on",
                },
            )
            return True

        return await self.db.run(mark)

    async def prune_fires(self, *, keep: int = 1000, keep_days: float = 90.0) -> int:
        """Trim each schedule's log to its newest ``keep`` rows younger than ``keep_days``:
        two set-based statements."""
        cutoff = utcnow() - dt.timedelta(days=keep_days)

        def prune(session: Session) -> int:
            removed = session.execute(
                delete(ScheduleFire).where(ScheduleFire.scheduled_for < cutoff)
            ).rowcount
            ranked = (
                sa_select(
                    ScheduleFire.id.label("id"),
                    func.row_number()
                    .over(
                        partition_by=ScheduleFire.schedule_id,
                        order_by=ScheduleFire.scheduled_for.desc(),
                    )
                    .label("rank"),
                )
            ).subquery()
            beyond = sa_select(ranked.c.id).where(ranked.c.rank > keep)
            removed += session.execute(
                delete(ScheduleFire).where(ScheduleFire.id.in_(beyond.scalar_subquery()))
            ).rowcount
            return int(removed or 0)

        return await self.db.run(prune)

    async def advance(
        self,
        schedule: Schedule,
        *,
        expected: dt.datetime,
        next_fire_at: dt.datetime | None,
        last_fire_at: dt.datetime | None,
    ) -> bool:
        """Move the schedule's ``next_fire_at`` on from ``expected`` (compare-and-set, so it
        never moves back when servers race); True when this call moved it."""
        values: dict[str, Any] = {"next_fire_at": next_fire_at}
        if last_fire_at is not None:
            values["last_fire_at"] = last_fire_at
        return await self.db.run(lambda s: _move(s, schedule, expected, values))


def _move(
    session: Session, schedule: Schedule, expected: dt.datetime, values: dict[str, Any]
) -> bool:
    """Compare-and-set of the schedule's ``next_fire_at`` from ``expected``, with ``values``."""
    moved = session.execute(
        update(Schedule)
        .where(Schedule.id == schedule.id, Schedule.next_fire_at == expected)
        .values(**values)
        .returning(Schedule.id)
    ).first()
    return moved is not None
