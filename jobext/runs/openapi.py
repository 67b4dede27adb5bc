"""The runs part of the OpenAPI document (``jobext.http.openapi`` merges it in), with the
events of a run's stream described one by one."""

from __future__ import annotations

from typing import Any

from jobext.http.spec import (
    REF,
    comma_list,
    components,
    errors,
    json_reply,
    links,
    op,
    page_of,
    paging,
    path,
    query,
    ref,
    sse_event,
    sse_stream,
)
from jobext.runs.manager import RUN_SORTS
from jobext.runs.shapes import (
    EnqueueRequest,
    LogLine,
    LogPage,
    Progress,
    Run,
    RunDeleted,
    RunsDeleted,
    Truncated,
)
from jobext.states import GROUPS, RunStatus

RUN = path("run_id", "run id")
JOB = path("name", "job name")

RUN_FILTERS = [
    query("job", "job name"),
    query(
        "status",
        "a status, a comma list, or a group: " + ", ".join(GROUPS),
        comma_list([s.value for s in RunStatus] + list(GROUPS)),
    ),
    query("from", "created at or after: ISO 8601, 20220221 or 20220221T061500"),
    query("to", "created at or before (a bare date includes the whole day)"),
    query("uuid", "the run's UUID"),
    query("batch", "batch id", {"type": "integer", "minimum": 0, "maximum": 2**62}),
    query("schedule", "schedule id", {"type": "integer", "minimum": 0, "maximum": 2**62}),
    query("user", "who started it"),
    query("worker", "the id of the worker it ran on"),
]
LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "resume after this event",
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**62},
}

LOG_EVENT = sse_event("log", ref("LogLine"), "a line of the run's log")
CLOSE_EVENT = sse_event(
    "close",
    {"oneOf": [ref("Run"), {"type": "null"}]},
    "the last event: the run as it ended (null when it was removed)",
)
#: Every event a run's stream may send, in the order a run produces them.
RUN_EVENTS = [
    sse_event("state", ref("Run"), "the whole run, on every change of state"),
    sse_event("progress", ref("Progress"), "what the job reported"),
    LOG_EVENT,
    sse_event(
        "truncated",
        ref("Truncated"),
        "the log reached `max_log_bytes`: later lines are not kept (the run goes on)",
    ),
    CLOSE_EVENT,
]
RUN_STREAM = sse_stream(
    "Server-Sent Events: `state`, `progress`, `log`, `truncated`, then `close`", RUN_EVENTS
)


def _run_links() -> dict[str, Any]:
    return links(
        "run_id",
        "$response.body#/id",
        (
            ("GetRun", "getRun", "the run"),
            ("StopRun", "stopRun", "stop it"),
            ("PauseRun", "pauseRun", "pause it"),
            ("ResumeRun", "resumeRun", "resume it"),
            ("RestartRun", "restartRun", "run it again"),
            ("RunLogs", "getRunLogs", "its log"),
            ("RunEvents", "getRunEvents", "follow it"),
            ("RunResult", "getRunResult", "its result file"),
            ("RemoveRun", "removeRun", "remove it"),
        ),
    )


def _run_reply(description: str) -> dict[str, Any]:
    return {**json_reply(ref("Run"), description), "links": _run_links()}


