"""What the schedules API accepts and returns."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field as PField

from jobext.db import tables
from jobext.shapes import TEN_YEARS_S, Input, Output
from jobext.times import iso

Misfire = Literal["skip", "once", "all"]
Overlap = Literal["forbid", "allow", "replace"]


class ScheduleFields(Input):
    """The fields of a schedule that may be set at creation and changed afterwards."""

    cron: str | None = PField(default=None, min_length=1, max_length=255)
    timezone: str | None = PField(default=None, min_length=1, max_length=64)
    args: Any = None
    active: bool | None = None
    misfire: Misfire | None = None
    misfire_grace_s: float | None = PField(default=None, gt=0, le=TEN_YEARS_S)
    overlap: Overlap | None = None
    description: str | None = PField(default=None, max_length=10_000)


class ScheduleCreate(ScheduleFields):
    """``POST /schedules``."""

    job: str = PField(min_length=1, max_length=128)
    cron: str = PField(min_length=1, max_length=255)


class ScheduleUpdate(ScheduleFields):
    """``PATCH /schedules/{id}``: any subset; ``job`` never changes."""

    not_null = ("cron", "timezone", "active", "misfire", "misfire_grace_s", "overlap")


class PreviewRequest(Input):
    """``POST /schedules/preview``."""

    cron: str = PField(min_length=1, max_length=255)
    timezone: str = PField(default="UTC", min_length=1, max_length=64)
    after: str | None = None
    count: int = PField(default=10, ge=1, le=1000)


class Schedule(Output):
    """A schedule with its next fire times (none while paused)."""

    id: int
    job: str
    cron: str
    timezone: str
    args: Any
    active: bool
    misfire: Misfire
    misfire_grace_s: float
    overlap: Overlap
    description: str
    created_by: str | None
    updated_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    last_fire_at: dt.datetime | None
    next_fire_times: list[dt.datetime]
    error: str | None = PField(
        description="why the schedule is set aside (it fires again once changed)"
    )
    app: str | None = PField(
        description="the app whose code declares this schedule (it then only pauses and "
        "resumes through the API)"
    )


class Fire(Output):
    """One handled fire time of a schedule and what came of it."""

    scheduled_for: dt.datetime
    claimed_at: dt.datetime
    server: str | None
    outcome: Literal["started", "skipped", "missed", "failed", "error"] = PField(
        description="`error`: the schedule was set aside then (`message` says why)"
    )
    run_id: int | None
    message: str | None


class Preview(Output):
    """``POST /schedules/preview``: the fire times, in UTC and in the schedule's zone."""

    cron: str = PField(description="the expression as it was understood")
    timezone: str
    after: dt.datetime = PField(description="the fire times are after this")
    fire_times: list[dt.datetime]
    local_times: list[str] = PField(description="the same, in ISO 8601 with the zone's offset")
    dst_rule: Literal["wildcard", "fixed-time"] = PField(
        description="`wildcard`: fires by the real clock where DST moves it; `fixed-time`: "
        "fires once at each named time of day"
    )


class ScheduleDeleted(Output):
    """A schedule that went (in the server-wide event feed)."""

    id: int
    deleted: Literal[True]


def schedule_json(schedule: tables.Schedule, next_fire_times: list[dt.datetime]) -> dict[str, Any]:
    """The API shape of a schedule, with its next fire times (none while paused)."""
    return {
        "id": schedule.id,
        "job": schedule.job,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "args": schedule.args,
        "active": schedule.active,
        "misfire": schedule.misfire,
        "misfire_grace_s": schedule.misfire_grace_s,
        "overlap": schedule.overlap,
        "description": schedule.description,
        "created_by": schedule.created_by,
        "updated_by": schedule.updated_by,
        "created_at": iso(schedule.created_at),
        "updated_at": iso(schedule.updated_at),
        "last_fire_at": iso(schedule.last_fire_at),
        "next_fire_times": [iso(t) for t in next_fire_times],
        "error": schedule.error,
        "app": schedule.app,
    }


def fire_json(fire: tables.ScheduleFire) -> dict[str, Any]:
    """The API shape of one entry of a schedule's log."""
    return {
        "scheduled_for": iso(fire.scheduled_for),
        "claimed_at": iso(fire.claimed_at),
        "server": fire.server,
        "outcome": fire.outcome,
        "run_id": fire.run_id,
        "message": fire.message,
    }
