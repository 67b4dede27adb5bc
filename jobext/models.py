"""SQLModel tables, and the JSON shapes the API accepts and returns.

Times are timezone-aware UTC datetimes (``timestamptz`` on PostgreSQL) and are shown as
ISO 8601 with a ``Z``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid as uuid_mod
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PField
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .states import RunStatus

JobKind = Literal["python", "notebook", "query", "shell"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def iso(value: dt.datetime | None) -> str | None:
    """``2026-11-21T03:55:22.123Z`` for a datetime (naive means UTC), None for None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    text = value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# ---------------------------------------------------------------------------- tables


class Job(SQLModel, table=True):
    """A registered job definition."""

    __tablename__ = "jobext_job"

    name: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16)
    target: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    connection: str | None = Field(default=None, max_length=128)
    kernel: str | None = Field(default=None, max_length=128)
    default_args: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: Settings of the job's kind (a notebook's HTML copy, a query's chunk size, ...).
    options: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    max_concurrent: int = 1
    queue_when_busy: bool = False
    timeout_s: float | None = None
    retries: int = 0
    retry_backoff_s: float = 60.0
    restartable: bool = True
    keep_runs: int | None = None
    keep_days: float | None = None
    created_by: str | None = Field(default=None, max_length=255)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    """One execution of a job: current or past."""

    __tablename__ = "jobext_run"
    __table_args__ = (
        Index("ix_jobext_run_job_status_id", "job", "status", "id"),
        Index("ix_jobext_run_status_id", "status", "id"),
        Index("ix_jobext_run_created_at", "created_at"),
        Index("ix_jobext_run_worker_status", "worker", "status"),
        # An id names one run for ever, also after the newest run is removed.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(
        default_factory=lambda: str(uuid_mod.uuid4()), max_length=36, unique=True, index=True
    )
    job: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    args: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default=RunStatus.QUEUED.value, max_length=16)
    trigger: str = Field(default="manual", max_length=16)
    user: str | None = Field(default=None, max_length=255)
    scheduled_for: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)
    ended_at: dt.datetime | None = None
    duration_s: float | None = None
    progress: float | None = None
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    records_written: int | None = None
    steps: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    exit_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempt: int = 1
    restarted_from: int | None = None
    restarted_as: int | None = None
    schedule_id: int | None = Field(default=None, index=True)
    batch_id: int | None = Field(default=None, index=True)
    worker: str | None = Field(default=None, max_length=255)
    #: A retry waits in ``queued`` until then (its backoff).
    not_before: dt.datetime | None = None
    result_file: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    result_size: int | None = None
    result_media_type: str | None = Field(default=None, max_length=128)

    @property
    def state(self) -> RunStatus:
        return RunStatus(self.status)


class Schedule(SQLModel, table=True):
    """A cron schedule of a job."""

    __tablename__ = "jobext_schedule"
    __table_args__ = (
        Index("ix_jobext_schedule_active_next", "active", "next_fire_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=128, index=True)
    cron: str = Field(max_length=255)
    timezone: str = Field(default="UTC", max_length=64)
    args: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    active: bool = True
    misfire: str = Field(default="skip", max_length=8)
    misfire_grace_s: float = 3600.0
    overlap: str = Field(default="forbid", max_length=8)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_by: str | None = Field(default=None, max_length=255)
    updated_by: str | None = Field(default=None, max_length=255)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    #: The next fire time nobody has handled yet; None when it never fires again.
    next_fire_at: dt.datetime | None = None
    last_fire_at: dt.datetime | None = None


class ScheduleFire(SQLModel, table=True):
    """One handled fire time of a schedule: the claim that makes it happen exactly once, and
    what came of it (a run, or why there was none). This is the schedule's log."""

    __tablename__ = "jobext_schedule_fire"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_jobext_fire_schedule_time"),
    )

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int
    scheduled_for: dt.datetime
    claimed_at: dt.datetime = Field(default_factory=utcnow)
    server: str | None = Field(default=None, max_length=255)
    outcome: str = Field(max_length=16)
    run_id: int | None = None
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RunEvent(SQLModel, table=True):
    """One event of a run's stream: a log line, a state change or a progress report.

    ``seq`` numbers a run's events from 1 with no gaps; it is the SSE ``id`` and the ``after``
    cursor of the logs endpoint.
    """

    __tablename__ = "jobext_run_event"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_jobext_run_event_run_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int
    seq: int
    ts: dt.datetime
    type: str = Field(max_length=16)
    stream: str | None = Field(default=None, max_length=16)
    level: str | None = Field(default=None, max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))


class Server(SQLModel, table=True):
    """A Jupyter server process running jobext against this database, with its heartbeat."""

    __tablename__ = "jobext_server"

    id: str = Field(primary_key=True, max_length=255)
    hostname: str = Field(max_length=255)
    pid: int
    started_at: dt.datetime = Field(default_factory=utcnow)
    heartbeat_at: dt.datetime = Field(default_factory=utcnow)
    stopped_at: dt.datetime | None = None
    max_workers: int = 0


# ---------------------------------------------------------------------------- API input


