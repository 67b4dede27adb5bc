"""Tornado handlers, one module per resource; :data:`ROUTES` lists them under the API base."""

from __future__ import annotations

from typing import Any

from jobext.apps.handlers import AppHandler, AppsHandler, AppStatsHandler
from jobext.batches.handlers import (
    BatchesHandler,
    BatchHandler,
    BatchStartHandler,
    BatchSteerHandler,
    JobBatchesHandler,
)
from jobext.http.feed import FeedHandler
from jobext.http.meta import ConnectionsHandler, OpenAPIHandler, StatsHandler
from jobext.jobs.handlers import JobHandler, JobRunsHandler, JobsHandler, JobStatsHandler
from jobext.runs.handlers import (
    RunActionHandler,
    RunEventsHandler,
    RunHandler,
    RunLogsHandler,
    RunRestartHandler,
    RunResultHandler,
    RunsHandler,
)
from jobext.schedules.handlers import (
    ScheduleActionHandler,
    ScheduleFiresHandler,
    ScheduleHandler,
    SchedulePreviewHandler,
    SchedulesHandler,
)
from jobext.workers.handlers import WorkerActionHandler, WorkerHandler, WorkersHandler

API = "jobext/api/v1"
_NAME = r"([^/]+)"

ROUTES: list[tuple[str, Any]] = [
    (rf"/{API}/jobs", JobsHandler),
    (rf"/{API}/jobs/{_NAME}", JobHandler),
    (rf"/{API}/jobs/{_NAME}/stats", JobStatsHandler),
    (rf"/{API}/jobs/{_NAME}/runs", JobRunsHandler),
    (rf"/{API}/runs", RunsHandler),
    (rf"/{API}/runs/{_NAME}", RunHandler),
    (rf"/{API}/runs/{_NAME}/(stop|pause|resume)", RunActionHandler),
    (rf"/{API}/runs/{_NAME}/restart", RunRestartHandler),
    (rf"/{API}/runs/{_NAME}/logs", RunLogsHandler),
    (rf"/{API}/runs/{_NAME}/events", RunEventsHandler),
    (rf"/{API}/runs/{_NAME}/result", RunResultHandler),
    (rf"/{API}/schedules", SchedulesHandler),
    (rf"/{API}/schedules/preview", SchedulePreviewHandler),
    (rf"/{API}/schedules/{_NAME}", ScheduleHandler),
    (rf"/{API}/schedules/{_NAME}/(pause|resume)", ScheduleActionHandler),
    (rf"/{API}/schedules/{_NAME}/fires", ScheduleFiresHandler),
    (rf"/{API}/jobs/{_NAME}/batches", JobBatchesHandler),
    (rf"/{API}/batches", BatchesHandler),
    (rf"/{API}/batches/{_NAME}", BatchHandler),
    (rf"/{API}/batches/{_NAME}/(start|unpause)", BatchStartHandler),
    (rf"/{API}/batches/{_NAME}/(stop|pause)", BatchSteerHandler),
    (rf"/{API}/apps", AppsHandler),
    (rf"/{API}/apps/{_NAME}", AppHandler),
    (rf"/{API}/apps/{_NAME}/stats", AppStatsHandler),
    (rf"/{API}/workers", WorkersHandler),
    (rf"/{API}/workers/{_NAME}", WorkerHandler),
    (rf"/{API}/workers/{_NAME}/(drain|resume)", WorkerActionHandler),
    (rf"/{API}/connections", ConnectionsHandler),
    (rf"/{API}/stats", StatsHandler),
    (rf"/{API}/openapi.json", OpenAPIHandler),
    (rf"/{API}/events", FeedHandler),
]
