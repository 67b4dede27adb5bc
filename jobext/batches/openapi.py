"""The batches part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.batches.manager import MAX_SUB_JOBS_PER_PAGE, SUB_JOBS_PER_PAGE
from jobext.batches.shapes import BatchCreate, SubJobState
from jobext.states import BatchStatus, RunStatus

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad input: `field` names it, `message` says why",
        403: "not allowed",
        404: "unknown job or batch",
        409: "the batch's status does not allow it: `message` says why",
    }
    return {str(c): _json(_ref("Error"), text[c]) for c in codes}


def _param(name: str, where: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


_ID = _param("batch_id", "path", "batch id", {"type": "integer"})
_JOB = _param("name", "path", "job name", {"type": "string"})
_PACE = _param(
    "jobs_per_second",
    "query",
    "sub-jobs started per second (in groups one second apart)",
    {"type": "integer", "minimum": 1},
)
_LIST = [
    _param("page", "query", "0-based page", {"type": "integer", "minimum": 0}),
    _param("per_page", "query", "items a page", {"type": "integer", "minimum": 1}),
    _param("sort", "query", "`field` or `-field`", {"type": "string"}),
    _param("search", "query", "part of the job name", {"type": "string"}),
    _param("status", "query", "a batch status or a comma list", {"type": "string"}),
]
_PAGE = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": _ref("Batch")},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "total": {"type": "integer"},
    },
}


def batch_paths() -> dict[str, Any]:
    """The ``/batches`` and ``/jobs/{name}/batches`` paths."""
    detail = _json(_ref("BatchDetail"), "the batch")
    paths: dict[str, Any] = {
        "/jobs/{name}/batches": {
            "parameters": [_JOB],
            "get": {
                "summary": "The job's batches, newest first",
                "parameters": _LIST,
                "responses": {"200": _json(_PAGE, "a page of batches"), **_errors(400)},
            },
            "post": {
                "summary": "Make a batch of the job (started at once unless `start: false`)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("BatchCreate")}},
                },
                "responses": {"201": detail, **_errors(400, 403, 404)},
            },
            "delete": {
                "summary": "Stop and delete every batch of the job with all their runs' data",
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"deleted": {"type": "integer"}}},
                        "how many batches went",
                    ),
                    **_errors(404),
                },
            },
        },
        "/batches": {
            "get": {
                "summary": "Batches, newest first",
                "parameters": [
                    *_LIST,
                    _param("job", "query", "job name", {"type": "string"}),
                ],
                "responses": {"200": _json(_PAGE, "a page of batches"), **_errors(400)},
            }
        },
        "/batches/{batch_id}": {
            "parameters": [_ID],
            "get": {
                "summary": "One batch with its counts, lag and a page of its sub-jobs",
                "parameters": [
                    _param("sub_jobs_page", "query", "0-based page", {"type": "integer"}),
                    _param(
                        "sub_jobs_per_page",
                        "query",
                        "sub-jobs a page",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_SUB_JOBS_PER_PAGE,
                            "default": SUB_JOBS_PER_PAGE,
                        },
                    ),
                ],
                "responses": {"200": detail, **_errors(400, 404)},
            },
            "delete": {
                "summary": "Stop what runs and delete the batch with every run's log and result",
                "responses": {"204": {"description": "deleted"}, **_errors(404)},
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
                "summary": f"Directive {directive}: {meaning}",
                "parameters": [_PACE] if directive in ("start", "unpause") else [],
                "responses": {"200": detail, **_errors(400, 404, 409)},
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
            "sub_jobs": {"type": "array", "items": _ref("SubJob")},
            "sub_jobs_page": {"type": "integer"},
            "sub_jobs_per_page": {"type": "integer"},
            "sub_jobs_total": {"type": "integer"},
        },
    }
    return {
        "Batch": batch,
        "BatchDetail": detail,
        "SubJob": sub_job,
        "BatchCreate": BatchCreate.model_json_schema(ref_template=_REF + "{model}"),
    }
