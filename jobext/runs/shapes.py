"""What the runs API accepts and returns."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import ConfigDict
from pydantic import Field as PField
from sqlalchemy import Row

from jobext.db import tables
from jobext.shapes import Input, Output
from jobext.states import RunStatus, Trigger
from jobext.times import iso, utcnow


class EnqueueRequest(Input):
    """``POST /jobs/{name}/runs``."""

    args: Any = PField(
        default=None,
        description="The run's arguments, merged over the job's default_args (what they may be "
        "depends on the job's kind: keyword arguments of a callable, a notebook's parameters, "
        "a query's bound parameters).",
    )
    follow: bool = PField(
        default=False,
        description="Answer with the run's event stream (SSE, as GET /runs/{id}/events) "
        "instead of the run.",
    )


class RunResult(Output):
    """A run's result file, when it wrote one."""

    filename: str
    size: int
    media_type: str
    url: str


class Run(Output):
    """A run, current or past."""

    id: int
    uuid: uuid.UUID
    job: str
    kind: str
    args: Any
    status: RunStatus
    trigger: Trigger
    user: str | None
    scheduled_for: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    updated_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: float | None
    progress: float | None
    message: str | None
    records_written: int | None
    steps: list[dict[str, Any]]
    exit_code: int | None
    error: str | None
    attempt: int
    restarted_from: int | None
    restarted_as: int | None
    schedule_id: int | None
    batch_id: int | None
    sub_job: int | None
    iteration: int | None
    worker: str | None
    result: RunResult | None


class LogLine(Output):
    """One line of a run's log."""

    seq: int
    ts: dt.datetime
    stream: Literal["stdout", "stderr", "log", "jobext"]
    level: str | None
    text: str


class LogPage(Output):
    """``GET /runs/{id}/logs``: a page of log lines."""

    items: list[LogLine]
    after: int
    limit: int
    next_after: int
    more: bool


class Progress(Output):
    """What a job reported (the data of a ``progress`` event)."""

    progress: float | None = None
    message: str | None = None
    records_written: int | None = None
    steps: list[dict[str, Any]] | None = None


class RunProgress(Progress):
    """A run reported progress (in the server-wide event feed)."""

    id: int


class Truncated(Output):
    """The data of a ``truncated`` event."""

    # The job's runner may add keys of its own.
    model_config = ConfigDict(extra="allow")

    max_log_bytes: int
    message: str


class RunDeleted(Output):
    """A run that went (in the server-wide event feed)."""

    id: int
    deleted: Literal[True]


class RunsDeleted(Output):
    """``DELETE /runs``: how many went, and how many matched but stayed."""

    deleted: int
    in_progress: int
    in_batches: int


def run_json(run: tables.Run | Row[Any], api_base: str = "/jobext/api/v1") -> dict[str, Any]:
    """The API shape of a run (an ORM object, or a row of its table); ``api_base`` makes the
    result URL absolute to the server."""
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
        "sub_job": run.sub_job,
        "iteration": run.iteration,
        "worker": run.worker,
        "result": result,
    }


def result_filename(run: tables.Run | Row[Any]) -> str:
    """``<job>-<run id>.<ext>``: the name a downloaded result is saved under."""
    ext = ""
    if run.result_file and "." in run.result_file.rsplit("/", 1)[-1]:
        ext = "." + run.result_file.rsplit(".", 1)[-1]
    return f"{run.job}-{run.id}{ext}"
