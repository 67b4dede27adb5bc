"""What the batches API accepts and returns."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import Field as PField
from pydantic import StrictBool, StrictInt

from jobext.db.tables import Batch, BatchSubJob
from jobext.shapes import Input
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


def batch_json(batch: Batch) -> dict[str, Any]:
    """The fields of a batch that its row holds (what lists show)."""
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


def sub_job_json(lane: BatchSubJob, run_status: str | None) -> dict[str, Any]:
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
