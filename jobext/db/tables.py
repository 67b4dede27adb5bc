"""The SQLModel tables. Times are timezone-aware UTC (``timestamptz`` on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
import uuid as uuid_mod
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from jobext.states import RunStatus
from jobext.times import utcnow

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


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
    #: The app whose deployment made this job (None: registered through ``POST /jobs``).
    app: str | None = Field(default=None, max_length=128, index=True)


class Run(SQLModel, table=True):
    """One execution of a job: current or past."""

    __tablename__ = "jobext_run"
    __table_args__ = (
        Index("ix_jobext_run_job_status_id", "job", "status", "id"),
        Index("ix_jobext_run_status_id", "status", "id"),
        Index("ix_jobext_run_created_at", "created_at"),
        Index("ix_jobext_run_worker_status", "worker", "status"),
        Index("ix_jobext_run_server_status", "server", "status"),
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
    #: The batch's sub-job (0-based) and its iteration (1-based) this run is.
    sub_job: int | None = None
    iteration: int | None = None
    #: Where it executes: a server's worker id, or the Dask worker's once its relay was granted
    #: there (while queued: the worker a batch pinned it to).
    worker: str | None = Field(default=None, max_length=255)
    #: The Jupyter server (its worker id) that claimed it and owns its process, which it runs or
    #: relays; its runs in progress are settled when it is gone.
    server: str | None = Field(default=None, max_length=255)
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
    #: Why the scheduler set this schedule aside (it fires again once changed or resumed).
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: The app whose code declares this schedule (None: made through ``POST /schedules``).
    app: str | None = Field(default=None, max_length=128)


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


class Worker(SQLModel, table=True):
    """Where runs execute: a Jupyter server's local executor, or a Dask worker. It heartbeats
    (``last_seen``, with its host's ``stats``); ``offline_at`` is set when it signed off or was
    found gone, and ``draining`` says it starts no new runs."""

    __tablename__ = "jobext_worker"

    #: A UUID; a run's ``worker`` names it.
    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=255)
    kind: str = Field(max_length=16)
    host: str = Field(max_length=255)
    #: The host qualified by its machine key: workers with the same one run on this very
    #: machine, in one PID namespace.
    machine: str = Field(max_length=255)
    #: The process whose life is the worker's, judged by its pid on the same machine (None:
    #: judged by its heartbeat alone).
    pid: int | None = None
    slots: int = 0
    draining: bool = False
    started_at: dt.datetime = Field(default_factory=utcnow)
    last_seen: dt.datetime = Field(default_factory=utcnow)
    #: When ``draining`` or ``offline_at`` last changed.
    updated_at: dt.datetime = Field(default_factory=utcnow)
    offline_at: dt.datetime | None = None
    os_name: str = Field(default="", max_length=64)
    os_version: str = Field(default="", max_length=255)
    cpu_arch: str = Field(default="", max_length=32)
    cpu_cores: int | None = None
    #: Memory and CPU of its host at its last heartbeat (``{memory, cpu}``).
    stats: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class App(SQLModel, table=True):
    """Jobs deployed from code: a module, a package or a folder whose ``@jobext.job``
    functions (and, in a folder, notebooks marked in their metadata) are its jobs."""

    __tablename__ = "jobext_app"

    name: str = Field(primary_key=True, max_length=128)
    #: Where its code is: a dotted module importable from the job directory, or a path (a
    #: ``.py`` file or a folder) under the root dir. Exactly one is set.
    module: str | None = Field(default=None, max_length=1024)
    path: str | None = Field(default=None, max_length=4096)
    #: SHA-256 over the source files of its last successful deployment, and those files.
    digest: str = Field(max_length=64)
    files: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str | None = Field(default=None, max_length=255)
    created_at: dt.datetime = Field(default_factory=utcnow)
    deployed_by: str | None = Field(default=None, max_length=255)
    deployed_at: dt.datetime = Field(default_factory=utcnow)
    #: Why the last redeployment failed (it changed nothing); cleared by the next success.
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error_at: dt.datetime | None = None


class Batch(SQLModel, table=True):
    """A job run as ``concurrent`` sub-jobs, each ``iterations`` times (seed 000)."""

    __tablename__ = "jobext_batch"
    __table_args__ = (
        Index("ix_jobext_batch_job_id", "job", "id"),
        Index("ix_jobext_batch_status_id", "status", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=128)
    status: str = Field(max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    args: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    concurrent: int
    jobs_per_second: int | None = None
    #: None: until stopped.
    iterations: int | None = None
    failures_to_ignore: int = 0
    #: Failed runs since the last start.
    failures: int = 0
    #: Iterations finished since the last start (all sub-jobs together).
    done: int = 0
    worker: str | None = Field(default=None, max_length=255)
    created_by: str | None = Field(default=None, max_length=255)
    #: Who gave the last start (its runs carry that user).
    started_by: str | None = Field(default=None, max_length=255)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    start_time: dt.datetime | None = None
    stop_time: dt.datetime | None = None
    #: The server driving the batch, until ``lease_expires_at`` (renewed while it lives).
    lease_owner: str | None = Field(default=None, max_length=255)
    lease_expires_at: dt.datetime | None = None


class BatchSubJob(SQLModel, table=True):
    """One lane of a batch: it runs the job ``iterations`` times in sequence.

    ``state`` is ``pending`` (its next iteration starts at ``due_at``), ``active`` (run
    ``run_id`` is its current iteration), ``held`` (paused before iteration ``iteration``),
    ``completed`` or ``stopped``.
    """

    __tablename__ = "jobext_batch_sub_job"
    __table_args__ = (Index("ix_jobext_batch_sub_job_state", "batch_id", "state", "due_at"),)

    batch_id: int = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    state: str = Field(max_length=16)
    #: The iteration it runs (active) or runs next (pending, held); 1-based.
    iteration: int = 1
    #: Its iterations finished since the last start.
    done: int = 0
    failures: int = 0
    run_id: int | None = None
    #: When its next (pending) or current (active) iteration was due to start.
    due_at: dt.datetime | None = None
