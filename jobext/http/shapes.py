"""What the server-wide endpoints return: errors, ``/stats`` and ``/connections``."""

from __future__ import annotations

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from jobext.shapes import Output
from jobext.states import BatchStatus, RunStatus


class Error(Output):
    """Every error reply: jupyter_server's shape, plus ``field`` where one input is at fault."""

    message: str
    reason: str | None = None
    field: str | SkipJsonSchema[None] = Field(
        default=None, description="the input at fault (absent when no one input is)"
    )


class Stats(Output):
    """``GET /stats``: counts of jobs, apps, active schedules and live workers, and of batches
    and runs by status."""

    jobs: int
    apps: int
    schedules: int = Field(description="active ones")
    workers: int = Field(description="those not offline")
    batches: dict[BatchStatus, int]
    runs: dict[RunStatus, int]


class Connection(Output):
    """A database that saved-query jobs may use (never its password)."""

    name: str
    dialect: str
    driver: str
    host: str | None
    port: int | None
    database: str | None


class Connections(Output):
    """``GET /connections``."""

    items: list[Connection]
