"""What the apps API accepts and returns, and what an app's code may declare of a job."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field as PField
from pydantic import field_validator, model_validator

from jobext.db import tables
from jobext.db.tables import NAME_RE
from jobext.errors import Invalid
from jobext.jobs.shapes import JobFields
from jobext.schedules.shapes import Misfire, Overlap
from jobext.shapes import TEN_YEARS_S, Input, Output
from jobext.states import RunStatus
from jobext.times import iso

#: A dotted module name: ``etl`` or ``pipelines.nightly``.
MODULE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


def _dotted(value: str | None) -> str | None:
    if value is not None and not all(part.isidentifier() for part in value.split(".")):
        raise ValueError("must be a dotted module name such as 'pipelines.nightly'")
    return value


class AppSource(Input):
    """Where an app's code is: ``module`` or ``path``, not both."""

    module: str | None = PField(
        default=None,
        min_length=1,
        max_length=1024,
        description="a module or package importable from the server's job directory",
        json_schema_extra={"pattern": MODULE_PATTERN},
    )
    path: str | None = PField(
        default=None,
        min_length=1,
        max_length=4096,
        description="a .py file or a folder, relative to the server's root dir",
    )

    @field_validator("module")
    @classmethod
    def _module_shape(cls, value: str | None) -> str | None:
        return _dotted(value)

    @model_validator(mode="after")
    def _one_source(self) -> AppSource:
        if self.module is not None and self.path is not None:
            raise Invalid("path", "give module or path, not both")
        return self


class AppCreate(AppSource):
    """``POST /apps``: ``name`` and one of ``module`` and ``path``."""

    name: str = PField(max_length=128, json_schema_extra={"pattern": NAME_RE.pattern})

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "must start with a letter or digit and use only letters, digits, '_', '.' and '-'"
                " (at most 128)"
            )
        return value

    @model_validator(mode="after")
    def _has_source(self) -> AppCreate:
        if self.module is None and self.path is None:
            raise Invalid(
                "module",
                "is required: a module importable from the server's job directory, or give "
                "path (a .py file or a folder under the root dir)",
            )
        return self


class AppUpdate(AppSource):
    """``PUT /apps/{name}``: the same source again (an empty body) or another one."""


class DeclaredSchedule(Input):
    """``schedule`` as a dict in ``@jobext.job(schedule={...})``: a schedule's fields."""

    cron: str = PField(min_length=1, max_length=255)
    timezone: str | None = PField(default=None, min_length=1, max_length=64)
    args: Any = None
    misfire: Misfire | None = None
    misfire_grace_s: float | None = PField(default=None, gt=0, le=TEN_YEARS_S)
    overlap: Overlap | None = None
    description: str | None = PField(default=None, max_length=10_000)


class Declared(JobFields):
    """What ``@jobext.job(...)`` (or a notebook's ``metadata.jobext``) declares of a job: the
    job options of ``POST /jobs`` plus its name and schedule."""

    name: str | None = PField(default=None, max_length=128)
    schedule: str | DeclaredSchedule | None = None
    timezone: str | None = PField(default=None, min_length=1, max_length=64)
    #: The args of the schedule's runs (``default_args`` are every run's).
    args: Any = None

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str | None) -> str | None:
        if value is not None and not NAME_RE.match(value):
            raise ValueError(
                "must start with a letter or digit and use only letters, digits, '_', '.' and '-'"
                " (at most 128)"
            )
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _cron_text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class AppJobSchedule(Output):
    """The schedule an app's code declares for one of its jobs."""

    id: int
    cron: str
    timezone: str
    args: Any
    active: bool
    next_fire_at: dt.datetime | None


class AppJob(Output):
    """One job of an app, as the app shows it (``GET /jobs/{name}`` has the rest)."""

    name: str
    kind: Literal["python", "notebook"]
    target: str
    description: str
    schedule: AppJobSchedule | None = PField(description="the schedule the code declares")


class App(Output):
    """Jobs deployed from code, with the summaries of its jobs."""

    name: str
    module: str | None
    path: str | None
    digest: str = PField(description="SHA-256 over the source files of the last deployment")
    files: list[str] = PField(description="those files, relative to where the code is")
    jobs: list[AppJob]
    created_by: str | None
    created_at: dt.datetime
    deployed_by: str | None
    deployed_at: dt.datetime
    error: str | None = PField(description="why the last redeployment failed (it changed nothing)")
    error_at: dt.datetime | None


class AppChanges(Output):
    """Job names, by what the deployment did to them."""

    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]


class AppDeployment(App):
    """An app after a deployment, with what it changed."""

    changes: AppChanges = PField(description="job names, by what the deployment did to them")


class AppStats(Output):
    """Workers ready to run an app's jobs, its jobs, schedules and runs."""

    workers: int = PField(description="workers online and not draining: where its runs can start")
    jobs: int
    schedules: int = PField(description="active ones")
    runs: dict[RunStatus, int] = PField(description="its jobs' runs by status")


class AppDeleted(Output):
    """An app that went (in the server-wide event feed)."""

    name: str
    deleted: Literal[True]


def job_summary(job: tables.Job, schedule: tables.Schedule | None) -> dict[str, Any]:
    """One job of an app, as the app shows it (``GET /jobs/{name}`` has the rest)."""
    return {
        "name": job.name,
        "kind": job.kind,
        "target": job.target,
        "description": job.description,
        "schedule": (
            {
                "id": schedule.id,
                "cron": schedule.cron,
                "timezone": schedule.timezone,
                "args": schedule.args,
                "active": schedule.active,
                "next_fire_at": iso(schedule.next_fire_at),
            }
            if schedule is not None
            else None
        ),
    }


def app_json(app: tables.App, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """The API shape of an app with the summaries of its ``jobs``."""
    return {
        "name": app.name,
        "module": app.module,
        "path": app.path,
        "digest": app.digest,
        "files": app.files or [],
        "jobs": jobs,
        "created_by": app.created_by,
        "created_at": iso(app.created_at),
        "deployed_by": app.deployed_by,
        "deployed_at": iso(app.deployed_at),
        "error": app.error,
        "error_at": iso(app.error_at),
    }
