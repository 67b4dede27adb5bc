"""The OpenAPI 3.1 description of the REST API, served at ``/openapi.json``: each resource's
part (``jobext.<resource>.openapi``) assembled, with the server-wide pieces."""

from __future__ import annotations

from typing import Any

from jobext import __version__
from jobext.apps.openapi import app_paths, app_schemas
from jobext.batches.openapi import batch_paths, batch_schemas
from jobext.http.shapes import Connections, Error, Stats
from jobext.http.spec import components, json_reply, op, ref, sse_event, sse_stream
from jobext.jobs.openapi import job_paths, job_schemas
from jobext.runs.openapi import run_paths, run_schemas
from jobext.runs.shapes import RunProgress
from jobext.schedules.openapi import schedule_paths, schedule_schemas
from jobext.states import actions_document
from jobext.workers.openapi import worker_paths, worker_schemas

#: The events of ``GET /events``, the server-wide feed.
FEED_EVENTS = [
    sse_event(
        "run",
        {"oneOf": [ref("Run"), ref("RunDeleted")]},
        "a run changed state: the whole run (or `{id, deleted: true}` when it was removed)",
    ),
    sse_event("progress", ref("RunProgress"), "a run reported progress"),
    sse_event(
        "job",
        {"oneOf": [ref("Job"), ref("JobDeleted")]},
        "a job was registered or changed (or `{name, deleted: true}` when it went)",
    ),
    sse_event(
        "batch",
        {"oneOf": [ref("Batch"), ref("BatchDeleted")]},
        "a batch changed (or `{id, deleted: true}` when it went)",
    ),
    sse_event(
        "worker",
        {"oneOf": [ref("Worker"), ref("WorkerDeleted")]},
        "a worker heartbeat or changed (or `{id, deleted: true}` when it was forgotten)",
    ),
    sse_event(
        "schedule",
        {"anyOf": [ref("Schedule"), ref("ScheduleDeleted")]},
        "a schedule was made or changed (or `{id, deleted: true}` when it went)",
    ),
    sse_event(
        "app",
        {"anyOf": [ref("App"), ref("AppDeleted")]},
        "an app was deployed or redeployed (or `{name, deleted: true}` when it went)",
    ),
    sse_event(
        "reset",
        {"type": "object"},
        "events the client missed are no longer kept: reload the lists",
    ),
]


def _server_paths() -> dict[str, Any]:
    return {
        "/connections": {
            "get": op(
                "The databases saved-query jobs may use (never a password)",
                {"200": json_reply(ref("Connections"), "connections")},
                operationId="listConnections",
            ),
        },
        "/stats": {
            "get": op(
                "Counts of jobs, apps, schedules, workers, and of batches and runs by status",
                {"200": json_reply(ref("Stats"), "stats")},
                operationId="getStats",
            ),
        },
        "/openapi.json": {
            "get": op(
                "This document",
                {"200": json_reply({"type": "object"}, "OpenAPI 3.1")},
                operationId="getOpenAPI",
            )
        },
        "/events": {
            "get": op(
                "Server-wide Server-Sent Events that keep lists live; every event has an `id` "
                "for `Last-Event-ID`",
                {"200": sse_stream("an event stream", FEED_EVENTS)},
                operationId="followServerEvents",
                parameters=[
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "description": "resume after this event (`<epoch>-<n>`)",
                        "schema": {"type": "string"},
                    }
                ],
            )
        },
    }


def openapi_document(api_base: str) -> dict[str, Any]:
    """The document, with ``servers`` pointing at ``api_base``."""
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
        "paths": {
            **job_paths(),
            **run_paths(),
            **schedule_paths(),
            **batch_paths(),
            **worker_paths(),
            **app_paths(),
            **_server_paths(),
        },
        "components": {
            "schemas": {
                **components(Error, Stats, Connections, RunProgress),
                **job_schemas(),
                **run_schemas(),
                **schedule_schemas(),
                **batch_schemas(),
                **worker_schemas(),
                **app_schemas(),
            }
        },
    }
