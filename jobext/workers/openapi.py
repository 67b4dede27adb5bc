"""The workers part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.http.spec import comma_list, errors, json_reply, links, page_of, paging, query, ref
from jobext.states import WorkerKind, WorkerStatus
from jobext.workers.manager import WORKER_SORTS

_ID = {
    "name": "worker_id",
    "in": "path",
    "required": True,
    "description": "worker id (a UUID)",
    "schema": {"type": "string"},
}
_E409 = "an offline worker takes no drain or resume: `message` says why"


def _links() -> dict[str, Any]:
    return links(
        "worker_id",
        "$response.body#/id",
        (
            ("GetWorker", "getWorker", "the worker"),
            ("DrainWorker", "drainWorker", "drain it"),
            ("ResumeWorker", "resumeWorker", "let it take runs again"),
        ),
    )


def worker_paths() -> dict[str, Any]:
    """``/workers``, ``/workers/{worker_id}`` and its drain / resume."""
    one = {**json_reply(ref("Worker"), "the worker"), "links": _links()}
    paths: dict[str, Any] = {
        "/workers": {
            "get": {
                "operationId": "listWorkers",
                "summary": "Where runs execute (each server's local executor, each Dask "
                "worker), newest first",
                "parameters": [
                    *paging(WORKER_SORTS, search="part of the name, host or id"),
                    query(
                        "status",
                        "a worker status or a comma list",
                        comma_list(s.value for s in WorkerStatus),
                    ),
                    query(
                        "kind",
                        "local or dask",
                        {"type": "string", "enum": [k.value for k in WorkerKind]},
                    ),
                ],
                "responses": {
                    "200": json_reply(page_of("Worker"), "a page of workers"),
                    **errors(400),
                },
            }
        },
        "/workers/{worker_id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getWorker",
                "summary": "One worker with its runs in progress, host and stats",
                "responses": {"200": one, **errors(404)},
            },
        },
    }
    meanings = {
        "drain": "start no new run (its runs in progress finish; queued runs go to other "
        "workers): JobStreamer's block",
        "resume": "take new runs again: JobStreamer's unblock",
    }
    for action, meaning in meanings.items():
        paths[f"/workers/{{worker_id}}/{action}"] = {
            "parameters": [_ID],
            "post": {
                "operationId": f"{action}Worker",
                "summary": f"{action.capitalize()}: {meaning}",
                "responses": {"200": one, **errors(404, 409, e409=_E409)},
            },
        }
    return paths


def worker_schemas() -> dict[str, Any]:
    """``Worker`` and its ``HostStats``."""
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    free_total = {
        "type": "object",
        "properties": {"free": {"type": "integer"}, "total": {"type": "integer"}},
    }
    share = {"type": "number", "minimum": 0, "maximum": 1}
    stats = {
        "type": "object",
        "description": "the host at the last heartbeat (psutil): memory in bytes (`free` is "
        "what is available without swapping); `load` is the share of all cores busy since the "
        "previous heartbeat, of the worker's process tree and of the whole system",
        "properties": {
            "memory": {
                "type": "object",
                "properties": {"physical": free_total, "swap": free_total},
            },
            "cpu": {
                "type": "object",
                "properties": {
                    "process": {
                        "type": "object",
                        "properties": {
                            "load": share,
                            "time_s": {"type": "number", "description": "CPU seconds so far"},
                        },
                    },
                    "system": {
                        "type": "object",
                        "properties": {
                            "load": share,
                            "load_average": {"type": ["number", "null"]},
                        },
                    },
                },
            },
        },
    }
    worker = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in WorkerKind]},
            "host": {"type": "string"},
            "pid": {"type": ["integer", "null"]},
            "status": {"type": "string", "enum": [s.value for s in WorkerStatus]},
            "started_at": {"type": "string", "format": "date-time"},
            "last_seen": {
                "type": "string",
                "format": "date-time",
                "description": "its last heartbeat",
            },
            "offline_at": nullable_time,
            "slots": {"type": "integer", "description": "runs it executes at once"},
            "running": {"type": "integer", "description": "runs it holds now"},
            "runs": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "ids of the runs it holds now (running, pausing, paused, stopping)",
            },
            "os_name": {"type": "string"},
            "os_version": {"type": "string"},
            "cpu_arch": {"type": "string"},
            "cpu_cores": {"type": ["integer", "null"]},
            "stats": {"oneOf": [ref("HostStats"), {"type": "null"}]},
            "totals": {
                "type": "object",
                "description": "its kept runs that succeeded and failed",
                "properties": {"succeeded": {"type": "integer"}, "failed": {"type": "integer"}},
            },
        },
    }
    return {"Worker": worker, "HostStats": stats}
