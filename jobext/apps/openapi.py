"""The apps part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.apps.reader import APP_SORTS
from jobext.apps.shapes import App, AppCreate, AppDeleted, AppDeployment, AppStats, AppUpdate
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

_NAME = path("name", "app name")
_DELETE_RUNS = query(
    "delete_runs",
    "also delete the runs (logs, results) of the jobs that go; by default they are kept",
    {"type": "boolean", "default": False},
)
_E400 = (
    "the code does not import (`message` holds the exception's last line and where it was "
    "raised), a job name is used twice, or a declaration is bad: `field` is `module` or `path`"
)
_E403 = "a declared job is of a kind this server does not run"
#: An app a reader can deploy once ``etl_app.py`` is in the job directory.
APP_EXAMPLE = {"name": "etl", "module": "etl_app"}


def _links() -> dict[str, Any]:
    name = "$response.body#/name"
    return {
        "GetApp": link("getApp", "the app", name=name),
        "RedeployApp": link("redeployApp", "redeploy it", name=name),
        "DeleteApp": link("deleteApp", "delete it", name=name),
        "AppStats": link("getAppStats", "its statistics", name=name),
        "AppJobs": link("listJobs", "its jobs", app=name),
    }


def app_paths() -> dict[str, Any]:
    """``/apps``, ``/apps/{name}`` and ``/apps/{name}/stats``."""
    deployed = {**json_reply(ref("AppDeployment"), "the app after it"), "links": _links()}
    return {
        "/apps": {
            "get": op(
                "List apps with their jobs",
                {"200": json_reply(page_of(App), "a page of apps"), **errors(400)},
                operationId="listApps",
                parameters=paging(APP_SORTS, search="part of the name, module or path"),
            ),
            "post": op(
                "Deploy an app: import its code in a process of its own and register the jobs "
                "it declares, with their schedules",
                {
                    "201": deployed,
                    **errors(
                        400,
                        403,
                        409,
                        e400=_E400,
                        e403=_E403,
                        e409="the app or one of its job names exists already",
                    ),
                },
                operationId="deployApp",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": ref("AppCreate"),
                            "examples": {"module": {"value": APP_EXAMPLE}},
                        }
                    },
                },
            ),
        },
        "/apps/{name}": {
            "parameters": [_NAME],
            "get": op(
                "One app: its source, digest, last error, and its jobs",
                {"200": json_reply(ref("App"), "the app"), **errors(404)},
                operationId="getApp",
            ),
            "put": op(
                "Redeploy an app: import its code again and sync its jobs (changed ones "
                "updated, new ones added, removed ones deleted with their schedules)",
                {
                    "200": json_reply(ref("AppDeployment"), "the app after it"),
                    **errors(
                        400,
                        403,
                        404,
                        409,
                        e400=_E400,
                        e403=_E403,
                        e409="a job to remove has runs in progress, or a new job name is taken",
                    ),
                },
                operationId="redeployApp",
                parameters=[_DELETE_RUNS],
                requestBody=json_body(ref("AppUpdate"), required=False),
            ),
            "delete": op(
                "Delete an app and its jobs (with their schedules and batches)",
                {
                    "204": {"description": "deleted"},
                    **errors(
                        400,
                        404,
                        409,
                        e400="`delete_runs` is not true or false",
                        e409="one of its jobs has runs in progress",
                    ),
                },
                operationId="deleteApp",
                parameters=[_DELETE_RUNS],
            ),
        },
        "/apps/{name}/stats": {
            "parameters": [_NAME],
            "get": op(
                "Workers ready to run the app's jobs, its jobs, schedules and runs",
                {"200": json_reply(ref("AppStats"), "stats"), **errors(404)},
                operationId="getAppStats",
            ),
        },
    }


def app_schemas() -> dict[str, Any]:
    """``App`` (with ``AppJob``), ``AppDeployment``, ``AppStats`` and ``AppDeleted`` from their
    models in :mod:`jobext.apps.shapes`; ``AppCreate`` and ``AppUpdate`` from the input
    models."""
    return {
        **components(App, AppDeployment, AppStats, AppDeleted),
        "AppCreate": AppCreate.model_json_schema(ref_template=REF + "{model}"),
        "AppUpdate": AppUpdate.model_json_schema(ref_template=REF + "{model}"),
    }
