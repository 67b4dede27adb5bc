"""The jobs part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.http.spec import (
    REF,
    components,
    errors,
    json_body,
    json_reply,
    link,
    op,
    page_of,
    paging,
    path,
    query,
    ref,
)
from jobext.jobs.manager import JOB_SORTS
from jobext.jobs.shapes import Job, JobCreate, JobDeleted, JobDetail, JobStats, JobUpdate

JOB = path("name", "job name")

#: A job a reader can register as it is (the fuzzer's examples phase sends it too).
JOB_EXAMPLE = {
    "name": "nightly-etl",
    "kind": "python",
    "target": "etl:main",
    "description": "load yesterday's orders",
    "default_args": {"day": "yesterday"},
    "max_concurrent": 1,
    "retries": 2,
    "timeout_s": 3600,
}


def _job_links() -> dict[str, Any]:
    name = "$response.body#/name"
    return {
        "GetJob": link("getJob", "the job", name=name),
        "UpdateJob": link("updateJob", "change it", name=name),
        "DeleteJob": link("deleteJob", "delete it", name=name),
        "EnqueueRun": link("enqueueRun", "run it", name=name),
        "JobRuns": link("listJobRuns", "its runs", name=name),
        "JobStats": link("getJobStats", "its statistics", name=name),
    }


def job_paths() -> dict[str, Any]:
    """``/jobs``, ``/jobs/{name}`` and ``/jobs/{name}/stats`` (a job's runs are in
    :mod:`jobext.runs.openapi`)."""
    created = {**json_reply(ref("Job"), "the job"), "links": _job_links()}
    return {
        "/jobs": {
            "get": op(
                "List job definitions",
                {"200": json_reply(page_of(Job), "a page of jobs"), **errors(400)},
                operationId="listJobs",
                parameters=[
                    *paging(JOB_SORTS, search="part of the name, description or target"),
                    query("app", "the jobs of this app"),
                ],
            ),
            "post": op(
                "Register a job",
                {"201": created, **errors(400, 403, 409)},
                operationId="registerJob",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": ref("JobCreate"),
                            "examples": {"python": {"value": JOB_EXAMPLE}},
                        }
                    },
                },
            ),
        },
        "/jobs/{name}": {
            "parameters": [JOB],
            "get": op(
                "One job with stats, latest_run and next_run_at",
                {"200": json_reply(ref("JobDetail"), "the job"), **errors(404)},
                operationId="getJob",
            ),
            "patch": op(
                "Change a job",
                {"200": json_reply(ref("Job"), "the job"), **errors(400, 404, 409)},
                operationId="updateJob",
                requestBody=json_body(ref("JobUpdate")),
            ),
            "delete": op(
                "Delete a job with its runs",
                {"204": {"description": "deleted"}, **errors(404, 409)},
                operationId="deleteJob",
            ),
        },
        "/jobs/{name}/stats": {
            "parameters": [JOB],
            "get": op(
                "Run statistics of a job",
                {"200": json_reply(ref("JobStats"), "stats"), **errors(404)},
                operationId="getJobStats",
            ),
        },
    }


def job_schemas() -> dict[str, Any]:
    """``Job``, ``JobDetail``, ``JobStats`` and ``JobDeleted`` from their models in
    :mod:`jobext.jobs.shapes`; ``JobCreate`` and ``JobUpdate`` from the input models."""
    return {
        **components(Job, JobDetail, JobStats, JobDeleted),
        "JobCreate": JobCreate.model_json_schema(ref_template=REF + "{model}"),
        "JobUpdate": JobUpdate.model_json_schema(ref_template=REF + "{model}"),
    }
