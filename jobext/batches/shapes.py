"""What the batches API accepts and returns."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, StrictBool, StrictInt
from pydantic import Field as PField
from pydantic.json_schema import SkipJsonSchema

from jobext.db import tables
from jobext.shapes import Input, Output
from jobext.states import BatchStatus, RunStatus
from jobext.times import iso

MAX_SUB_JOBS = 10_000
MAX_JOBS_PER_SECOND = 10_000


class SubJobState(str, enum.Enum):
    """Where a sub-job (a lane of iterations) is."""

    #: Its next iteration starts at its ``due_at`` (its group's second).
    PENDING = "pending"
    #: Its current iteration is a run in progress (its status is the run's).
    ACTIVE = "active"
    #: Paused before its next iteration.
    HELD = "held"
    #: Every iteration is done.
    COMPLETED = "completed"
    #: Stopped by the batch (stop, failure threshold, invalid).
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


class BatchCreate(Input):
    """``POST /jobs/{name}/batches``."""

    concurrent: StrictInt = PField(ge=1, le=MAX_SUB_JOBS)
    jobs_per_second: StrictInt | None = PField(default=None, ge=1, le=MAX_JOBS_PER_SECOND)
    #: None: every sub-job runs until the batch is stopped.
    iterations: StrictInt | None = PField(default=1, ge=1, le=1_000_000_000)
    failures_to_ignore: StrictInt = PField(default=0, ge=0, le=1_000_000_000)
    args: dict[str, Any] | list[Any] | str | None = None
    worker: str | None = PField(default=None, max_length=255)
    start: StrictBool = True


class Batch(Output):
    """A batch: what its row holds (what the event feed shows)."""

    id: int
    job: str
    status: BatchStatus
    error: str | None
    args: Any
    start_time: dt.datetime | None
    stop_time: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None
    concurrent: int
    jobs_per_second: int | None
    iterations: int | None
    failures: int
    failures_to_ignore: int
    worker: str | None
    driven_by: str | None = PField(description="the server holding the batch's lease")
    percent_complete: float | SkipJsonSchema[None] = PField(
        default=None, description="absent when iterations is null"
    )


#: What a sub-job shows: its own state, or its run's status while an iteration is in progress.
SUB_JOB_STATUSES = list(
    dict.fromkeys(
        [s.value for s in SubJobState if s is not SubJobState.ACTIVE] + [s.value for s in RunStatus]
    )
)


def _shown_status(value: str) -> str:
    if value not in SUB_JOB_STATUSES:
        raise ValueError(f"is not one of {', '.join(SUB_JOB_STATUSES)}")
    return value


class SubJob(Output):
    """One sub-job of a batch: a lane of iterations."""

    id: int = PField(description="0-based")
    status: Annotated[str, AfterValidator(_shown_status)] = PField(
        description="its run's status while an iteration is in progress",
        json_schema_extra={"enum": SUB_JOB_STATUSES},
    )
    iteration: int = PField(description="current, or next when held")
    done: int
    failures: int
    run_id: int | None


class BatchListItem(Batch):
    """A batch as ``GET /batches`` lists it: with its counts, runs running now and lag."""

    counts: dict[str, int] = PField(description="sub-jobs by the status they show")
    concurrent_jobs: int = PField(description="runs running now")
    lag_s: float = PField(
        description="how far behind its pace it is: how long its longest-waiting sub-job "
        "has been due (0 when none waits)"
    )


class BatchDetail(BatchListItem):
    """A batch with its counts, lag and one page of its sub-jobs."""

    sub_jobs: list[SubJob]
    sub_jobs_page: int
    sub_jobs_per_page: int
    sub_jobs_total: int


class BatchesDeleted(Output):
    """``DELETE /jobs/{name}/batches``: how many batches went."""

    deleted: int


class BatchDeleted(Output):
    """A batch that went (in the server-wide event feed)."""

    id: int
    deleted: Literal[True]


def batch_json(batch: tables.Batch) -> dict[str, Any]:
    """The fields of a batch that its row holds (what the event feed shows)."""
    body: dict[str, Any] = {
        "id": batch.id,
        "job": batch.job,
        "status": batch.status,
        "error": batch.error,
        "args": batch.args,
        "start_time": iso(batch.start_time),
        "stop_time": iso(batch.stop_time),
        "created_at": iso(batch.created_at),
        "updated_at": iso(batch.updated_at),
        "created_by": batch.created_by,
        "concurrent": batch.concurrent,
        "jobs_per_second": batch.jobs_per_second,
        "iterations": batch.iterations,
        "failures": batch.failures,
        "failures_to_ignore": batch.failures_to_ignore,
        "worker": batch.worker,
        "driven_by": batch.lease_owner,
    }
    if batch.iterations is not None:
        total = batch.concurrent * batch.iterations
        body["percent_complete"] = round(100.0 * min(batch.done, total) / total, 1)
    return body


def sub_job_json(lane: tables.BatchSubJob, run_status: str | None) -> dict[str, Any]:
    """One sub-job: its status is its run's while an iteration is in progress."""
    status = lane.state
    if lane.state == SubJobState.ACTIVE.value:
        status = run_status or "queued"
    return {
        "id": lane.idx,
        "status": status,
        "iteration": lane.iteration,
        "done": lane.done,
        "failures": lane.failures,
        "run_id": lane.run_id,
    }
