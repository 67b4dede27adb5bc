"""The workers part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.http.spec import (
    comma_list,
    components,
    errors,
    json_reply,
    links,
    page_of,
    paging,
    query,
    ref,
)
from jobext.states import WorkerKind, WorkerStatus
from jobext.workers.manager import WORKER_SORTS
from jobext.workers.shapes import Worker, WorkerDeleted

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
                    "200": json_reply(page_of(Worker), "a page of workers"),
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
    """``Worker`` (with ``HostStats`` and its parts) and ``WorkerDeleted`` from their models in
    :mod:`jobext.workers.shapes`."""
    return components(Worker, WorkerDeleted)