def run_paths() -> dict[str, Any]:
    """``/runs…`` and ``/jobs/{name}/runs``."""
    enqueued = _run_reply("the new run (or its event stream with `follow`)")
    enqueued["content"].update(RUN_STREAM["content"])
    return {
        "/jobs/{name}/runs": {
            "parameters": [JOB],
            "get": op(
                "Runs of a job",
                {"200": json_reply(page_of(Run), "a page of runs"), **errors(400, 404)},
                operationId="listJobRuns",
                parameters=paging(RUN_SORTS) + RUN_FILTERS[1:],
            ),
            "post": op(
                "Enqueue a run",
                {"201": enqueued, **errors(400, 403, 404, 409)},
                operationId="enqueueRun",
                requestBody={
                    "content": {
                        "application/json": {
                            "schema": ref("EnqueueRequest"),
                            "examples": {"default": {"value": {}}},
                        }
                    }
                },
            ),
        },
        "/runs": {
            "get": op(
                "Run history",
                {"200": json_reply(page_of(Run), "a page of runs"), **errors(400)},
                operationId="listRuns",
                parameters=paging(RUN_SORTS) + RUN_FILTERS,
            ),
            "delete": op(
                "Delete the ended runs the filters match (at least one filter), with their logs "
                "and results; runs in progress and runs of batches stay",
                {
                    "200": json_reply(
                        ref("RunsDeleted"), "how many went, and how many matched but stayed"
                    ),
                    **errors(400),
                },
                operationId="deleteRuns",
                parameters=[*RUN_FILTERS, query("search", "substring of job, uuid or user")],
            ),
        },
        "/runs/{run_id}": {
            "parameters": [RUN],
            "get": op(
                "One run",
                {"200": json_reply(ref("Run"), "the run"), **errors(404)},
                operationId="getRun",
            ),
            "delete": op(
                "Remove a run, its log and result",
                {"204": {"description": "removed"}, **errors(404, 409)},
                operationId="removeRun",
            ),
        },
        "/runs/{run_id}/stop": {
            "parameters": [RUN, query("force", "end it at once", {"type": "boolean"})],
            "post": op(
                "Stop a run",
                {"200": json_reply(ref("Run"), "the run"), **errors(400, 404, 409)},
                operationId="stopRun",
            ),
        },
        "/runs/{run_id}/pause": {
            "parameters": [RUN],
            "post": op(
                "Pause at the next checkpoint",
                {"200": json_reply(ref("Run"), "the run"), **errors(404, 409)},
                operationId="pauseRun",
            ),
        },
        "/runs/{run_id}/resume": {
            "parameters": [RUN],
            "post": op(
                "Resume a paused run",
                {"200": json_reply(ref("Run"), "the run"), **errors(404, 409)},
                operationId="resumeRun",
            ),
        },
        "/runs/{run_id}/restart": {
            "parameters": [RUN],
            "post": op(
                "A new run from a failed or stopped one",
                {"201": _run_reply("the new run"), **errors(404, 409)},
                operationId="restartRun",
            ),
        },
        "/runs/{run_id}/logs": {
            "parameters": [
                RUN,
                query(
                    "after",
                    "seq to start after",
                    {"type": "integer", "minimum": 0, "maximum": 2**62},
                ),
                query(
                    "limit", "lines at most", {"type": "integer", "minimum": 1, "maximum": 10000}
                ),
                query(
                    "tail",
                    "the last N lines instead of a page after `after` (with `follow`: then "
                    "what comes)",
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                ),
                query("follow", "stream as SSE", {"type": "boolean"}),
            ],
            "get": op(
                "Log lines",
                {
                    "200": {
                        "description": "a page of log lines, or with `follow` SSE of `log` "
                        "events then `close`",
                        "content": {
                            "application/json": {"schema": ref("LogPage")},
                            "text/event-stream": {"schema": {"oneOf": [LOG_EVENT, CLOSE_EVENT]}},
                        },
                    },
                    **errors(400, 404),
                },
                operationId="getRunLogs",
            ),
        },
        "/runs/{run_id}/events": {
            "parameters": [RUN, LAST_EVENT_ID],
            "get": op(
                "The run's event stream",
                {"200": RUN_STREAM, **errors(400, 404)},
                operationId="getRunEvents",
            ),
        },
        "/runs/{run_id}/result": {
            "parameters": [
                RUN,
                {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "get": op(
                "Download the result file",
                {
                    "200": {"description": "the file", "content": {"application/octet-stream": {}}},
                    "206": {"description": "the requested range"},
                    "416": {"description": "unsatisfiable range"},
                    **errors(404),
                },
                operationId="getRunResult",
            ),
        },
    }


def run_schemas() -> dict[str, Any]:
    """``Run`` (with ``RunResult``, ``RunStatus``, ``Trigger``), ``LogLine``, ``LogPage``, and the
    data of a run's events, from their models in :mod:`jobext.runs.shapes`; ``EnqueueRequest``
    from the input model."""
    return {
        **components(Run, LogLine, LogPage, Progress, Truncated, RunDeleted, RunsDeleted),
        "EnqueueRequest": EnqueueRequest.model_json_schema(ref_template=REF + "{model}"),
    }
