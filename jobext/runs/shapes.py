"""What the runs API accepts and returns."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
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


#: The run table's columns, by name: what :func:`run_json` reads.
_COLUMNS = frozenset(tables.Run.__table__.c.keys())  # type: ignore[attr-defined]


def _values(run: tables.Run | Row[Any]) -> Mapping[Any, Any]:
    """A run's column values by name, read at once: an attribute of a row or of an ORM object
    costs a lookup each (0.6 µs on this machine), and a run has 30 of them."""
    if isinstance(run, Row):
        return run._mapping
    loaded = run.__dict__
    if loaded.keys() >= _COLUMNS:  # every column loaded (none expired)
        return loaded
    return {name: getattr(run, name) for name in _COLUMNS}


def run_json(run: tables.Run | Row[Any], api_base: str = "/jobext/api/v1") -> dict[str, Any]:
    """The API shape of a run (an ORM object, or a row of its table); ``api_base`` makes the
    result URL absolute to the server."""
    v = _values(run)
    duration = v["duration_s"]
    started_at = v["started_at"]
    if duration is None and started_at is not None:
        end = v["ended_at"] or utcnow()
        duration = round((end - started_at).total_seconds(), 3)
    result = None
    if v["result_file"]:
        result = {
            "filename": _result_name(v["job"], v["id"], v["result_file"]),
            "size": v["result_size"],
            "media_type": v["result_media_type"],
            "url": f"{api_base}/runs/{v['id']}/result",
        }
    return {
        "id": v["id"],
        "uuid": v["uuid"],
        "job": v["job"],
        "kind": v["kind"],
        "args": v["args"],
        "status": v["status"],
        "trigger": v["trigger"],
        "user": v["user"],
        "scheduled_for": iso(v["scheduled_for"]),
        "created_at": iso(v["created_at"]),
        "started_at": iso(started_at),
        "updated_at": iso(v["updated_at"]),
        "ended_at": iso(v["ended_at"]),
        "duration_s": duration,
        "progress": v["progress"],
        "message": v["message"],
        "records_written": v["records_written"],
        "steps": v["steps"] or [],
        "exit_code": v["exit_code"],
        "error": v["error"],
        "attempt": v["attempt"],
        "restarted_from": v["restarted_from"],
        "restarted_as": v["restarted_as"],
        "schedule_id": v["schedule_id"],
        "batch_id": v["batch_id"],
        "sub_job": v["sub_job"],
        "iteration": v["iteration"],
        "worker": v["worker"],
        "result": result,
    }


def result_filename(run: tables.Run | Row[Any]) -> str:
    """``<job>-<run id>.<ext>``: the name a downloaded result is saved under."""
    return _result_name(run.job, run.id, run.result_file)


def _result_name(job: str, run_id: int, result_file: str | None) -> str:
    ext = ""
    if result_file and "." in result_file.rsplit("/", 1)[-1]:
        ext = "." + result_file.rsplit(".", 1)[-1]
    return f"{job}-{run_id}{ext}"
