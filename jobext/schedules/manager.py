"""Schedules: their definitions (create, change, pause, delete, preview) and their log.

Firing them (the claim that makes each fire time run exactly once) is
:class:`~jobext.schedules.firing.Firing`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlmodel import Session, select

from jobext.db.paging import PageRequest, paginate
from jobext.db.tables import Job, Schedule, ScheduleFire
from jobext.errors import Conflict, Invalid, JobExtError, NotFound
from jobext.kinds import registry as kinds
from jobext.runs.filters import parse_instant
from jobext.runs.manager import RunManager
from jobext.schedules.cron import CronSchedule
from jobext.schedules.firing import Firing
from jobext.schedules.shapes import (
    PreviewRequest,
    ScheduleCreate,
    ScheduleUpdate,
    fire_json,
    schedule_json,
)
from jobext.shapes import parse
from jobext.times import iso, utcnow

SCHEDULE_SORTS = ("id", "job", "created_at", "updated_at", "next_fire_at")
SHOWN_FIRE_TIMES = 5


def refuse_app_schedule(schedule: Schedule, what: str) -> None:
    """409 for a schedule an app's code declares: it changes by redeploying the app."""
    if schedule.app is not None:
        raise Conflict(
            f"schedule {schedule.id} is declared by the code of app {schedule.app!r} and cannot "
            f"be {what} here (pause and resume it, or change the code and redeploy: "
            f"PUT /apps/{schedule.app})",
            reason="managed_by_app",
        )