_TEN_YEARS_S = 10 * 366 * 24 * 3600


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class JobFields(_Input):
    """The fields of a job that may be set at registration and changed afterwards."""

    description: str | None = PField(default=None, max_length=10_000)
    connection: str | None = PField(default=None, max_length=128)
    kernel: str | None = PField(default=None, max_length=128)
    default_args: dict[str, Any] | list[Any] | str | None = None
    options: dict[str, Any] | None = None
    max_concurrent: int | None = PField(default=None, ge=1, le=10_000)
    queue_when_busy: bool | None = None
    timeout_s: float | None = PField(default=None, gt=0, le=_TEN_YEARS_S)
    retries: int | None = PField(default=None, ge=0, le=100)
    retry_backoff_s: float | None = PField(default=None, ge=0, le=_TEN_YEARS_S)
    restartable: bool | None = None
    keep_runs: int | None = PField(default=None, ge=0, le=1_000_000_000)
    keep_days: float | None = PField(default=None, ge=0, le=100_000)


class JobCreate(JobFields):
    """``POST /jobs``."""

    name: str = PField(max_length=128)
    kind: JobKind
    target: str = PField(min_length=1, max_length=1_000_000)

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "must start with a letter or digit and use only letters, digits, '_', '.' and '-'"
                " (at most 128)"
            )
        return value


class JobUpdate(JobFields):
    """``PATCH /jobs/{name}``: any subset of the fields; ``kind`` and ``name`` never change."""

    target: str | None = PField(default=None, min_length=1, max_length=1_000_000)


Misfire = Literal["skip", "once", "all"]
Overlap = Literal["forbid", "allow", "replace"]


class ScheduleFields(_Input):
    """The fields of a schedule that may be set at creation and changed afterwards."""

    cron: str | None = PField(default=None, min_length=1, max_length=255)
    timezone: str | None = PField(default=None, min_length=1, max_length=64)
    args: Any = None
    active: bool | None = None
    misfire: Misfire | None = None
    misfire_grace_s: float | None = PField(default=None, gt=0, le=_TEN_YEARS_S)
    overlap: Overlap | None = None
    description: str | None = PField(default=None, max_length=10_000)


class ScheduleCreate(ScheduleFields):
    """``POST /schedules``."""

    job: str = PField(min_length=1, max_length=128)
    cron: str = PField(min_length=1, max_length=255)


class ScheduleUpdate(ScheduleFields):
    """``PATCH /schedules/{id}``: any subset; ``job`` never changes."""


class PreviewRequest(_Input):
    """``POST /schedules/preview``."""

    cron: str = PField(min_length=1, max_length=255)
    timezone: str = PField(default="UTC", min_length=1, max_length=64)
    after: str | None = None
    count: int = PField(default=10, ge=1, le=1000)


class EnqueueRequest(_Input):
    """``POST /jobs/{name}/runs``."""

    args: Any = None
    follow: bool = False


# ---------------------------------------------------------------------------- API output


def job_json(job: Job) -> dict[str, Any]:
    """The API shape of a job definition."""
    return {
        "name": job.name,
        "kind": job.kind,
        "target": job.target,
        "description": job.description,
        "connection": job.connection,
        "kernel": job.kernel,
        "default_args": job.default_args,
        "options": job.options,
        "max_concurrent": job.max_concurrent,
        "queue_when_busy": job.queue_when_busy,
        "timeout_s": job.timeout_s,
        "retries": job.retries,
        "retry_backoff_s": job.retry_backoff_s,
        "restartable": job.restartable,
        "keep_runs": job.keep_runs,
        "keep_days": job.keep_days,
        "created_by": job.created_by,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
    }


def run_json(run: Run, api_base: str = "/jobext/api/v1") -> dict[str, Any]:
    """The API shape of a run; ``api_base`` makes the result URL absolute to the server."""
    duration = run.duration_s
    if duration is None and run.started_at is not None:
        end = run.ended_at or utcnow()
        duration = round((end - run.started_at).total_seconds(), 3)
    result = None
    if run.result_file:
        result = {
            "filename": result_filename(run),
            "size": run.result_size,
            "media_type": run.result_media_type,
            "url": f"{api_base}/runs/{run.id}/result",
        }
    return {
        "id": run.id,
        "uuid": run.uuid,
        "job": run.job,
        "kind": run.kind,
        "args": run.args,
        "status": run.status,
        "trigger": run.trigger,
        "user": run.user,
        "scheduled_for": iso(run.scheduled_for),
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "updated_at": iso(run.updated_at),
        "ended_at": iso(run.ended_at),
        "duration_s": duration,
        "progress": run.progress,
        "message": run.message,
        "records_written": run.records_written,
        "steps": run.steps or [],
        "exit_code": run.exit_code,
        "error": run.error,
        "attempt": run.attempt,
        "restarted_from": run.restarted_from,
        "restarted_as": run.restarted_as,
        "schedule_id": run.schedule_id,
        "batch_id": run.batch_id,
        "worker": run.worker,
        "result": result,
    }


def schedule_json(schedule: Schedule, next_fire_times: list[dt.datetime]) -> dict[str, Any]:
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
    }


def fire_json(fire: ScheduleFire) -> dict[str, Any]:
    """The API shape of one entry of a schedule's log."""
    return {
        "scheduled_for": iso(fire.scheduled_for),
        "claimed_at": iso(fire.claimed_at),
        "server": fire.server,
        "outcome": fire.outcome,
        "run_id": fire.run_id,
        "message": fire.message,
    }


def result_filename(run: Run) -> str:
    """``<job>-<run id>.<ext>``: the name a downloaded result is saved under."""
    ext = ""
    if run.result_file and "." in run.result_file.rsplit("/", 1)[-1]:
        ext = "." + run.result_file.rsplit(".", 1)[-1]
    return f"{run.job}-{run.id}{ext}"
