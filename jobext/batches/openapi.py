"""The batches part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.batches.manager import BATCH_SORTS, MAX_SUB_JOBS_PER_PAGE, SUB_JOBS_PER_PAGE
from jobext.batches.shapes import (
    MAX_JOBS_PER_SECOND,
    Batch,
    BatchCreate,
    BatchDeleted,
    BatchDetail,
    BatchesDeleted,
    BatchListItem,
)
from jobext.http.spec import (
    REF,
    comma_list,
    components,
    errors,
    json_reply,
    links,
    page_of,
    paging,
    path,
    query,
    ref,
)
from jobext.states import BatchStatus

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
_PAGE = page_of(BatchListItem)
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
                    "200": json_reply(ref("BatchesDeleted"), "how many batches went"),
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
    """``Batch``, ``BatchListItem``, ``BatchDetail`` (with ``SubJob``), ``BatchesDeleted`` and
    ``BatchDeleted`` from their models in :mod:`jobext.batches.shapes`; ``BatchCreate`` from
    the input model."""
    return {
        **components(Batch, BatchListItem, BatchDetail, BatchesDeleted, BatchDeleted),
        "BatchCreate": BatchCreate.model_json_schema(ref_template=REF + "{model}"),
    }
