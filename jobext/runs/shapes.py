"""What the runs API accepts and returns."""

from __future__ import annotations

from typing import Any

from jobext.db.tables import Run
from jobext.shapes import Input
from jobext.times import iso, utcnow


class EnqueueRequest(Input):
    """``POST /jobs/{name}/runs``."""

    args: Any = None
    follow: bool = False


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
        "sub_job": run.sub_job,
        "iteration": run.iteration,
        "worker": run.worker,
        "result": result,
    }


def result_filename(run: Run) -> str:
    """``<job>-<run id>.<ext>``: the name a downloaded result is saved under."""
    ext = ""
    if run.result_file and "." in run.result_file.rsplit("/", 1)[-1]:
        ext = "." + run.result_file.rsplit(".", 1)[-1]
    return f"{run.job}-{run.id}{ext}"
