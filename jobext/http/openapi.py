"""The OpenAPI 3 description of the REST API, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from jobext import __version__
from jobext.batches.openapi import batch_paths, batch_schemas
from jobext.jobs.shapes import JobCreate, JobUpdate
from jobext.schedules.shapes import PreviewRequest, ScheduleCreate, ScheduleUpdate
from jobext.states import GROUPS, RunStatus, actions_document

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad input: `field` names it, `message` says why",
        403: "not allowed",
        404: "unknown job or run",
        409: "illegal transition or conflict",
    }
    return {str(c): _json(_ref("Error"), text[c]) for c in codes}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, description: str) -> dict[str, Any]:
    schema = {"type": "integer"} if name.endswith("_id") else {"type": "string"}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


_PAGING = [
    _query("page", "0-based page", {"type": "integer", "minimum": 0, "default": 0}),
    _query(
        "per_page",
        "items a page",
        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
    ),
    _query("sort", "`field` or `-field`"),
    _query("search", "substring to match"),
]
_RUN_FILTERS = [
    _query("job", "job name"),
    _query(
        "status",
        "a status, a comma list, or a group: " + ", ".join(GROUPS),
    ),
    _query("from", "created at or after: ISO 8601, 20220221 or 20220221T061500"),
    _query("to", "created at or before (a bare date includes the whole day)"),
    _query("uuid", "the run's UUID"),
    _query("batch", "batch id", {"type": "integer"}),
    _query("schedule", "schedule id", {"type": "integer"}),
    _query("user", "who started it"),
]
_JOB = _path("name", "job name")
_RUN = _path("run_id", "run id")
_SCHEDULE = _path("schedule_id", "schedule id")
_SSE: dict[str, Any] = {
    "description": "Server-Sent Events: `state`, `progress`, `log`, then `close` with the final run",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **extra}


def openapi_document(api_base: str) -> dict[str, Any]:
    """The document, with ``servers`` pointing at ``api_base``."""
    nullable_str = {"type": ["string", "null"]}
    run_props: dict[str, Any] = {
        "id": {"type": "integer"},
        "uuid": {"type": "string", "format": "uuid"},
        "job": {"type": "string"},
        "kind": {"type": "string"},
        "args": {},
        "status": {"type": "string", "enum": [s.value for s in RunStatus]},
        "trigger": {"type": "string", "enum": ["manual", "schedule", "batch", "restart", "retry"]},
        "user": nullable_str,
        "progress": {"type": ["number", "null"]},
        "message": nullable_str,
        "records_written": {"type": ["integer", "null"]},
        "steps": {"type": "array", "items": {"type": "object"}},
        "exit_code": {"type": ["integer", "null"]},
        "error": nullable_str,
        "attempt": {"type": "integer"},
        "duration_s": {"type": ["number", "null"]},
        "result": {
            "type": ["object", "null"],
            "properties": {
                "filename": {"type": "string"},
                "size": {"type": "integer"},
                "media_type": {"type": "string"},
                "url": {"type": "string"},
            },
        },
    }
    for name in ("scheduled_for", "created_at", "started_at", "updated_at", "ended_at"):
        run_props[name] = {"type": ["string", "null"], "format": "date-time"}
    for name in (
        "restarted_from",
        "restarted_as",
        "schedule_id",
        "batch_id",
        "sub_job",
        "iteration",
    ):
        run_props[name] = {"type": ["integer", "null"]}
    run_props["worker"] = nullable_str

    job_create = JobCreate.model_json_schema(ref_template=_REF + "{model}")
    job_update = JobUpdate.model_json_schema(ref_template=_REF + "{model}")
    schedule_create = ScheduleCreate.model_json_schema(ref_template=_REF + "{model}")
    stats = {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "succeeded": {"type": "integer"},
            "failed": {"type": "integer"},
            "stopped": {"type": "integer"},
            "in_progress": {"type": "integer"},
            "average_duration_s": {"type": ["number", "null"]},
            "latest_run": {"oneOf": [_ref("Run"), {"type": "null"}]},
            "next_run_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    paths: dict[str, Any] = {
        "/jobs": {
            "get": _op(
                "List job definitions",
                {"200": _json(_page_of("Job"), "a page of jobs"), **_errors(400)},
                parameters=_PAGING,
            ),
            "post": _op(
                "Register a job",
                {"201": _json(_ref("Job"), "the job"), **_errors(400, 403, 409)},
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("JobCreate")}},
                },
            ),
        },
        "/jobs/{name}": {
            "parameters": [_JOB],
            "get": _op(
                "One job with stats, latest_run and next_run_at",
                {"200": _json(_ref("Job"), "the job"), **_errors(404)},
            ),
            "patch": _op(
                "Change a job",
                {"200": _json(_ref("Job"), "the job"), **_errors(400, 404)},
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("JobUpdate")}},
                },
            ),
            "delete": _op(
                "Delete a job with its runs",
                {"204": {"description": "deleted"}, **_errors(404, 409)},
            ),
        },
        "/jobs/{name}/stats": {
            "parameters": [_JOB],
            "get": _op(
                "Run statistics of a job", {"200": _json(_ref("JobStats"), "stats"), **_errors(404)}
            ),
        },
        "/jobs/{name}/runs": {
            "parameters": [_JOB],
            "get": _op(
                "Runs of a job",
                {"200": _json(_page_of("Run"), "a page of runs"), **_errors(400, 404)},
                parameters=_PAGING + _RUN_FILTERS[1:],
            ),
            "post": _op(
                "Enqueue a run",
                {
                    "201": {
                        **_json(_ref("Run"), "the new run (or its event stream with follow)"),
                        "content": {**_json(_ref("Run"), "")["content"], **_SSE["content"]},
                    },
                    **_errors(400, 403, 404, 409),
                },
                requestBody={
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"args": {}, "follow": {"type": "boolean"}},
                                "additionalProperties": False,
                            }
                        }
                    }
                },
            ),
        },
        "/runs": {
            "get": _op(
                "Run history",
                {"200": _json(_page_of("Run"), "a page of runs"), **_errors(400)},
                parameters=_PAGING + _RUN_FILTERS,
            ),
        },
        "/runs/{run_id}": {
            "parameters": [_RUN],
            "get": _op("One run", {"200": _json(_ref("Run"), "the run"), **_errors(404)}),
            "delete": _op(
                "Remove a run, its log and result",
                {"204": {"description": "removed"}, **_errors(404, 409)},
            ),
        },
        "/runs/{run_id}/stop": {
            "parameters": [_RUN, _query("force", "end it at once", {"type": "boolean"})],
            "post": _op(
                "Stop a run", {"200": _json(_ref("Run"), "the run"), **_errors(400, 404, 409)}
            ),
        },
        "/runs/{run_id}/pause": {
            "parameters": [_RUN],
            "post": _op(
                "Pause at the next checkpoint",
                {"200": _json(_ref("Run"), "the run"), **_errors(404, 409)},
            ),
        },
        "/runs/{run_id}/resume": {
            "parameters": [_RUN],
            "post": _op(
                "Resume a paused run", {"200": _json(_ref("Run"), "the run"), **_errors(404, 409)}
            ),
        },
        "/runs/{run_id}/restart": {
            "parameters": [_RUN],
            "post": _op(
                "A new run from a failed or stopped one",
                {"201": _json(_ref("Run"), "the new run"), **_errors(404, 409)},
            ),
        },
        "/runs/{run_id}/logs": {
            "parameters": [
                _RUN,
                _query("after", "seq to start after", {"type": "integer", "minimum": 0}),
                _query(
                    "limit", "lines at most", {"type": "integer", "minimum": 1, "maximum": 10000}
                ),
                _query("follow", "stream as SSE", {"type": "boolean"}),
            ],
            "get": _op(
                "Log lines",
                {
                    "200": {
                        "description": "a page of log lines, or SSE",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": _ref("LogLine")},
                                        "next_after": {"type": "integer"},
                                        "more": {"type": "boolean"},
                                    },
                                }
                            },
                            **_SSE["content"],
                        },
                    },
                    **_errors(400, 404),
                },
            ),
        },
        "/runs/{run_id}/events": {
            "parameters": [
                _RUN,
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "integer"},
                },
            ],
            "get": _op("The run's event stream", {"200": _SSE, **_errors(400, 404)}),
        },
        "/runs/{run_id}/result": {
            "parameters": [
                _RUN,
                {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "get": _op(
                "Download the result file",
                {
                    "200": {"description": "the file", "content": {"application/octet-stream": {}}},
                    "206": {"description": "the requested range"},
                    "416": {"description": "unsatisfiable range"},
                    **_errors(404),
                },
            ),
        },
        "/schedules": {
            "get": _op(
                "List schedules",
                {"200": _json(_page_of("Schedule"), "a page of schedules"), **_errors(400)},
                parameters=[
                    *_PAGING,
                    _query("job", "job name"),
                    _query("active", "true or false", {"type": "boolean"}),
                ],
            ),
            "post": _op(
                "Create a schedule",
                {"201": _json(_ref("Schedule"), "the schedule"), **_errors(400)},
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ScheduleCreate")}},
                },
            ),
        },
        "/schedules/preview": {
            "post": _op(
                "Fire times of a cron expression in a time zone, saving nothing",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "fire_times": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "date-time"},
                                },
                                "local_times": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "the fire times, in UTC and in the schedule's zone",
                    ),
                    **_errors(400),
                },
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("PreviewRequest")}},
                },
            ),
        },
        "/schedules/{schedule_id}": {
            "parameters": [_SCHEDULE],
            "get": _op(
                "One schedule with its next fire times",
                {"200": _json(_ref("Schedule"), "the schedule"), **_errors(404)},
            ),
            "patch": _op(
                "Change a schedule",
                {"200": _json(_ref("Schedule"), "the schedule"), **_errors(400, 404)},
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ScheduleUpdate")}},
                },
            ),
            "delete": _op(
                "Delete a schedule and its log", {"204": {"description": "deleted"}, **_errors(404)}
            ),
        },
        "/schedules/{schedule_id}/pause": {
            "parameters": [_SCHEDULE],
            "post": _op(
                "Stop firing", {"200": _json(_ref("Schedule"), "the schedule"), **_errors(404)}
            ),
        },
        "/schedules/{schedule_id}/resume": {
            "parameters": [_SCHEDULE],
            "post": _op(
                "Fire again, from now on",
                {"200": _json(_ref("Schedule"), "the schedule"), **_errors(404)},
            ),
        },
        "/schedules/{schedule_id}/fires": {
            "parameters": [_SCHEDULE],
            "get": _op(
                "The schedule's log: each handled fire time and what came of it",
                {"200": _json(_page_of("Fire"), "a page of fires"), **_errors(400, 404)},
                parameters=_PAGING[:3],
            ),
        },
        "/connections": {
            "get": _op(
                "The databases saved-query jobs may use (never a password)",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "dialect": {"type": "string"},
                                            "driver": {"type": "string"},
                                            "host": {"type": ["string", "null"]},
                                            "port": {"type": ["integer", "null"]},
                                            "database": {"type": ["string", "null"]},
                                        },
                                    },
                                }
                            },
                        },
                        "connections",
                    )
                },
            ),
        },
        **batch_paths(),
        "/stats": {
            "get": _op(
                "Counts of jobs, schedules, workers, and of batches and runs by status",
                {"200": _json({"type": "object"}, "stats")},
            ),
        },
        "/openapi.json": {
            "get": _op("This document", {"200": _json({"type": "object"}, "OpenAPI 3")})
        },
        "/events": {
            "get": _op(
                "Server-wide Server-Sent Events: `run` (the whole run) on every state change, "
                "`progress` (`{id, progress, message, ...}`), `reset` when events a client "
                "missed are no longer kept (reload the lists); every event has an `id` for "
                "`Last-Event-ID`",
                {"200": {"description": "an event stream", "content": {"text/event-stream": {}}}},
            )
        },
    }
    return {
        "openapi": "3.1.0",
        # The ONE actions table: which action is legal on a run in which status, and what the
        # run becomes (clients enable their buttons from it).
        "x-jobext-actions": actions_document(),
        "info": {
            "title": "jobext",
            "version": __version__,
            "description": "Jobs, runs, logs and results of a Jupyter server.",
        },
        "servers": [{"url": api_base}],
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "message": {"type": "string"},
                        "reason": {"type": "string"},
                        "field": {"type": "string"},
                    },
                },
                "Job": {
                    "type": "object",
                    "properties": {
                        **job_create["properties"],
                        "created_at": {"type": "string"},
                        "updated_at": {"type": "string"},
                        "stats": _ref("JobStats"),
                    },
                },
                "JobCreate": job_create,
                "JobUpdate": job_update,
                "JobStats": stats,
                "Run": {"type": "object", "properties": run_props},
                "Schedule": {
                    "type": "object",
                    "properties": {
                        **schedule_create["properties"],
                        "id": {"type": "integer"},
                        "next_fire_times": {
                            "type": "array",
                            "items": {"type": "string", "format": "date-time"},
                        },
                        "last_fire_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
                "ScheduleCreate": schedule_create,
                "ScheduleUpdate": ScheduleUpdate.model_json_schema(ref_template=_REF + "{model}"),
                "PreviewRequest": PreviewRequest.model_json_schema(ref_template=_REF + "{model}"),
                "Fire": {
                    "type": "object",
                    "properties": {
                        "scheduled_for": {"type": "string", "format": "date-time"},
                        "claimed_at": {"type": "string", "format": "date-time"},
                        "server": {"type": ["string", "null"]},
                        "outcome": {
                            "type": "string",
                            "enum": ["started", "skipped", "missed", "failed"],
                        },
                        "run_id": {"type": ["integer", "null"]},
                        "message": {"type": ["string", "null"]},
                    },
                },
                **batch_schemas(),
                "LogLine": {
                    "type": "object",
                    "properties": {
                        "seq": {"type": "integer"},
                        "ts": {"type": "string", "format": "date-time"},
                        "stream": {"type": "string", "enum": ["stdout", "stderr", "log", "jobext"]},
                        "level": {"type": ["string", "null"]},
                        "text": {"type": "string"},
                    },
                },
            }
        },
    }
