"""The schedules part of the OpenAPI document (``jobext.http.openapi`` merges it in)."""

from __future__ import annotations

from typing import Any

from jobext.http.spec import (
    REF,
    components,
    errors,
    json_body,
    json_reply,
    links,
    op,
    page_of,
    paging,
    path,
    query,
    ref,
)
from jobext.schedules.manager import SCHEDULE_SORTS
from jobext.schedules.shapes import (
    Fire,
    Preview,
    PreviewRequest,
    Schedule,
    ScheduleCreate,
    ScheduleDeleted,
    ScheduleUpdate,
)

SCHEDULE = path("schedule_id", "schedule id")


def _links() -> dict[str, Any]:
    return links(
        "schedule_id",
        "$response.body#/id",
        (
            ("GetSchedule", "getSchedule", "the schedule"),
            ("UpdateSchedule", "updateSchedule", "change it"),
            ("PauseSchedule", "pauseSchedule", "stop it firing"),
            ("ResumeSchedule", "resumeSchedule", "fire again"),
            ("ScheduleFires", "listScheduleFires", "its log"),
            ("DeleteSchedule", "deleteSchedule", "delete it"),
        ),
    )


def schedule_paths() -> dict[str, Any]:
    """``/schedules…``."""
    one = json_reply(ref("Schedule"), "the schedule")
    return {
        "/schedules": {
            "get": op(
                "List schedules",
                {"200": json_reply(page_of(Schedule), "a page of schedules"), **errors(400)},
                operationId="listSchedules",
                parameters=[
                    *paging(SCHEDULE_SORTS),
                    query("job", "job name"),
                    query("active", "true or false", {"type": "boolean"}),
                ],
            ),
            "post": op(
                "Create a schedule",
                {"201": {**one, "links": _links()}, **errors(400, 404)},
                operationId="createSchedule",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": ref("ScheduleCreate"),
                            "examples": {
                                "weekdays": {
                                    "value": {
                                        "job": "nightly-etl",
                                        "cron": "0 6 * * 1-5",
                                        "timezone": "Europe/Berlin",
                                    }
                                }
                            },
                        }
                    },
                },
            ),
        },
        "/schedules/preview": {
            "post": op(
                "Fire times of a cron expression in a time zone, saving nothing",
                {
                    "200": json_reply(
                        ref("Preview"), "the fire times, in UTC and in the schedule's zone"
                    ),
                    **errors(400),
                },
                operationId="previewSchedule",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": ref("PreviewRequest"),
                            "examples": {
                                "dst": {
                                    "value": {
                                        "cron": "30 2 * * *",
                                        "timezone": "Europe/Berlin",
                                        "count": 5,
                                    }
                                }
                            },
                        }
                    },
                },
            ),
        },
        "/schedules/{schedule_id}": {
            "parameters": [SCHEDULE],
            "get": op(
                "One schedule with its next fire times",
                {"200": one, **errors(404)},
                operationId="getSchedule",
            ),
            "patch": op(
                "Change a schedule",
                {
                    "200": one,
                    **errors(400, 404, 409, e409="declared by an app's code: redeploy the app"),
                },
                operationId="updateSchedule",
                requestBody=json_body(ref("ScheduleUpdate")),
            ),
            "delete": op(
                "Delete a schedule and its log",
                {
                    "204": {"description": "deleted"},
                    **errors(404, 409, e409="declared by an app's code: redeploy the app"),
                },
                operationId="deleteSchedule",
            ),
        },
        "/schedules/{schedule_id}/pause": {
            "parameters": [SCHEDULE],
            "post": op("Stop firing", {"200": one, **errors(404)}, operationId="pauseSchedule"),
        },
        "/schedules/{schedule_id}/resume": {
            "parameters": [SCHEDULE],
            "post": op(
                "Fire again, from now on", {"200": one, **errors(404)}, operationId="resumeSchedule"
            ),
        },
        "/schedules/{schedule_id}/fires": {
            "parameters": [SCHEDULE],
            "get": op(
                "The schedule's log: each handled fire time and what came of it",
                {"200": json_reply(page_of(Fire), "a page of fires"), **errors(400, 404)},
                operationId="listScheduleFires",
                parameters=paging(("scheduled_for",))[:3],
            ),
        },
    }


def schedule_schemas() -> dict[str, Any]:
    """``Schedule``, ``Fire``, ``Preview`` and ``ScheduleDeleted`` from their models in
    :mod:`jobext.schedules.shapes`; ``ScheduleCreate``, ``ScheduleUpdate`` and
    ``PreviewRequest`` from the input models."""
    return {
        **components(Schedule, Fire, Preview, ScheduleDeleted),
        "ScheduleCreate": ScheduleCreate.model_json_schema(ref_template=REF + "{model}"),
        "ScheduleUpdate": ScheduleUpdate.model_json_schema(ref_template=REF + "{model}"),
        "PreviewRequest": PreviewRequest.model_json_schema(ref_template=REF + "{model}"),
    }
