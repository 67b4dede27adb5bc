"""What the jobs API accepts and returns."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field as PField
from pydantic import field_validator

from jobext.db import tables
from jobext.db.tables import NAME_RE
from jobext.runs.shapes import Run
from jobext.shapes import TEN_YEARS_S, Input, Output
from jobext.times import iso

JobKind = Literal["python", "notebook", "query", "shell"]


class JobFields(Input):
    """The fields of a job that may be set at registration and changed afterwards."""

    description: str | None = PField(default=None, max_length=10_000)
    connection: str | None = PField(default=None, max_length=128)
    kernel: str | None = PField(default=None, max_length=128)
    default_args: dict[str, Any] | list[Any] | str | None = None
    options: dict[str, Any] | None = None
    max_concurrent: int | None = PField(default=None, ge=1, le=10_000)
    queue_when_busy: bool | None = None
    timeout_s: float | None = PField(default=None, gt=0, le=TEN_YEARS_S)
    retries: int | None = PField(default=None, ge=0, le=100)
    retry_backoff_s: float | None = PField(default=None, ge=0, le=TEN_YEARS_S)
    restartable: bool | None = None
    keep_runs: int | None = PField(default=None, ge=0, le=1_000_000_000)
    keep_days: float | None = PField(default=None, ge=0, le=100_000)


class JobCreate(JobFields):
    """``POST /jobs``."""

    name: str = PField(max_length=128, json_schema_extra={"pattern": NAME_RE.pattern})
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

    not_null = (
        "target",
        "max_concurrent",
        "retries",
        "retry_backoff_s",
        "queue_when_busy",
        "restartable",
    )

    target: str | None = PField(default=None, min_length=1, max_length=1_000_000)


Misfire = Literal["skip", "once", "all"]
Overlap = Literal["forbid", "allow", "replace"]


class Job(Output):
    """A job definition."""

    name: str
    kind: JobKind
    target: str
    description: str
    connection: str | None
    kernel: str | None
    default_args: dict[str, Any] | list[Any] | str | None
    options: dict[str, Any] | None
    max_concurrent: int
    queue_when_busy: bool
    timeout_s: float | None
    retries: int
    retry_backoff_s: float
    restartable: bool
    keep_runs: int | None
    keep_days: float | None
    app: str | None = PField(
        description="the app whose code declares this job (null: registered through POST "
        "/jobs); such a job changes only by redeploying the app"
    )
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class JobStats(Output):
    """Run statistics of a job."""

    total: int
    succeeded: int
    failed: int
    stopped: int
    in_progress: int
    average_duration_s: float | None
    latest_run: Run | None
    next_run_at: dt.datetime | None


class JobDetail(Job):
    """A job definition with its run statistics (``GET /jobs/{name}``)."""

    stats: JobStats
    latest_run: Run | None
    next_run_at: dt.datetime | None


class JobDeleted(Output):
    """A job that went (in the server-wide event feed)."""

    name: str
    deleted: Literal[True]


def job_json(job: tables.Job) -> dict[str, Any]:
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
        "app": job.app,
        "created_by": job.created_by,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
    }
