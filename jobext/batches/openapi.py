"""The batches part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.batches.manager import BATCH_SORTS, MAX_SUB_JOBS_PER_PAGE, SUB_JOBS_PER_PAGE
from jobext.batches.shapes import MAX_JOBS_PER_SECOND, BatchCreate, SubJobState
from jobext.http.spec import (
    REF,
    comma_list,
    errors,
    json_reply,
    links,
    page_of,
    paging,
    path,
    query,
    ref,
)
from jobext.states import BatchStatus, RunStatus

_ID = path("batch_id", "batch id")
_JOB = path("name", "job name")
_PACE = query(
    "jobs_per_second",
    "sub-jobs started per second (in groups one second apart)",
    {"type": "integer", "minimum": 1, "maximum": MAX_JOBS_PER_SECOND},
)
_LIST = [
    *paging(BATCH_SORTS, search="part of the job name"),
    query("status", "a batch status or a comma list", comma_list(s.value for s in BatchStatus)),
]
_PAGE = page_of("Batch")
_E409 = "the batch's status does not allow it: `message` says why"


def _links() -> dict[str, Any]:
    return links(
        "batch_id",
        "$response.body#/id",
        (
            ("GetBatch", "getBatch", "the batch"),
            ("StartBatch", "startBatch", "start it again"),
            ("StopBatch", "stopBatch", "stop it"),
            ("PauseBatch", "pauseBatch", "pause it"),
            ("UnpauseBatch", "unpauseBatch", "go on"),
            ("DeleteBatch", "deleteBatch", "delete it"),
        ),
    )


def batch_paths() -> dict[str, Any]:
    """The ``/batches`` and ``/jobs/{name}/batches`` paths."""
    detail = json_reply(ref("BatchDetail"), "the batch")
    paths: dict[str, Any] = {
        "/jobs/{name}/batches": {
            "parameters": [_JOB],
            "get": {
                "operationId": "listJobBatches",
                "summary": "The job's batches, newest first",
                "parameters": _LIST,
                "responses": {"200": json_reply(_PAGE, "a page of batches"), **errors(400)},
            },
            "post": {
                "operationId": "createBatch",
                "summary": "Make a batch of the job (started at once unless `start: false`)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": ref("BatchCreate"),
                            "examples": {
                                "paced": {
                                    "value": {
                                        "concurrent": 10,
                                        "jobs_per_second": 5,
                                        "iterations": 2,
                                        "start": False,
                                    }
                                }
                            },
                        }
                    },
                },
                "responses": {"201": {**detail, "links": _links()}, **errors(400, 403, 404)},
            },
            "delete": {
                "operationId": "deleteJobBatches",
                "summary": "Stop and delete every batch of the job with all their runs' data",
                "responses": {
                    "200": json_reply(
                        {"type": "object", "properties": {"deleted": {"type": "integer"}}},
                        "how many batches went",
                    ),
                    **errors(404),
                },
            },
        },
        "/batches": {
            "get": {
                "operationId": "listBatches",
                "summary": "Batches, newest first",
                "parameters": [*_LIST, query("job", "job name")],
                "responses": {"200": json_reply(_PAGE, "a page of batches"), **errors(400)},
            }
        },
        "/batches/{batch_id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getBatch",
                "summary": "One batch with its counts, lag and a page of its sub-jobs",
                "parameters": [
                    query(
                        "sub_jobs_page",
                        "0-based page",
                        {"type": "integer", "minimum": 0, "maximum": 10**6},
                    ),
                    query(
                        "sub_jobs_per_page",
                        "sub-jobs a page",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_SUB_JOBS_PER_PAGE,
                            "default": SUB_JOBS_PER_PAGE,
                        },
                    ),
                ],
                "responses": {"200": detail, **errors(400, 404)},
            },
            "delete": {
                "operationId": "deleteBatch",
                "summary": "Stop what runs and delete the batch with every run's log and result",
                "responses": {"204": {"description": "deleted"}, **errors(404)},
            },
        },
    }
    meanings = {
        "start": "clear the sub-jobs' runs and start every sub-job from its first iteration "
        "(`re-starting` while runs are stopped and cleared)",
        "stop": "stop every running run and reset the progress (`stopping`, then `stopped`)",
        "pause": "let running runs finish, hold each sub-job before its next iteration "
        "(`pausing`, then `paused`)",
        "unpause": "go on at the iteration where each sub-job was held",
    }
    for directive, meaning in meanings.items():
        paths[f"/batches/{{batch_id}}/{directive}"] = {
            "parameters": [_ID],
            "post": {
                "operationId": f"{directive}Batch",
                "summary": f"Directive {directive}: {meaning}",
                "parameters": [_PACE] if directive in ("start", "unpause") else [],
                "responses": {"200": detail, **errors(400, 404, 409, e409=_E409)},
            },
        }
    return paths


def batch_schemas() -> dict[str, Any]:
    """``Batch``, ``BatchDetail``, ``BatchCreate`` and ``SubJob``."""
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    batch: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "job": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in BatchStatus]},
            "error": {"type": ["string", "null"]},
            "args": {},
            "start_time": nullable_time,
            "stop_time": nullable_time,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
            "concurrent": {"type": "integer"},
            "jobs_per_second": {"type": ["integer", "null"]},
            "iterations": {"type": ["integer", "null"]},
            "failures": {"type": "integer"},
            "failures_to_ignore": {"type": "integer"},
            "worker": {"type": ["string", "null"]},
            "driven_by": {
                "type": ["string", "null"],
                "description": "the server holding the batch's lease",
            },
            "percent_complete": {
                "type": "number",
                "description": "absent when iterations is null",
            },
        },
    }
    statuses = [s.value for s in SubJobState if s is not SubJobState.ACTIVE]
    sub_job = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "description": "0-based"},
            "status": {
                "type": "string",
                "enum": statuses + [s.value for s in RunStatus],
                "description": "its run's status while an iteration is in progress",
            },
            "iteration": {"type": "integer", "description": "current, or next when held"},
            "done": {"type": "integer"},
            "failures": {"type": "integer"},
            "run_id": {"type": ["integer", "null"]},
        },
    }
    detail = {
        "type": "object",
        "properties": {
            **batch["properties"],
            "concurrent_jobs": {"type": "integer", "description": "runs running now"},
            "lag_s": {"type": "number", "description": "how far behind its pace it is"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "sub_jobs": {"type": "array", "items": ref("SubJob")},
            "sub_jobs_page": {"type": "integer"},
            "sub_jobs_per_page": {"type": "integer"},
            "sub_jobs_total": {"type": "integer"},
        },
    }
    return {
        "Batch": batch,
        "BatchDetail": detail,
        "SubJob": sub_job,
        "BatchCreate": BatchCreate.model_json_schema(ref_template=REF + "{model}"),
    }