class ScheduleService:
    """The rules of schedules; every database step is one transaction off the event loop."""

    def __init__(self, runs: RunManager, *, default_grace_s: float = 3600.0):
        self.runs = runs
        self.db = runs.db
        self.default_grace_s = default_grace_s
        #: Called after any change that may move a fire time (the scheduler wakes up).
        self.on_change: Callable[[], None] = lambda: None
        self._crons: dict[tuple[str, str], CronSchedule] = {}
        #: Fire times claimed, run and logged (the scheduler loop's side).
        self.firing = Firing(runs)

    # ------------------------------------------------------------------ definitions

    def cron(self, schedule: Schedule) -> CronSchedule:
        """The parsed expression of ``schedule`` (cached); :class:`Invalid` when it can no
        longer be parsed (its time zone was dropped from the system's tzdata, say)."""
        key = (schedule.cron, schedule.timezone)
        cron = self._crons.get(key)
        if cron is None:
            if len(self._crons) > 50_000:
                self._crons.clear()
            cron = self._crons[key] = CronSchedule.parse(schedule.cron, schedule.timezone)
        return cron

    def announce(self, schedule: Schedule) -> None:
        """After a commit that made or changed ``schedule``: wake the scheduler, and tell the
        server-wide feed."""
        self.on_change()
        self.runs.hub.feed.publish("schedule", self.json(schedule))

    def announce_deleted(self, schedule_id: int) -> None:
        """After a commit that deleted schedule ``schedule_id``."""
        self.on_change()
        self.runs.hub.feed.publish("schedule", {"id": schedule_id, "deleted": True})

    async def get(self, schedule_id: int) -> Schedule:
        schedule = await self.db.read(lambda s: s.get(Schedule, schedule_id))
        if schedule is None:
            raise NotFound(f"no schedule with id {schedule_id}")
        return schedule

    def json(self, schedule: Schedule) -> dict[str, Any]:
        """The API shape: with its next fire times while active, and its ``error`` while the
        scheduler holds it aside."""
        times: list[dt.datetime] = []
        if schedule.active and schedule.next_fire_at is not None and not schedule.error:
            first = schedule.next_fire_at
            try:
                times = [first, *self.cron(schedule).fire_times(first, SHOWN_FIRE_TIMES - 1)]
            except JobExtError:
                times = [first]
        return schedule_json(schedule, times)

    async def list_page(
        self, page: PageRequest, *, job: str | None = None, active: bool | None = None
    ) -> tuple[list[Schedule], int]:
        stmt = select(Schedule)
        if job is not None:
            stmt = stmt.where(Schedule.job == job)
        if active is not None:
            stmt = stmt.where(Schedule.active == active)
        if page.search:
            stmt = stmt.where(Schedule.job.contains(page.search, autoescape=True))
        columns = {name: getattr(Schedule, name) for name in SCHEDULE_SORTS}
        return await self.db.read(
            lambda s: paginate(
                s, stmt, page, columns=columns, default_sort="id", tiebreak=Schedule.id
            )
        )

    @staticmethod
    def check_args(job: Job, args: Any) -> None:
        """400 naming ``args`` when they do not suit ``job`` (its kind, a query's parameters)."""
        kinds.merge_args(job.kind, job.default_args, args, target=job.target)

    def build(self, data: Any, *, user: str | None, app: str | None = None) -> Schedule:
        """A schedule from a creation body (``POST /schedules``), its expression and zone
        checked, not saved: 400 naming ``cron`` or ``timezone``. The app deployer builds its
        schedules here too."""
        spec = parse(ScheduleCreate, data)
        cron = CronSchedule.parse(spec.cron, spec.timezone or "UTC")
        active = spec.active if spec.active is not None else True
        return Schedule(
            job=spec.job,
            cron=cron.expression,
            timezone=cron.timezone,
            args=spec.args,
            active=active,
            misfire=spec.misfire or "skip",
            misfire_grace_s=spec.misfire_grace_s or self.default_grace_s,
            overlap=spec.overlap or "forbid",
            description=spec.description or "",
            created_by=user,
            updated_by=user,
            next_fire_at=cron.next_after(utcnow()),
            app=app,
        )

    def insert(self, session: Session, schedule: Schedule) -> Schedule:
        """Add a built schedule in ``session``'s transaction; 400 naming ``job`` when there is
        no such job, or ``args`` when they do not suit it."""
        job = session.get(Job, schedule.job)
        if job is None:
            raise Invalid("job", f"no job named {schedule.job!r}")
        self.check_args(job, schedule.args)
        session.add(schedule)
        return schedule

    async def create(self, data: Any, *, user: str | None) -> Schedule:
        """Create a schedule; 400 naming ``job``, ``cron``, ``timezone`` or ``args``."""
        schedule = self.build(data, user=user)
        await self.db.run(lambda s: self.insert(s, schedule))
        self.announce(schedule)
        return schedule

    def change(
        self, session: Session, schedule: Schedule, changes: dict[str, Any], *, user: str | None
    ) -> Schedule:
        """Apply checked ``changes`` to ``schedule`` in ``session``'s transaction: a new cron,
        time zone or activation counts from now; any change clears the error that set it
        aside. 400 naming ``cron``, ``timezone`` or ``args``."""
        timing = {"cron", "timezone", "active"} & changes.keys() or schedule.error
        cron = CronSchedule.parse(
            changes.get("cron", schedule.cron), changes.get("timezone", schedule.timezone)
        )
        if "args" in changes:
            job = session.get(Job, schedule.job)
            if job is not None:
                self.check_args(job, changes["args"])
        for key, value in changes.items():
            setattr(schedule, key, value)
        schedule.cron, schedule.timezone = cron.expression, cron.timezone
        if timing:
            # Fires that fell due while it was paused are not caught up: it counts from now.
            schedule.next_fire_at = cron.next_after(utcnow())
        schedule.error = None
        schedule.updated_by = user
        schedule.updated_at = utcnow()
        session.add(schedule)
        return schedule

    async def update(self, schedule_id: int, data: Any, *, user: str | None) -> Schedule:
        """Change a schedule (see :meth:`change`); one that an app's code declares only
        pauses and resumes here (409 for anything else: redeploy the app)."""
        if isinstance(data, dict) and "job" in data:
            raise Invalid("job", "cannot be changed; create a schedule for the other job")
        changes = parse(ScheduleUpdate, data).model_dump(exclude_unset=True)
        if "description" in changes and changes["description"] is None:
            changes["description"] = ""

        def change(session: Session) -> Schedule:
            schedule = session.exec(
                self.db.for_update(select(Schedule).where(Schedule.id == schedule_id))
            ).first()
            if schedule is None:
                raise NotFound(f"no schedule with id {schedule_id}")
            if changes.keys() - {"active"}:
                refuse_app_schedule(schedule, "changed")
            return self.change(session, schedule, changes, user=user)

        schedule = await self.db.run(change)
        self.announce(schedule)
        return schedule

    async def set_active(self, schedule_id: int, active: bool, *, user: str | None) -> Schedule:
        """Pause (stop firing) or resume (fire again, from now on; a schedule set aside for an
        error is tried again)."""
        schedule = await self.get(schedule_id)
        if schedule.active == active and not (active and schedule.error):
            return schedule
        return await self.update(schedule_id, {"active": active}, user=user)

    @staticmethod
    def drop(session: Session, schedule: Schedule) -> None:
        """Delete ``schedule`` and its log in ``session``'s transaction; its runs stay (their
        ``schedule_id`` remains)."""
        session.execute(delete(ScheduleFire).where(ScheduleFire.schedule_id == schedule.id))
        session.delete(schedule)

    async def delete(self, schedule_id: int) -> None:
        """Delete a schedule and its log; 404 if unknown, 409 for one an app's code declares."""

        def drop(session: Session) -> None:
            schedule = session.get(Schedule, schedule_id)
            if schedule is None:
                raise NotFound(f"no schedule with id {schedule_id}")
            refuse_app_schedule(schedule, "deleted")
            self.drop(session, schedule)

        await self.db.run(drop)
        self.announce_deleted(schedule_id)

    def preview(self, data: Any) -> dict[str, Any]:
        """Fire times of a cron expression in a time zone, saving nothing."""
        spec = parse(PreviewRequest, data)
        cron = CronSchedule.parse(spec.cron, spec.timezone)
        after = parse_instant("after", spec.after) if spec.after else utcnow()
        times = cron.fire_times(after, spec.count)
        zone = ZoneInfo(cron.timezone)
        return {
            "cron": cron.expression,
            "timezone": cron.timezone,
            "after": iso(after),
            "fire_times": [iso(t) for t in times],
            "local_times": [t.astimezone(zone).isoformat() for t in times],
            "dst_rule": cron.dst_rule,
        }

    async def fires(self, schedule_id: int, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        """The schedule's log, newest first."""
        await self.get(schedule_id)
        stmt = select(ScheduleFire).where(ScheduleFire.schedule_id == schedule_id)
        columns = {"scheduled_for": ScheduleFire.scheduled_for}
        rows, total = await self.db.read(
            lambda s: paginate(
                s,
                stmt,
                page,
                columns=columns,
                default_sort="-scheduled_for",
                tiebreak=ScheduleFire.id,
            )
        )
        return [fire_json(r) for r in rows], total
